package org.jploop.frontend.jnrfuse;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import jnr.ffi.Pointer;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import org.jploop.engine.VirtualDisk;
import org.jploop.frontend.Errno;
import org.jploop.host.EventLog;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;

/**
 * The FUSE file system that shows one {@link VirtualDisk} as the flat file {@code /disk.img}:
 * reads and writes go to the disk with no copy, fallocate PUNCH_HOLE|KEEP_SIZE and ZERO_RANGE
 * become {@link VirtualDisk#punchHole} and {@link VirtualDisk#zeroRange}, and flush/fsync are the
 * disk's durability barrier.
 *
 * <p>Every callback catches {@link Throwable} and returns {@code -errno} (see {@link Errno}) with a
 * log line, because jffi silently turns an escaping exception into a 0 return (a 0-byte write).
 * The callbacks hold no lock of their own: the disk is thread-safe, and the daemon mounts with
 * {@code -s}, so they run one at a time on the session thread anyway.
 *
 * <p>jnr-fuse's shutdown hook calls {@link #umount()}, which it would otherwise implement as a lazy
 * {@code fusermount -u -z} (fatal under a live loop device); here it runs the owner's orderly
 * teardown instead.
 */
public class DiskFilesystem extends FuseStubFS {
  /** The one file. */
  public static final String DISK_FILE = "disk.img";
  /** fallocate mode bits (linux/falloc.h). */
  static final int FALLOC_FL_KEEP_SIZE = 0x01;
  static final int FALLOC_FL_PUNCH_HOLE = 0x02;
  static final int FALLOC_FL_ZERO_RANGE = 0x10;
  private static final String DISK_PATH = "/" + DISK_FILE;
  private static final int O_ACCMODE = 3;
  private static final int O_RDONLY = 0;
  private static final int FS_BLOCK = 4096;
  /** Every failed callback is logged up to this count, then every 1000th. */
  private static final long LOGGED_ERRORS = 100;

  private final VirtualDisk disk;
  private final long ownerUid;
  private final long ownerGid;
  private final long mountTime = System.currentTimeMillis() / 1000;
  private final EventLog log;
  /** Runs the owner's orderly teardown when jnr-fuse's shutdown hook calls {@link #umount()}. */
  private volatile Runnable teardown = () -> { };
  /** Callbacks that failed, for the status file. */
  private final AtomicLong errors = new AtomicLong();

  /** Serves {@code disk}; {@code /disk.img} is owned by {@code uid:gid}. */
  public DiskFilesystem(VirtualDisk disk, long uid, long gid, EventLog log) {
    this.disk = disk;
    this.ownerUid = uid;
    this.ownerGid = gid;
    this.log = log;
  }

  /** Sets what {@link #umount()} (jnr-fuse's shutdown hook) runs. */
  public void setTeardown(Runnable teardown) {
    this.teardown = teardown;
  }

  /** Returns how many callbacks returned an error. */
  public long errorCount() {
    return errors.get();
  }

  @Override
  protected String getFSName() {
    return "jploop";
  }

  /** Called by jnr-fuse's shutdown hook: runs the orderly teardown, never a lazy unmount. */
  @Override
  public void umount() {
    teardown.run();
  }

  private int fail(String op, long offset, long length, Throwable t) {
    long n = errors.incrementAndGet();
    int errno = Errno.of(t);
    if (n > LOGGED_ERRORS && n % 1000 != 0) {
      return -errno;
    }
    String prefix = n > LOGGED_ERRORS ? "(error " + n + ", logging every 1000th) " : "";
    log.error(prefix + op + " offset=" + offset + " length=" + length + " -> "
        + jnr.constants.platform.Errno.valueOf(errno).name(), t);
    return -errno;
  }

  @Override
  public int getattr(String path, FileStat stat) {
    try {
      if ("/".equals(path)) {
        stat.st_mode.set(FileStat.S_IFDIR | 0755);
        stat.st_nlink.set(2);
      } else if (DISK_PATH.equals(path)) {
        stat.st_mode.set(FileStat.S_IFREG | 0600);
        stat.st_nlink.set(1);
        stat.st_size.set(disk.size());
        stat.st_blocks.set(disk.size() / 512);
        stat.st_blksize.set(FS_BLOCK);
      } else {
        return -ErrorCodes.ENOENT();
      }
      stat.st_uid.set(ownerUid);
      stat.st_gid.set(ownerGid);
      stat.st_mtim.tv_sec.set(mountTime);
      stat.st_ctim.tv_sec.set(mountTime);
      stat.st_atim.tv_sec.set(mountTime);
      return 0;
    } catch (Throwable t) {
      return fail("getattr " + path, 0, 0, t);
    }
  }

  @Override
  public int readdir(String path, Pointer buf, FuseFillDir filler, @off_t long offset,
      FuseFileInfo fi) {
    try {
      if (!"/".equals(path)) {
        return -ErrorCodes.ENOTDIR();
      }
      filler.apply(buf, ".", null, 0);
      filler.apply(buf, "..", null, 0);
      filler.apply(buf, DISK_FILE, null, 0);
      return 0;
    } catch (Throwable t) {
      return fail("readdir", 0, 0, t);
    }
  }

  @Override
  public int open(String path, FuseFileInfo fi) {
    try {
      if (!DISK_PATH.equals(path)) {
        return "/".equals(path) ? -ErrorCodes.EISDIR() : -ErrorCodes.ENOENT();
      }
      if (disk.readOnly() && (fi.flags.get() & O_ACCMODE) != O_RDONLY) {
        return -ErrorCodes.EROFS();
      }
      return 0;
    } catch (Throwable t) {
      return fail("open", 0, 0, t);
    }
  }

  @Override
  public int read(String path, Pointer buf, @size_t long size, @off_t long offset,
      FuseFileInfo fi) {
    try {
      long diskSize = disk.size();
      if (offset >= diskSize || size <= 0) {
        return 0;
      }
      int n = (int) Math.min(size, diskSize - offset);
      disk.read(wrap(buf, n), offset);
      return n;
    } catch (Throwable t) {
      return fail("read", offset, size, t);
    }
  }

  @Override
  public int write(String path, Pointer buf, @size_t long size, @off_t long offset,
      FuseFileInfo fi) {
    try {
      if (disk.readOnly()) {
        return -ErrorCodes.EROFS();
      }
      int n = (int) size;
      disk.write(wrap(buf, n), offset);
      return n;
    } catch (Throwable t) {
      return fail("write", offset, size, t);
    }
  }

  /** Returns a direct buffer over the kernel's request buffer: no copy. */
  static ByteBuffer wrap(Pointer buf, int n) {
    return MemoryIO.getInstance().newDirectByteBuffer(buf.address(), n);
  }

  @Override
  public int fallocate(String path, int mode, @off_t long offset, @off_t long length,
      FuseFileInfo fi) {
    try {
      boolean punch = mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
      boolean zero = mode == FALLOC_FL_ZERO_RANGE
          || mode == (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
      if (!punch && !zero) {
        return -ErrorCodes.EOPNOTSUPP();
      }
      if (disk.readOnly()) {
        return -ErrorCodes.EROFS();
      }
      if (offset < 0 || length <= 0) {
        return -ErrorCodes.EINVAL();
      }
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
    }
  }

  @Override
  public int flush(String path, FuseFileInfo fi) {
    return barrier("flush");
  }

  @Override
  public int fsync(String path, int isdatasync, FuseFileInfo fi) {
    return barrier("fsync");
  }

  private int barrier(String op) {
    try {
      if (!disk.readOnly()) {
        disk.flush();
      }
      return 0;
    } catch (Throwable t) {
      return fail(op, 0, 0, t);
    }
  }

  @Override
  public int release(String path, FuseFileInfo fi) {
    return 0;
  }

  @Override
  public int truncate(String path, @off_t long size) {
    try {
      if (!DISK_PATH.equals(path)) {
        return -ErrorCodes.ENOENT();
      }
      if (size == disk.size()) {
        return 0;
      }
      return disk.readOnly() ? -ErrorCodes.EROFS() : -ErrorCodes.EPERM();
    } catch (Throwable t) {
      return fail("truncate", size, 0, t);
    }
  }

  @Override
  public int statfs(String path, Statvfs stbuf) {
    try {
      long blocks = disk.size() / FS_BLOCK;
      stbuf.f_bsize.set(FS_BLOCK);
      stbuf.f_frsize.set(FS_BLOCK);
      stbuf.f_blocks.set(blocks);
      stbuf.f_bfree.set(0);
      stbuf.f_bavail.set(0);
      stbuf.f_files.set(2);
      stbuf.f_ffree.set(0);
      stbuf.f_namemax.set(255);
      return 0;
    } catch (Throwable t) {
      return fail("statfs", 0, 0, t);
    }
  }

  @Override
  public Pointer init(Pointer conn) {
    try {
      log.info("FUSE session started: disk " + disk.size() + " bytes"
          + (disk.readOnly() ? ", read-only" : ""));
    } catch (Throwable t) {
      // never throw from a callback
    }
    return null;
  }

  @Override
  public void destroy(Pointer initResult) {
    try {
      log.info("FUSE session ended");
    } catch (Throwable t) {
      // never throw from a callback
    }
  }

  /** For tests and messages: the disk served. */
  VirtualDisk disk() {
    return disk;
  }
}
