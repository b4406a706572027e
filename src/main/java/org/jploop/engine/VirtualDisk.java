package org.jploop.engine;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The flat virtual disk that {@code disk.img} shows: a byte array of {@link #size()} bytes backed
 * by image files. The FUSE front end calls it from its request threads; every implementation is
 * thread-safe.
 *
 * <p>Contract, for every implementation:
 *
 * <ol>
 *   <li>Offsets and lengths are in bytes and need no alignment. A range that ends past {@link
 *       #size()} is refused with {@link java.io.EOFException}; nothing is done.
 *   <li>After {@link #punchHole} or {@link #zeroRange} returns, the range reads as zeros.
 *   <li>{@link #flush()} is the durability barrier: every write, punch and zero-range that returned
 *       before it started survives a crash once it returns.
 *   <li>A full host filesystem is reported as {@link org.jploop.io.NoSpaceException} only after the
 *       implementation's own waiting and retrying (ENOSPC parking) gave up.
 *   <li>{@link #close()} is a clean shutdown: flush, trim preallocated space, mark the image
 *       cleanly closed. A crash instead of close leaves the image "in use" for {@code ploop check}.
 * </ol>
 */
public interface VirtualDisk extends Closeable {

  /** Returns the disk size in bytes. */
  long size();

  /** Returns whether writes, punches and zero-ranges are refused. */
  boolean readOnly();

  /** Reads {@code dst.remaining()} bytes at {@code offset} into {@code dst}. */
  void read(ByteBuffer dst, long offset) throws IOException;

  /** Writes the remaining bytes of {@code src} at {@code offset}. */
  void write(ByteBuffer src, long offset) throws IOException;

  /** Deallocates the range (fallocate PUNCH_HOLE|KEEP_SIZE, what fstrim sends). */
  void punchHole(long offset, long length) throws IOException;

  /** Zeroes the range (fallocate ZERO_RANGE, what {@code blkdiscard -z} sends). */
  void zeroRange(long offset, long length) throws IOException;

  /** Makes everything acknowledged so far durable. */
  void flush() throws IOException;

  /**
   * Returns true once for each ENOSPC event not yet taken: set whenever a write had to be parked
   * because the host filesystem was full, cleared by this call. An event raised after the previous
   * call returned is always reported by the next one.
   */
  boolean takeEnospcEvent();

  /** Returns a snapshot of the counters. */
  DiskStats stats();
}
