package org.jploop.daemon;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jploop.engine.DiskStats;
import org.jploop.engine.VirtualDisk;

/**
 * The {@link VirtualDisk} the mount daemon serves while online operations may replace the disk
 * under it (dm-style suspend / reload / resume). Every call takes the read side of a fair {@link
 * ReentrantReadWriteLock}, the "suspend gate", for its whole duration; {@link #suspended} takes the
 * write side, which waits for the calls in progress to finish and makes new calls wait, in arrival
 * order, until the new disk is in place. The kernel keeps queueing FUSE requests meanwhile, so no
 * request in flight is lost or reordered. The daemon's front end holds the read side ({@link
 * #admission}) for a whole FUSE callback, so a callback that makes several calls (size, then read)
 * sees one disk.
 *
 * <p>Inside the gate, writes, punches and zero-ranges also pass the {@link WriteFreeze} of a live
 * copy, which holds them back (reads go on) during its frozen passes.
 *
 * <p>The gate guards {@link #current}, {@link #failure} and {@link #lastSize}: they change only
 * under its write side. Their {@code @GuardedBy("gate")} documents this only: Error Prone's
 * GuardedBy check does not flag an unguarded access to a field guarded by a {@link
 * ReentrantReadWriteLock} (measured with 2.42.0). If an operation could neither finish nor reopen
 * the previous disk, the holder is {@link #fail failed}: every call then throws an IOException (EIO
 * to the kernel) instead of serving stale state.
 */
public final class SwappableDisk implements VirtualDisk {
  /** What runs while the gate is closed. */
  @FunctionalInterface
  public interface Reload {
    /** Given the disk served until now, returns the disk to serve from now on. */
    VirtualDisk reload(VirtualDisk current) throws IOException;
  }

  private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock(true);

  /** Guarded by gate. */
  @GuardedBy("gate")
  private VirtualDisk current;

  /** Guarded by gate; non-null once the disk could not be reopened. */
  @GuardedBy("gate")
  private IOException failure;

  /** Guarded by gate: the size last served, kept after a failure for getattr. */
  @GuardedBy("gate")
  private long lastSize;

  /** The statistics last read, kept after a failure for the status file. */
  private volatile DiskStats lastStats;

  private final boolean readOnly;

  /** Holds writes back during a live copy's frozen passes. */
  private final WriteFreeze writeFreeze = new WriteFreeze();

  /** Serves {@code initial}. */
  public SwappableDisk(VirtualDisk initial) {
    this.current = initial;
    this.lastSize = initial.size();
    this.readOnly = initial.readOnly();
    this.lastStats = initial.stats();
  }

  /**
   * Closes the gate, runs {@code reload} with the current disk and serves what it returns. {@code
   * reload} owns the current disk (it normally closes it first); if it throws, nothing sound is
   * left to serve, so the holder {@link #fail fails} with that error, which is rethrown. A reload
   * whose operation failed but which could reopen the previous chain returns that disk instead.
   */
  public void suspended(Reload reload) throws IOException {
    gate.writeLock().lock();
    try {
      VirtualDisk next;
      try {
        next = reload.reload(live());
      } catch (IOException | RuntimeException | Error e) {
        failure = e instanceof IOException io ? io : new IOException(e.toString(), e);
        current = null;
        throw e;
      }
      current = next;
      lastSize = next.size();
    } finally {
      gate.writeLock().unlock();
    }
  }

  /**
   * From inside {@link #suspended} (gate closed) or on its own: from now on every call fails with
   * an I/O error naming {@code cause}. The disk in place, if any, is no longer used.
   */
  public void fail(IOException cause) {
    gate.writeLock().lock();
    try {
      failure = cause;
      current = null;
    } finally {
      gate.writeLock().unlock();
    }
  }

  /**
   * Returns the read side of the gate, for a caller that makes several calls which must all reach
   * the same disk (a FUSE request). Reentrant: the calls made while holding it take it again
   * without waiting.
   */
  public java.util.concurrent.locks.Lock admission() {
    return gate.readLock();
  }

  /** Returns the write freeze of a live copy ({@link CopyTracking}). */
  public WriteFreeze writeFreeze() {
    return writeFreeze;
  }

  /** Runs {@code f} on the disk served now, with the gate's read side held. */
  public <T> T withDisk(DiskFunction<T> f) throws IOException {
    gate.readLock().lock();
    try {
      return f.apply(live());
    } finally {
      gate.readLock().unlock();
    }
  }

  /** A function of the disk served. */
  @FunctionalInterface
  public interface DiskFunction<T> {
    T apply(VirtualDisk d) throws IOException;
  }

  /** Returns whether the holder has failed. */
  public boolean failed() {
    gate.readLock().lock();
    try {
      return failure != null;
    } finally {
      gate.readLock().unlock();
    }
  }

  private VirtualDisk live() throws IOException {
    if (failure != null) {
      throw new IOException(
          "the disk is unavailable after a failed online operation: " + failure.getMessage(),
          failure);
    }
    return current;
  }

  @Override
  public long size() {
    gate.readLock().lock();
    try {
      return current == null ? lastSize : current.size();
    } finally {
      gate.readLock().unlock();
    }
  }

  @Override
  public boolean readOnly() {
    return readOnly;
  }

  @Override
  public void read(ByteBuffer dst, long offset) throws IOException {
    gate.readLock().lock();
    try {
      live().read(dst, offset);
    } finally {
      gate.readLock().unlock();
    }
  }

  @Override
  public void write(ByteBuffer src, long offset) throws IOException {
    gate.readLock().lock();
    try {
      writeFreeze.enter();
      try {
        live().write(src, offset);
      } finally {
        writeFreeze.exit();
      }
    } finally {
      gate.readLock().unlock();
    }
  }

  @Override
  public void punchHole(long offset, long length) throws IOException {
    gate.readLock().lock();
    try {
      writeFreeze.enter();
      try {
        live().punchHole(offset, length);
      } finally {
        writeFreeze.exit();
      }
    } finally {
      gate.readLock().unlock();
    }
  }

  @Override
  public void zeroRange(long offset, long length) throws IOException {
    gate.readLock().lock();
    try {
      writeFreeze.enter();
      try {
        live().zeroRange(offset, length);
      } finally {
        writeFreeze.exit();
      }
    } finally {
      gate.readLock().unlock();
    }
  }

  @Override
  public void flush() throws IOException {
    gate.readLock().lock();
    try {
      live().flush();
    } finally {
      gate.readLock().unlock();
    }
  }

  @Override
  public boolean takeEnospcEvent() {
    gate.readLock().lock();
    try {
      return current != null && current.takeEnospcEvent();
    } finally {
      gate.readLock().unlock();
    }
  }

  @Override
  public DiskStats stats() {
    gate.readLock().lock();
    try {
      if (current != null) {
        lastStats = current.stats();
      }
      return lastStats;
    } finally {
      gate.readLock().unlock();
    }
  }

  /** Closes the disk served, if any (a failed holder has none). */
  @Override
  public void close() throws IOException {
    gate.writeLock().lock();
    try {
      if (current != null) {
        current.close();
        current = null;
        if (failure == null) {
          failure = new IOException("the disk is closed");
        }
      }
    } finally {
      gate.writeLock().unlock();
    }
  }
}
