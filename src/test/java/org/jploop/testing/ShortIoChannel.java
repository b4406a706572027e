package org.jploop.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Random;

/**
 * A FileChannel over a real one whose positional reads and writes move a random, often tiny, prefix
 * of what was asked (at least one byte), as a kernel may under signals or on some filesystems:
 * kernel-driver-behaviour.md §9 scenario 15. Counts the short calls so a test can show it really
 * cut requests. Not thread-safe in its statistics only.
 */
public final class ShortIoChannel extends FileChannel {
  private final FileChannel real;
  private final Random random;
  private long shortCalls;

  /** Cuts the requests to {@code real}, with sizes drawn from {@code random}. */
  public ShortIoChannel(FileChannel real, Random random) {
    this.real = real;
    this.random = random;
  }

  /** Returns how many reads and writes moved less than asked. */
  public synchronized long shortCalls() {
    return shortCalls;
  }

  private synchronized int cut(int remaining) {
    if (remaining <= 1 || random.nextInt(4) == 0) {
      return remaining;
    }
    shortCalls++;
    int n =
        random.nextBoolean()
            ? 1 + random.nextInt(Math.min(remaining - 1, 600))
            : 1 + random.nextInt(remaining - 1);
    return n;
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    int n = cut(dst.remaining());
    ByteBuffer part = dst.slice(dst.position(), n);
    int got = real.read(part, position);
    if (got > 0) {
      dst.position(dst.position() + got);
    }
    return got;
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    int n = cut(src.remaining());
    ByteBuffer part = src.slice(src.position(), n);
    int put = real.write(part, position);
    src.position(src.position() + put);
    return put;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return real.read(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return real.read(dsts, offset, length);
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    return real.write(src);
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    return real.write(srcs, offset, length);
  }

  @Override
  public long position() throws IOException {
    return real.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    real.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return real.size();
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    real.truncate(size);
    return this;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    real.force(metaData);
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
    return real.transferTo(position, count, target);
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
    return real.transferFrom(src, position, count);
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    return real.map(mode, position, size);
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return real.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return real.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    real.close();
  }
}
