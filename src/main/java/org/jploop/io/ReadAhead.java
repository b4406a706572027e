package org.jploop.io;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;

/**
 * Sequential-read detector of one file: after each read it decides whether to ask the kernel to
 * read ahead ({@code posix_fadvise(WILLNEED)}), and for which byte range.
 *
 * <p>Why we do this instead of leaving it to the kernel's own read-ahead: on the reference machine
 * (kernel 6.18, read_ahead_kb 8192) copies out of page-cache folios that the kernel's read-ahead
 * had just filled were intermittently 5 to 10 times slower than usual (sys time 0.12 s to 1.44 s
 * per GiB for the same buffered read; perf shows {@code _copy_to_iter}). Pages read in by {@code
 * WILLNEED} never showed that (0.29 to 0.37 s per GiB over 12 runs), and once they are cached the
 * kernel's read-ahead finds nothing to do. See {@code src/bench/README.md}.
 *
 * <p>A stream counts as sequential once {@link #TRIGGER_BYTES} have been read back to back; from
 * then on the detector keeps {@link #WINDOW_BYTES} ahead of the reader, topping up in steps of at
 * least half a window so there are few calls. Any jump resets it. Guarded by {@code this}: the FUSE
 * thread is the usual caller, but offline operations may read from several threads; calls are cheap
 * and uncontended.
 */
public final class ReadAhead {
  /** Bytes read back to back before the stream counts as sequential. */
  public static final long TRIGGER_BYTES = 256 << 10;

  /** How far ahead of the reader the kernel is asked to have the file in memory. */
  public static final long WINDOW_BYTES = 8 << 20;

  /** Receives the ranges to read ahead. */
  @FunctionalInterface
  public interface Hint {
    /** Asks for {@code [pos, pos+len)} to be read into memory in the background. */
    void willNeed(long pos, long len) throws IOException;
  }

  private final Hint hint;

  /** Where the next read must start to continue the stream; -1 before the first read. */
  @GuardedBy("this")
  private long next = -1;

  /** Bytes read back to back so far in this stream. */
  @GuardedBy("this")
  private long streak;

  /** Everything before this offset has been asked for already. */
  @GuardedBy("this")
  private long requestedUpTo;

  public ReadAhead(Hint hint) {
    this.hint = hint;
  }

  /**
   * Records a completed read of {@code len} bytes at {@code pos} and asks for more of the file if
   * the stream is sequential. A failing hint is ignored: read-ahead is advice.
   */
  public void onRead(long pos, long len) {
    if (len <= 0) {
      return;
    }
    long end = pos + len;
    long from;
    long to;
    synchronized (this) {
      if (pos == next) {
        streak += len;
      } else {
        streak = len;
        requestedUpTo = end;
      }
      next = end;
      if (streak < TRIGGER_BYTES || requestedUpTo - end >= WINDOW_BYTES / 2) {
        return;
      }
      from = Math.max(requestedUpTo, end);
      to = end + WINDOW_BYTES;
      requestedUpTo = to;
    }
    try {
      hint.willNeed(from, to - from);
    } catch (IOException | RuntimeException e) {
      // advice only: the read itself will fetch what is missing
    }
  }
}
