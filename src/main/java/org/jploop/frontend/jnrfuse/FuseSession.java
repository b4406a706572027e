package org.jploop.frontend.jnrfuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.jploop.frontend.DiskImageFile;
import org.jploop.host.HostCommand;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountException;
import org.jploop.host.MountTable;

/**
 * One FUSE mount of a {@link DiskFilesystem}: the session thread "fuse-session" runs jnr-fuse's
 * blocking mount (with {@code -s} every callback runs on it), {@link #start} returns once the
 * kernel shows the mount and {@code disk.img} can be stat'ed, and {@link #unmount} ends it with a
 * plain (never lazy) {@code fusermount -u}. Options: {@code big_writes,max_write=131072} (128 KiB
 * requests, the libfuse 2.9 maximum), as measured in the jnr-fuse notes.
 */
public final class FuseSession {
  /** The mount options; see the class comment. */
  static final String[] OPTIONS = {
    "-s", "-o", "big_writes,max_write=131072,fsname=jploop,subtype=jploop,default_permissions"
  };

  private static final long START_TIMEOUT_MS = 30_000;

  private final Path dir;
  private final Thread thread;

  private FuseSession(Path dir, Thread thread) {
    this.dir = dir;
    this.thread = thread;
  }

  /**
   * Checks that FUSE can work here: {@code /dev/fuse} exists and libfuse2 loads. Throws {@link
   * MountException} ({@link MountException.Reason#NO_FUSE}) saying what is missing.
   */
  public static void checkAvailable() throws MountException {
    checkAvailable(Path.of("/dev/fuse"), "libfuse.so.2");
  }

  /** {@link #checkAvailable()} with the device and library named, for tests. */
  static void checkAvailable(Path device, String library) throws MountException {
    if (!Files.exists(device)) {
      throw new MountException(
          MountException.Reason.NO_FUSE,
          device
              + " is missing: load the fuse module (modprobe fuse) or give the container the"
              + " device");
    }
    try {
      jnr.ffi.LibraryLoader.create(ru.serce.jnrfuse.LibFuse.class).failImmediately().load(library);
    } catch (LinkageError | RuntimeException e) {
      throw new MountException(
          MountException.Reason.NO_FUSE,
          "libfuse2 is not installed (apt-get install libfuse2, or libfuse2t64 on newer"
              + " distributions): "
              + e.getMessage());
    }
  }

  /**
   * Mounts {@code fs} at {@code dir} and returns once {@code disk.img} is visible; {@code ended}
   * runs on the session thread when libfuse's loop returns (unmounted or aborted).
   */
  public static FuseSession start(DiskFilesystem fs, Path dir, Runnable ended) throws IOException {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread t =
        new Thread(
            () -> {
              try {
                fs.mount(dir, true, false, OPTIONS);
              } catch (Throwable e) {
                failure.set(e);
              } finally {
                ended.run();
              }
            },
            "fuse-session");
    t.start();
    FuseSession s = new FuseSession(dir, t);
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    while (!s.isMounted()) {
      if (!t.isAlive()) {
        Throwable e = failure.get();
        throw new MountException(
            MountException.Reason.MOUNT_FAILED,
            "FUSE mount at "
                + dir
                + " failed"
                + (e == null
                    ? ""
                    : ": "
                        + e.getMessage()
                        + (e.getCause() == null ? "" : ": " + e.getCause().getMessage())),
            e);
      }
      if (System.currentTimeMillis() > deadline) {
        throw new MountException(
            MountException.Reason.MOUNT_FAILED,
            "FUSE mount at " + dir + " did not appear within " + START_TIMEOUT_MS + " ms");
      }
      LoopDevice.sleep(20);
    }
    return s;
  }

  private boolean isMounted() throws IOException {
    return MountTable.at(dir).filter(e -> e.fsType().startsWith("fuse")).isPresent()
        && Files.isRegularFile(dir.resolve(DiskImageFile.NAME));
  }

  /** Returns the mount point. */
  public Path dir() {
    return dir;
  }

  /** Returns {@code dir/disk.img}. */
  public Path diskImage() {
    return dir.resolve(DiskImageFile.NAME);
  }

  /**
   * Unmounts (retrying while the kernel says busy, e.g. just after {@code losetup -d}) and waits
   * for the session thread to end, i.e. for {@code destroy()}.
   */
  public void unmount() throws IOException {
    HostCommand c = null;
    for (int i = 0; i < 100 && MountTable.at(dir).isPresent(); i++) {
      c = HostCommand.run(30, "fusermount", "-u", dir.toString());
      if (c.ok()) {
        break;
      }
      c = HostCommand.run(30, "umount", dir.toString());
      if (c.ok()) {
        break;
      }
      LoopDevice.sleep(100);
    }
    if (MountTable.at(dir).isPresent()) {
      throw new MountException(
          MountException.Reason.UMOUNT_FAILED,
          "Cannot unmount FUSE at " + dir + ": " + (c == null ? "" : c.describeFailure()));
    }
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for the FUSE session to end", e);
    }
    if (thread.isAlive()) {
      throw new MountException(
          MountException.Reason.UMOUNT_FAILED,
          "FUSE session at " + dir + " did not end after unmount");
    }
  }
}
