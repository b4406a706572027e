package org.jploop.io;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;

/**
 * Sequential-write detector of one file: once a stream of writes is sequential, it asks the kernel
 * to start writing the data behind the writer back to disk ({@code sync_file_range(WRITE)}),
 * without waiting for it.
 *
 * <p>Why: the engine writes through the page cache and the kernel starts background writeback only
 * past {@code dirty_background_ratio} (10 % of RAM, 2.4 GiB on the reference machine). A 1 GiB
 * {@code dd conv=fsync} therefore first filled the page cache and then waited for the whole GiB in
 * fsync, one after the other. Starting writeback as the stream goes makes the two overlap; the
 * final fsync has little left to do. Durability is unchanged: only fsync promises anything, and
 * writing data early is what the kernel may do anyway at any time.
 *
 * <p>Every {@link #STEP_BYTES} written back to back are handed to writeback in one call. A write
 * that starts more than {@link #REORDER_BYTES} away from the end of the stream starts a new one;
 * random writes spread wider than that thus never gather a step and are left to the kernel, which
 * batches them better. Guarded by {@code this}.
 */
public final class WriteBehind {
  /** How many bytes written back to back are handed to writeback at once. */
  public static final long STEP_BYTES = 2 << 20;

  /**
   * How far from the end of the stream a write may start and still continue it: requests served by
   * several threads complete out of order (a loop device keeps two 1 MiB writes in flight).
   */
  public static final long REORDER_BYTES = 4 << 20;

  /** Receives the ranges to start writing back. */
  @FunctionalInterface
  public interface Hint {
    /** Starts writeback of {@code [pos, pos+len)} and returns without waiting for it. */
    void startWriteback(long pos, long len) throws IOException;
  }

  private final Hint hint;

  /** The furthest end written in this stream; -1 before the first write. */
  @GuardedBy("this")
  private long next = -1;

  /** Where the range to hand over next starts. */
  @GuardedBy("this")
  private long handedUpTo;

  /** Bytes written in this stream since the last hand-over. */
  @GuardedBy("this")
  private long unhanded;

  public WriteBehind(Hint hint) {
    this.hint = hint;
  }

  /**
   * Records a completed write of {@code len} bytes at {@code pos} and starts writeback of the
   * stream behind it when enough has gathered. A failing hint is ignored: this is advice.
   */
  public void onWrite(long pos, long len) {
    if (len <= 0) {
      return;
    }
    long end = pos + len;
    long from;
    long to;
    synchronized (this) {
      if (next >= 0 && Math.abs(pos - next) <= REORDER_BYTES) {
        next = Math.max(next, end);
        handedUpTo = Math.min(handedUpTo, pos);
        unhanded += len;
      } else {
        handedUpTo = pos;
        next = end;
        unhanded = len;
      }
      if (unhanded < STEP_BYTES) {
        return;
      }
      from = handedUpTo;
      to = next;
      handedUpTo = next;
      unhanded = 0;
    }
    try {
      hint.startWriteback(from, to - from);
    } catch (IOException | RuntimeException e) {
      // advice only: fsync and the kernel's own writeback still write everything
    }
  }
}
