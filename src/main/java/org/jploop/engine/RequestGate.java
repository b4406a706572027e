package org.jploop.engine;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Admission of requests to one open disk, the part of dm core in front of the target: range and
 * writability checks, the suspend gate that {@code close()} shuts (held shared by every request,
 * exclusively by close, as {@code dm_suspend} waits for in-flight bios), and the split of a request
 * into per-cluster pieces ({@code max_io_len} = one cluster).
 *
 * <p>{@link #closing} is volatile; the gate is a non-fair {@link ReentrantReadWriteLock}.
 */
final class RequestGate {
  /** A per-cluster piece of a request. */
  @FunctionalInterface
  interface Piece {
    void run(long cluster, int inOff, int len, int bufPos) throws IOException;
  }

  private final Path name;
  private final long size;
  private final long clusterBytes;
  private final boolean readOnly;
  private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
  private volatile boolean closing;

  RequestGate(Path name, long size, long clusterBytes, boolean readOnly) {
    this.name = name;
    this.size = size;
    this.clusterBytes = clusterBytes;
    this.readOnly = readOnly;
  }

  /** Admits one request (shared side of the gate); refused once closing. */
  void enter() throws IOException {
    gate.readLock().lock();
    if (closing) {
      gate.readLock().unlock();
      throw new IOException(name + ": disk is closed");
    }
  }

  /** Ends a request admitted by {@link #enter}. */
  void exit() {
    gate.readLock().unlock();
  }

  /** Returns whether close has begun (parked requests give up). */
  boolean closing() {
    return closing;
  }

  /** Refuses new requests from now on; the caller then {@link #shut}s the gate. */
  void beginClose() {
    closing = true;
  }

  /** Waits for the requests in progress and holds the gate exclusively. */
  void shut() {
    gate.writeLock().lock();
  }

  /** Releases the exclusive hold of {@link #shut}. */
  void release() {
    gate.writeLock().unlock();
  }

  /** Refuses a range that does not lie inside the disk. */
  void checkRange(long offset, long length) throws EOFException {
    if (offset < 0 || length < 0 || length > size - offset) {
      throw new EOFException(
          name
              + ": range offset "
              + offset
              + " length "
              + length
              + " is outside the disk of "
              + size
              + " bytes");
    }
  }

  /** Refuses a change on a read-only disk. */
  void checkWritable() throws IOException {
    if (readOnly) {
      throw new IOException(name + ": disk is open read-only");
    }
  }

  /** Runs {@code piece} for every cluster-bounded piece of {@code [offset, offset+length)}. */
  void split(long offset, long length, Piece piece) throws IOException {
    long pos = offset;
    long end = offset + length;
    int bufPos = 0;
    while (pos < end) {
      long c = pos / clusterBytes;
      int inOff = (int) (pos % clusterBytes);
      int n = (int) Math.min(clusterBytes - inOff, end - pos);
      piece.run(c, inOff, n, bufPos);
      pos += n;
      bufPos += n;
    }
  }
}
