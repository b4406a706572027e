package org.jploop.io;

import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The few libc calls Java does not offer: {@code open}/{@code close} for a descriptor to pass to
 * {@code fallocate} and {@code posix_fadvise}, {@code fallocate} itself (hole punching and
 * preallocation), {@code posix_fadvise} (read-ahead), {@code sync_file_range} (early writeback),
 * {@code flock} (the lock ploop 7 and 1.15 take on DiskDescriptor.xml.lck; Java's FileLock is
 * fcntl, which does not see it), and for the balloon and discard {@code ftruncate}, {@code fsync},
 * {@code syncfs}, {@code ioctl} with a struct passed as bytes (FITRIM, FS_IOC_FIEMAP) and {@code
 * strerror}, and {@code read}/{@code write} on an inherited descriptor Java cannot open by number
 * (a socket, for {@code ploop copy}). Loaded once, lazily.
 */
public final class LibC {
  /** fallocate mode bit: do not change the file size. */
  public static final int FALLOC_FL_KEEP_SIZE = 0x01;

  /** fallocate mode bit: deallocate the range (requires KEEP_SIZE). */
  public static final int FALLOC_FL_PUNCH_HOLE = 0x02;

  /** fallocate mode bit: zero the range. */
  public static final int FALLOC_FL_ZERO_RANGE = 0x10;

  public static final int O_RDONLY = 0;
  public static final int O_RDWR = 2;
  public static final int O_CLOEXEC = 0x80000;
  public static final int EINTR = 4;
  public static final int ENOSPC = 28;
  public static final int EOPNOTSUPP = 95;

  /** lseek whence: the next offset holding data, at or after the given one. */
  public static final int SEEK_DATA = 3;

  /** posix_fadvise advice: read the range into the page cache in the background. */
  public static final int POSIX_FADV_WILLNEED = 3;

  /** sync_file_range flag: start writeback of the dirty pages in the range, do not wait. */
  public static final int SYNC_FILE_RANGE_WRITE = 2;

  /** flock operations (sys/file.h). */
  public static final int LOCK_SH = 1;

  public static final int LOCK_EX = 2;
  public static final int LOCK_NB = 4;
  public static final int LOCK_UN = 8;

  /** errno: a non-blocking flock found the lock taken (EAGAIN). */
  public static final int EWOULDBLOCK = 11;

  /** errno: the ioctl is not supported by this file (filesystem). */
  public static final int ENOTTY = 25;

  /** The bound functions. */
  public interface Native {
    int open(@In String path, int flags, int mode);

    int close(int fd);

    /** Reads up to {@code count} bytes into {@code buf}; the bytes read, 0 at EOF, or -1. */
    @ssize_t
    long read(int fd, @Out byte[] buf, @size_t long count);

    /** Writes {@code count} bytes of {@code buf}; the bytes written or -1. */
    @ssize_t
    long write(int fd, @In byte[] buf, @size_t long count);

    int fallocate(int fd, int mode, @off_t long offset, @off_t long len);

    int getpid();

    @off_t
    long lseek(int fd, @off_t long offset, int whence);

    /** Returns 0 or an error number (not -1 and errno). */
    int posix_fadvise(int fd, @off_t long offset, @off_t long len, int advice);

    int sync_file_range(int fd, @off_t long offset, @off_t long nbytes, int flags);

    int flock(int fd, int operation);

    int ftruncate(int fd, @off_t long length);

    int fsync(int fd);

    int syncfs(int fd);

    /** ioctl with a struct argument, copied in and back out ({@code FITRIM}, FIEMAP). */
    int ioctl(int fd, long request, @In @Out byte[] arg);

    String strerror(int errnum);
  }

  private static volatile Native instance;

  private LibC() {}

  /** Returns the bound libc, loading it on first use. */
  public static Native get() {
    Native n = instance;
    if (n == null) {
      synchronized (LibC.class) {
        n = instance;
        if (n == null) {
          n = LibraryLoader.create(Native.class).load("c");
          instance = n;
        }
      }
    }
    return n;
  }

  /** Returns errno of the last failed call on this thread. */
  public static int errno() {
    return LastError.getLastError(Runtime.getRuntime(get()));
  }

  /** Returns the text of errno {@code e}, e.g. "Device or resource busy". */
  public static String describe(int e) {
    String s = get().strerror(e);
    return s == null ? "errno " + e : s;
  }
}
