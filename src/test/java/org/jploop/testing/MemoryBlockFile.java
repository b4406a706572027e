package org.jploop.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jploop.io.BlockFile;

/**
 * An in-memory, sparse {@link BlockFile}: 4 KiB blocks in a sorted map, absent blocks read as
 * zeros. Counts operations and lets a test inject errors (or block) on chosen operations through a
 * {@link Fault}. All methods are synchronized on the file.
 */
public class MemoryBlockFile implements BlockFile {
  /** Block size of the sparse store. */
  public static final int BLOCK = 4096;

  /** Decides, before an operation takes effect, whether it fails; may also block. */
  @FunctionalInterface
  public interface Fault {
    /**
     * Returns the error for {@code op} ("read", "write", "force", "truncate", "punch", "allocate")
     * at {@code pos}/{@code len}, or null to let it run.
     */
    IOException check(String op, long pos, long len) throws IOException;
  }

  private final Path path;
  private final boolean readOnly;
  private final TreeMap<Long, byte[]> blocks = new TreeMap<>();
  private long size;
  private volatile Fault fault;
  private boolean closed;
  public final AtomicLong writes = new AtomicLong();
  public final AtomicLong forces = new AtomicLong();
  public final AtomicLong punches = new AtomicLong();
  public final AtomicLong truncates = new AtomicLong();

  public MemoryBlockFile(String name) {
    this(Path.of("mem", name), false);
  }

  public MemoryBlockFile(Path path, boolean readOnly) {
    this.path = path;
    this.readOnly = readOnly;
  }

  /** Returns an independent copy of the contents, optionally read-only. */
  public synchronized MemoryBlockFile copy(boolean ro) {
    MemoryBlockFile m = new MemoryBlockFile(path, ro);
    for (Map.Entry<Long, byte[]> e : blocks.entrySet()) {
      m.blocks.put(e.getKey(), e.getValue().clone());
    }
    m.size = size;
    return m;
  }

  /** Sets (or with null clears) the fault hook. */
  public void setFault(Fault f) {
    this.fault = f;
  }

  /** Returns the bytes really stored (non-sparse 4 KiB blocks). */
  public synchronized long allocatedBytes() {
    return (long) blocks.size() * BLOCK;
  }

  /** Returns whether the file was closed. */
  public synchronized boolean isClosed() {
    return closed;
  }

  private void hook(String op, long pos, long len) throws IOException {
    Fault f = fault;
    if (f != null) {
      IOException e = f.check(op, pos, len);
      if (e != null) {
        throw e;
      }
    }
  }

  @Override
  public Path path() {
    return path;
  }

  @Override
  public boolean readOnly() {
    return readOnly;
  }

  @Override
  public synchronized long size() {
    return size;
  }

  @Override
  public void read(ByteBuffer dst, long pos) throws IOException {
    hook("read", pos, dst.remaining());
    synchronized (this) {
      long p = pos;
      while (dst.hasRemaining()) {
        long bi = Math.floorDiv(p, BLOCK);
        int off = (int) (p - bi * BLOCK);
        int n = Math.min(BLOCK - off, dst.remaining());
        byte[] b = p < size ? blocks.get(bi) : null;
        int valid = (int) Math.max(0, Math.min(n, size - p));
        if (b != null && valid > 0) {
          dst.put(b, off, valid);
        } else {
          for (int i = 0; i < valid; i++) {
            dst.put((byte) 0);
          }
        }
        for (int i = valid; i < n; i++) {
          dst.put((byte) 0);
        }
        p += n;
      }
    }
  }

  @Override
  public void write(ByteBuffer src, long pos) throws IOException {
    checkWritable();
    hook("write", pos, src.remaining());
    synchronized (this) {
      writes.incrementAndGet();
      long p = pos;
      while (src.hasRemaining()) {
        long bi = Math.floorDiv(p, BLOCK);
        int off = (int) (p - bi * BLOCK);
        int n = Math.min(BLOCK - off, src.remaining());
        byte[] b = blocks.computeIfAbsent(bi, k -> new byte[BLOCK]);
        src.get(b, off, n);
        p += n;
      }
      size = Math.max(size, p);
    }
  }

  @Override
  public void force() throws IOException {
    hook("force", 0, 0);
    forces.incrementAndGet();
  }

  @Override
  public void truncate(long newSize) throws IOException {
    checkWritable();
    hook("truncate", newSize, 0);
    synchronized (this) {
      truncates.incrementAndGet();
      if (newSize < size) {
        zero(newSize, size - newSize);
      }
      size = newSize;
    }
  }

  @Override
  public void punchHole(long pos, long len) throws IOException {
    checkWritable();
    hook("punch", pos, len);
    synchronized (this) {
      punches.incrementAndGet();
      zero(pos, len);
    }
  }

  @Override
  public void allocate(long pos, long len) throws IOException {
    checkWritable();
    hook("allocate", pos, len);
    synchronized (this) {
      size = Math.max(size, pos + len);
    }
  }

  /** Zeroes [pos, pos+len), dropping whole blocks. */
  private void zero(long pos, long len) {
    long end = pos + len;
    long p = pos;
    while (p < end) {
      long bi = Math.floorDiv(p, BLOCK);
      int off = (int) (p - bi * BLOCK);
      int n = (int) Math.min(BLOCK - off, end - p);
      if (off == 0 && n == BLOCK) {
        blocks.remove(bi);
      } else {
        byte[] b = blocks.get(bi);
        if (b != null) {
          java.util.Arrays.fill(b, off, off + n, (byte) 0);
        }
      }
      p += n;
    }
  }

  private void checkWritable() throws IOException {
    if (readOnly) {
      throw new IOException(path + ": read-only");
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
  }
}
