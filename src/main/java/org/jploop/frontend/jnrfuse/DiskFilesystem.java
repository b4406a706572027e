package org.jploop.frontend.jnrfuse;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import jnr.ffi.Pointer;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import org.jploop.frontend.DiskImageFile;
import org.jploop.frontend.Errno;
import org.jploop.frontend.RequestMeter;
import org.jploop.host.EventLog;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;

/**
 * The libfuse 2.9 callbacks for the one file {@code /disk.img}: each decodes its arguments, calls
 * {@link DiskImageFile} (which holds the semantics, the admission lock and the error log) and fills
 * jnr-fuse's structs. Data goes through no copy: reads and writes get a direct buffer over
 * libfuse's own ({@link #wrap}).
 *
 * <p>Every callback catches {@link Throwable} and returns {@code -errno}, because jffi silently
 * turns an escaping exception into a 0 return (a 0-byte write). The daemon mounts with {@code -s},
 * so the callbacks run one at a time on the session thread; they hold no lock of their own.
 *
 * <p>jnr-fuse's shutdown hook calls {@link #umount()}, which it would otherwise implement as a lazy
 * {@code fusermount -u -z} (fatal under a live loop device); here it does nothing: the owner's own
 * shutdown hook runs the orderly teardown.
 */
public class DiskFilesystem extends FuseStubFS {
  private static final String DISK_PATH = "/" + DiskImageFile.NAME;

  private final DiskImageFile file;
  private final EventLog log;
  private final RequestMeter meter = new RequestMeter();

  /** Serves {@code file}. */
  public DiskFilesystem(DiskImageFile file, EventLog log) {
    this.file = file;
    this.log = log;
  }

  /** Returns the callbacks' counters. */
  RequestMeter meter() {
    return meter;
  }

  @Override
  protected String getFSName() {
    return "jploop";
  }

  /** Called by jnr-fuse's shutdown hook: never a lazy unmount (see the class comment). */
  @Override
  public void umount() {
    // the owner's shutdown hook tears down in order
  }

  private int fail(String op, Throwable t) {
    return file.fail(op, 0, 0, t);
  }

  @Override
  public int getattr(String path, FileStat stat) {
    meter.begin();
    try {
      if ("/".equals(path)) {
        stat.st_mode.set(DiskImageFile.DIR_MODE);
        stat.st_nlink.set(2);
      } else if (DISK_PATH.equals(path)) {
        long size = file.size();
        if (size < 0) {
          return (int) size;
        }
        stat.st_mode.set(DiskImageFile.FILE_MODE);
        stat.st_nlink.set(1);
        stat.st_size.set(size);
        stat.st_blocks.set(size / 512);
        stat.st_blksize.set(DiskImageFile.BLOCK);
      } else {
        return -Errno.ENOENT;
      }
      stat.st_uid.set(file.uid());
      stat.st_gid.set(file.gid());
      stat.st_mtim.tv_sec.set(file.mountTime());
      stat.st_ctim.tv_sec.set(file.mountTime());
      stat.st_atim.tv_sec.set(file.mountTime());
      return 0;
    } catch (Throwable t) {
      return fail("getattr " + path, t);
    } finally {
      meter.end();
    }
  }

  @Override
  public int readdir(
      String path, Pointer buf, FuseFillDir filler, @off_t long offset, FuseFileInfo fi) {
    meter.begin();
    try {
      if (!"/".equals(path)) {
        return -Errno.ENOTDIR;
      }
      filler.apply(buf, ".", null, 0);
      filler.apply(buf, "..", null, 0);
      filler.apply(buf, DiskImageFile.NAME, null, 0);
      return 0;
    } catch (Throwable t) {
      return fail("readdir", t);
    } finally {
      meter.end();
    }
  }

  @Override
  public int open(String path, FuseFileInfo fi) {
    meter.begin();
    try {
      if (!DISK_PATH.equals(path)) {
        return "/".equals(path) ? -Errno.EISDIR : -Errno.ENOENT;
      }
      return file.open(fi.flags.get());
    } catch (Throwable t) {
      return fail("open", t);
    } finally {
      meter.end();
    }
  }

  @Override
  public int read(
      String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    meter.begin();
    try {
      return file.read(wrap(buf, (int) size), offset);
    } catch (Throwable t) {
      return fail("read", t);
    } finally {
      meter.end();
    }
  }

  @Override
  public int write(
      String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    meter.begin();
    try {
      return file.write(wrap(buf, (int) size), offset);
    } catch (Throwable t) {
      return fail("write", t);
    } finally {
      meter.end();
    }
  }

  /** Returns a direct buffer over the kernel's request buffer: no copy. */
  static ByteBuffer wrap(Pointer buf, int n) {
    return MemoryIO.getInstance().newDirectByteBuffer(buf.address(), n);
  }

  @Override
  public int fallocate(
      String path, int mode, @off_t long offset, @off_t long length, FuseFileInfo fi) {
    meter.begin();
    try {
      return file.fallocate(mode, offset, length);
    } finally {
      meter.end();
    }
  }

  @Override
  public int flush(String path, FuseFileInfo fi) {
    meter.begin();
    try {
      return file.barrier("flush");
    } finally {
      meter.end();
    }
  }

  @Override
  public int fsync(String path, int isdatasync, FuseFileInfo fi) {
    meter.begin();
    try {
      return file.barrier("fsync");
    } finally {
      meter.end();
    }
  }

  @Override
  public int release(String path, FuseFileInfo fi) {
    return 0;
  }

  @Override
  public int truncate(String path, @off_t long size) {
    meter.begin();
    try {
      if (!DISK_PATH.equals(path)) {
        return -Errno.ENOENT;
      }
      return file.truncate(size);
    } finally {
      meter.end();
    }
  }

  @Override
  public int statfs(String path, Statvfs stbuf) {
    meter.begin();
    try {
      long size = file.size();
      if (size < 0) {
        return (int) size;
      }
      stbuf.f_bsize.set(DiskImageFile.BLOCK);
      stbuf.f_frsize.set(DiskImageFile.BLOCK);
      stbuf.f_blocks.set(size / DiskImageFile.BLOCK);
      stbuf.f_bfree.set(0);
      stbuf.f_bavail.set(0);
      stbuf.f_files.set(2);
      stbuf.f_ffree.set(0);
      stbuf.f_namemax.set(255);
      return 0;
    } catch (Throwable t) {
      return fail("statfs", t);
    } finally {
      meter.end();
    }
  }

  @Override
  public Pointer init(Pointer conn) {
    try {
      log.info(
          "FUSE session started (jnr-fuse, libfuse 2.9): disk "
              + file.size()
              + " bytes"
              + (file.readOnly() ? ", read-only" : ""));
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
}
