package org.jploop.engine;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import org.jploop.io.BlockFile;

/**
 * A {@link VirtualDisk} on a raw ({@code <Type>Plain</Type>}) base image: the file is the disk,
 * byte for byte. Punch and zero-range punch the file. No locking is needed: {@link BlockFile} is
 * positional and thread-safe, and the flush counter is atomic (flushes from several FUSE workers
 * each count).
 */
public final class RawDisk implements VirtualDisk {
  private final BlockFile file;
  private final long size;
  private final AtomicLong flushes = new AtomicLong();

  /** Wraps {@code file}, whose current length is the disk size. */
  public RawDisk(BlockFile file) throws IOException {
    this.file = file;
    this.size = file.size();
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public boolean readOnly() {
    return file.readOnly();
  }

  @Override
  public void read(ByteBuffer dst, long offset) throws IOException {
    checkRange(offset, dst.remaining());
    file.read(dst, offset);
  }

  @Override
  public void write(ByteBuffer src, long offset) throws IOException {
    checkRange(offset, src.remaining());
    file.write(src, offset);
  }

  @Override
  public void punchHole(long offset, long length) throws IOException {
    checkRange(offset, length);
    file.punchHole(offset, length);
  }

  @Override
  public void zeroRange(long offset, long length) throws IOException {
    checkRange(offset, length);
    file.punchHole(offset, length);
  }

  @Override
  public void flush() throws IOException {
    file.force();
    flushes.incrementAndGet();
  }

  @Override
  public boolean takeEnospcEvent() {
    return false;
  }

  @Override
  public DiskStats stats() {
    long fileSize;
    try {
      fileSize = file.size();
    } catch (IOException e) {
      fileSize = -1;
    }
    return new DiskStats(0, 0, 0, 0, 0, flushes.get(), 0, fileSize, fileSize, 0, 0);
  }

  private void checkRange(long offset, long length) throws EOFException {
    if (offset < 0 || length < 0 || offset + length > size) {
      throw new EOFException(
          file.path()
              + ": range ["
              + offset
              + ", "
              + (offset + length)
              + ") is outside the disk of "
              + size
              + " bytes");
    }
  }

  @Override
  public void close() throws IOException {
    if (!file.readOnly()) {
      file.force();
    }
    file.close();
  }
}
