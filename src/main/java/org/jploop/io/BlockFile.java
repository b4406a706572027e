package org.jploop.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A file of bytes addressed by offset, as the engine sees an image: positional reads and writes,
 * durability barrier, size changes and hole punching. The real one is {@link FileBlockFile}; tests
 * put a layer under the engine that drops unsynced writes to simulate a crash.
 *
 * <p>All methods are safe to call from several threads at once. Errors are IOExceptions whose
 * message names the file, the offset and the length; a full host filesystem is reported as {@link
 * NoSpaceException}.
 */
public interface BlockFile extends Closeable {

  /** Returns the path of the file, for messages. */
  Path path();

  /** Returns whether writes are refused. */
  boolean readOnly();

  /** Returns the current length of the file in bytes. */
  long size() throws IOException;

  /**
   * Reads {@code dst.remaining()} bytes at {@code pos}. Bytes past the end of the file read as
   * zeros. On return {@code dst} has no bytes remaining.
   */
  void read(ByteBuffer dst, long pos) throws IOException;

  /** Writes all remaining bytes of {@code src} at {@code pos}, extending the file if needed. */
  void write(ByteBuffer src, long pos) throws IOException;

  /** Makes every completed write, size change and punch durable (fsync). */
  void force() throws IOException;

  /** Sets the file length to exactly {@code size} bytes, growing sparsely or cutting the tail. */
  void truncate(long size) throws IOException;

  /** Deallocates {@code [pos, pos+len)} so it reads as zeros; the file size does not change. */
  void punchHole(long pos, long len) throws IOException;

  /**
   * Reserves real space for {@code [pos, pos+len)} (fallocate mode 0), extending the file if the
   * range ends past it. Throws {@link NoSpaceException} when the host filesystem is full.
   */
  void allocate(long pos, long len) throws IOException;
}
