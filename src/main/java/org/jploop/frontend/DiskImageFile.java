package org.jploop.frontend;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.jploop.engine.VirtualDisk;
import org.jploop.host.EventLog;

/**
 * What {@code disk.img} means, the same for every front end: the one regular file in the FUSE
 * directory, showing one {@link VirtualDisk}. A front end decodes the kernel's request, calls one
 * method here and encodes the result; each method returns a byte count or 0, or {@code -errno}, and
 * never throws.
 *
 * <p>Semantics: reads are clamped at the end of the disk (a short read means EOF); writes,
 * fallocate and any open for writing are EROFS on a read-only disk; fallocate PUNCH_HOLE|KEEP_SIZE
 * is {@link VirtualDisk#punchHole}, ZERO_RANGE[|KEEP_SIZE] is {@link VirtualDisk#zeroRange}, each
 * clamped to the disk, every other mode EOPNOTSUPP (never ENOSYS: the kernel would stop sending
 * fallocate, and the loop device would stop discarding); the size never changes through the file
 * (truncate to the same size succeeds, any other is EPERM, EROFS if read-only); FLUSH and FSYNC are
 * the disk's durability barrier, {@link #barrier}. Failures of the disk become an errno by {@link
 * Errno#of} and are counted and logged, the first {@value #LOGGED_ERRORS} each and then every
 * 1000th.
 *
 * <p>Locks: every method that touches the disk holds {@code admission} (the read side of the
 * daemon's suspend gate) from its first disk call to its last, so an online operation waits for the
 * requests in progress and each request sees one disk. {@link #barrier} also takes {@code
 * barrierLock} inside it; it guards {@code durableMark}. The counters are atomics.
 */
public final class DiskImageFile {
  /** The one file's name. */
  public static final String NAME = "disk.img";

  /** fallocate mode bits (linux/falloc.h). */
  public static final int FALLOC_FL_KEEP_SIZE = 0x01;

  public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
  public static final int FALLOC_FL_ZERO_RANGE = 0x10;

  /** open(2) flag bits (asm-generic/fcntl.h). */
  public static final int O_ACCMODE = 3;

  public static final int O_RDONLY = 0;
  public static final int O_TRUNC = 01000;

  /** The file's mode: owner read/write only. */
  public static final int FILE_MODE = 0100600;

  /** The FUSE directory's mode. */
  public static final int DIR_MODE = 040755;

  /** st_blksize and the statfs block size. */
  public static final int BLOCK = 4096;

  /** Every failure is logged up to this count, then every 1000th. */
  static final long LOGGED_ERRORS = 100;

  private final VirtualDisk disk;
  private final Lock admission;
  private final long uid;
  private final long gid;
  private final long mountTime = System.currentTimeMillis() / 1000;
  private final EventLog log;
  private final AtomicLong errors = new AtomicLong();

  /** Writes, punches and zero-ranges that have returned (successfully or not). */
  private final AtomicLong mutations = new AtomicLong();

  /** Barriers answered without an engine flush: nothing was written since the last one. */
  private final AtomicLong barriersSkipped = new AtomicLong();

  private final Lock barrierLock = new ReentrantLock();

  /** Guarded by barrierLock: every mutation counted up to this value is durable. */
  @GuardedBy("barrierLock")
  private long durableMark;

  /**
   * Shows {@code disk}; each disk call holds {@code admission}; the file and the directory are
   * owned by {@code uid:gid}; failures are logged to {@code log}.
   */
  public DiskImageFile(VirtualDisk disk, Lock admission, long uid, long gid, EventLog log) {
    this.disk = disk;
    this.admission = admission;
    this.uid = uid;
    this.gid = gid;
    this.log = log;
  }

  /** Returns the owner's uid. */
  public long uid() {
    return uid;
  }

  /** Returns the owner's gid. */
  public long gid() {
    return gid;
  }

  /** Returns the mount time (seconds since the epoch): atime, mtime and ctime of both nodes. */
  public long mountTime() {
    return mountTime;
  }

  /** Returns whether the disk is read-only. */
  public boolean readOnly() {
    return disk.readOnly();
  }

  /** Returns the file size, or {@code -errno}. */
  public long size() {
    admission.lock();
    try {
      return disk.size();
    } catch (Throwable t) {
      return fail("getattr", 0, 0, t);
    } finally {
      admission.unlock();
    }
  }

  /** Returns how many requests failed because the disk failed. */
  public long errorCount() {
    return errors.get();
  }

  /** Returns how many FLUSH/FSYNC barriers cost no engine flush. */
  public long barriersSkipped() {
    return barriersSkipped.get();
  }

  /** Checks an open(2) of the file with {@code flags}: 0, or EROFS, or EPERM for O_TRUNC. */
  public int open(int flags) {
    if (readOnly() && (flags & O_ACCMODE) != O_RDONLY) {
      return -Errno.EROFS;
    }
    if ((flags & O_TRUNC) != 0) {
      return truncate(0);
    }
    return 0;
  }

  /**
   * Reads into {@code dst} (its remaining bytes are the request) at {@code offset}, clamped to the
   * end of the disk; returns the bytes read (0 at or past the end).
   */
  public int read(ByteBuffer dst, long offset) {
    admission.lock();
    try {
      long size = disk.size();
      int want = dst.remaining();
      if (offset >= size || want <= 0) {
        return 0;
      }
      int n = (int) Math.min(want, size - offset);
      disk.read(n == want ? dst : dst.limit(dst.position() + n), offset);
      return n;
    } catch (Throwable t) {
      return fail("read", offset, dst.remaining(), t);
    } finally {
      admission.unlock();
    }
  }

  /** Writes the remaining bytes of {@code src} at {@code offset}; returns their count. */
  public int write(ByteBuffer src, long offset) {
    int n = src.remaining();
    if (readOnly()) {
      return -Errno.EROFS;
    }
    admission.lock();
    try {
      disk.write(src, offset);
      return n;
    } catch (Throwable t) {
      return fail("write", offset, n, t);
    } finally {
      mutations.incrementAndGet();
      admission.unlock();
    }
  }

  /** fallocate(2) on the file; see the class comment for the modes. */
  public int fallocate(int mode, long offset, long length) {
    boolean punch = mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
    boolean zero =
        mode == FALLOC_FL_ZERO_RANGE || mode == (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
    if (!punch && !zero) {
      return -Errno.EOPNOTSUPP;
    }
    if (readOnly()) {
      return -Errno.EROFS;
    }
    if (offset < 0 || length <= 0) {
      return -Errno.EINVAL;
    }
    admission.lock();
    try {
      long end = Math.min(disk.size(), offset + length);
      if (offset >= end) {
        return 0;
      }
      if (punch) {
        disk.punchHole(offset, end - offset);
      } else {
        disk.zeroRange(offset, end - offset);
      }
      return 0;
    } catch (Throwable t) {
      return fail("fallocate mode=0x" + Integer.toHexString(mode), offset, length, t);
    } finally {
      mutations.incrementAndGet();
      admission.unlock();
    }
  }

  /**
   * FLUSH or FSYNC ({@code op} names it in the log): makes every write, punch and zero-range that
   * returned before this call durable. The engine is flushed only if one returned since the last
   * completed barrier, so a close after reading, or a second fsync, costs nothing; concurrent
   * barriers share one engine flush when that flush started after they arrived (group commit).
   */
  public int barrier(String op) {
    if (readOnly()) {
      return 0;
    }
    long wanted = mutations.get();
    admission.lock();
    try {
      barrierLock.lock();
      try {
        if (durableMark >= wanted) {
          barriersSkipped.incrementAndGet();
          return 0;
        }
        long mark = mutations.get();
        disk.flush();
        durableMark = mark;
        return 0;
      } finally {
        barrierLock.unlock();
      }
    } catch (Throwable t) {
      return fail(op, 0, 0, t);
    } finally {
      admission.unlock();
    }
  }

  /** truncate(2) to {@code size}: only the current size is accepted. */
  public int truncate(long size) {
    long current = size();
    if (current < 0) {
      return (int) current;
    }
    if (size == current) {
      return 0;
    }
    return readOnly() ? -Errno.EROFS : -Errno.EPERM;
  }

  /**
   * Counts and logs (rate-limited) the failure of {@code op} on [offset, offset+length) and returns
   * {@code -errno} for it.
   */
  public int fail(String op, long offset, long length, Throwable t) {
    long n = errors.incrementAndGet();
    int errno = Errno.of(t);
    if (n > LOGGED_ERRORS && n % 1000 != 0) {
      return -errno;
    }
    String prefix = n > LOGGED_ERRORS ? "(error " + n + ", logging every 1000th) " : "";
    log.error(
        prefix + op + " offset=" + offset + " length=" + length + " -> " + Errno.name(errno), t);
    return -errno;
  }
}
