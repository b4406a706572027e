package org.jploop.frontend.jnrfuse;

import java.util.concurrent.locks.Lock;
import jnr.ffi.Pointer;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import org.jploop.engine.VirtualDisk;
import org.jploop.host.EventLog;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;

/**
 * The mount daemon's {@link DiskFilesystem}: every callback that touches the disk holds {@code
 * admission}, the read side of the daemon's suspend gate, from its first disk call to its last, so an online operation waits for the whole request in progress and
 * each request sees one disk (its size and its data together), with multi-threaded FUSE as with
 * {@code -s}. The gate is the only lock; callbacks that do not touch the disk (readdir, open,
 * release, init, destroy) do not take it.
 */
public final class GatedDiskFilesystem extends DiskFilesystem {
  private final Lock admission;

  /**
   * Serves {@code disk}, each callback holding {@code admission}; {@code /disk.img} is owned by
   * {@code uid:gid}.
   */
  public GatedDiskFilesystem(VirtualDisk disk, Lock admission, long uid, long gid, EventLog log) {
    super(disk, uid, gid, log);
    this.admission = admission;
  }

  @Override
  public int getattr(String path, FileStat stat) {
    admission.lock();
    try {
      return super.getattr(path, stat);
    } finally {
      admission.unlock();
    }
  }

  @Override
  public int read(String path, Pointer buf, @size_t long size, @off_t long offset,
      FuseFileInfo fi) {
    admission.lock();
    try {
      return super.read(path, buf, size, offset, fi);
    } finally {
      admission.unlock();
    }
  }

  @Override
  public int write(String path, Pointer buf, @size_t long size, @off_t long offset,
      FuseFileInfo fi) {
    admission.lock();
    try {
      return super.write(path, buf, size, offset, fi);
    } finally {
      admission.unlock();
    }
  }

  @Override
  public int fallocate(String path, int mode, @off_t long offset, @off_t long length,
      FuseFileInfo fi) {
    admission.lock();
    try {
      return super.fallocate(path, mode, offset, length, fi);
    } finally {
      admission.unlock();
    }
  }

  @Override
  public int flush(String path, FuseFileInfo fi) {
    admission.lock();
    try {
      return super.flush(path, fi);
    } finally {
      admission.unlock();
    }
  }

  @Override
  public int fsync(String path, int isdatasync, FuseFileInfo fi) {
    admission.lock();
    try {
      return super.fsync(path, isdatasync, fi);
    } finally {
      admission.unlock();
    }
  }

  @Override
  public int truncate(String path, @off_t long size) {
    admission.lock();
    try {
      return super.truncate(path, size);
    } finally {
      admission.unlock();
    }
  }

  @Override
  public int statfs(String path, Statvfs stbuf) {
    admission.lock();
    try {
      return super.statfs(path, stbuf);
    } finally {
      admission.unlock();
    }
  }
}
