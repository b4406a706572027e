package org.jploop.frontend.kernel;

import java.nio.file.Files;
import java.nio.file.Path;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.types.intptr_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;
import org.jploop.frontend.Errno;
import org.jploop.host.MountException;

/**
 * One open {@code /dev/fuse} and the system calls around it, through jnr-ffi: open, mount(2) of a
 * {@code fuse.jploop} file system bound to it, read(2) of requests, writev(2) of replies, umount2
 * and close. Reads and writes may come from many threads at once (the kernel serialises them per
 * request); {@link #close} only once nothing reads any more.
 */
final class FuseDevice implements FuseChannel {
  static final Path DEVICE = Path.of("/dev/fuse");
  private static final int O_RDWR = 2;
  private static final int O_CLOEXEC = 0x80000;
  private static final long MS_RDONLY = 1;
  private static final long MS_NOSUID = 2;
  private static final long MS_NODEV = 4;
  private static final int EBUSY = 16;

  /** The libc calls the protocol needs. */
  public interface Libc {
    int open(@In String path, int flags, int mode);

    int close(int fd);

    @ssize_t
    long read(int fd, @intptr_t long buf, @size_t long count);

    @ssize_t
    long writev(int fd, @intptr_t long iov, int iovcnt);

    int mount(@In String source, @In String target, @In String type, long flags, @In String data);

    int umount2(@In String target, int flags);
  }

  private static volatile Libc libc;
  private final int fd;
  private final Runtime rt;

  private FuseDevice(int fd) {
    this.fd = fd;
    this.rt = Runtime.getRuntime(libc());
  }

  static Libc libc() {
    Libc l = libc;
    if (l == null) {
      synchronized (FuseDevice.class) {
        l = libc;
        if (l == null) {
          l = LibraryLoader.create(Libc.class).load("c");
          libc = l;
        }
      }
    }
    return l;
  }

  private static int errno() {
    return LastError.getLastError(Runtime.getRuntime(libc()));
  }

  /** Throws NO_FUSE unless {@code /dev/fuse} exists. */
  static void checkAvailable() throws MountException {
    if (!Files.exists(DEVICE)) {
      throw new MountException(
          MountException.Reason.NO_FUSE,
          DEVICE
              + " is missing: load the"
              + " fuse module (modprobe fuse) or give the container the device");
    }
  }

  /** Opens {@code /dev/fuse} for a new connection. */
  static FuseDevice open() throws MountException {
    int fd = libc().open(DEVICE.toString(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
      int e = errno();
      throw new MountException(
          MountException.Reason.NO_FUSE,
          DEVICE
              + ": "
              + Errno.name(e)
              + (e == Errno.ENOENT || e == Errno.ENODEV ? " (is the fuse module loaded?)" : ""));
    }
    return new FuseDevice(fd);
  }

  /** Returns the descriptor, for the {@code fd=} mount option. */
  int fd() {
    return fd;
  }

  /**
   * mount(2) of this connection at {@code dir}: type {@code fuse.jploop} (plain {@code fuse} if the
   * kernel refuses the subtype), source {@code jploop}, nosuid and nodev (and read-only if asked),
   * {@code options} as the data string. Returns the type mounted.
   */
  String mount(Path dir, boolean readOnly, String options) throws MountException {
    long flags = MS_NOSUID | MS_NODEV | (readOnly ? MS_RDONLY : 0);
    String type = "fuse.jploop";
    int r = libc().mount("jploop", dir.toString(), type, flags, options);
    if (r != 0 && errno() == Errno.ENODEV) {
      type = "fuse";
      r = libc().mount("jploop", dir.toString(), type, flags, options);
    }
    if (r != 0) {
      throw new MountException(
          MountException.Reason.MOUNT_FAILED,
          "FUSE mount at "
              + dir
              + " failed: mount(2): "
              + Errno.name(errno())
              + " (options "
              + options
              + ")");
    }
    return type;
  }

  /**
   * umount2(dir, 0): never MNT_DETACH. Returns 0, or the errno (EBUSY while something holds the
   * mount, EINVAL if {@code dir} is not a mount point).
   */
  static int unmount(Path dir) {
    return libc().umount2(dir.toString(), 0) == 0 ? 0 : errno();
  }

  /** Returns whether {@code errno} from {@link #unmount} means "try again". */
  static boolean busy(int errno) {
    return errno == EBUSY;
  }

  @Override
  public long read(long address, int capacity) {
    long n = libc.read(fd, address, capacity);
    return n >= 0 ? n : -LastError.getLastError(rt);
  }

  @Override
  public long writev(long iovecs, int count) {
    long n = libc.writev(fd, iovecs, count);
    return n >= 0 ? n : -LastError.getLastError(rt);
  }

  /** Closes the descriptor; with the last one the kernel aborts the connection. */
  void close() {
    libc().close(fd);
  }
}
