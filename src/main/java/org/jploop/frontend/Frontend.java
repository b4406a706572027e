package org.jploop.frontend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.locks.Lock;
import java.util.function.Consumer;
import org.jploop.engine.VirtualDisk;

/**
 * One FUSE session that shows a {@link VirtualDisk} to the kernel as {@code DIR/disk.img}: the seam
 * between the mount daemon and the two ways of speaking FUSE ({@code kernel}: our own server of the
 * kernel protocol on {@code /dev/fuse}, the default; {@code jnr-fuse}: libfuse 2.9 through
 * jnr-fuse, the original). The semantics of the file are {@link DiskImageFile}'s, the same for
 * both. Made by {@link FrontendOptions#create}; mounted once, unmounted once.
 *
 * <p>Implementations are thread-safe: the daemon calls {@link #stats} and {@link #sizeChanged} from
 * its own threads while the session serves requests on its threads.
 */
public interface Frontend {
  /** Returns the front end's name as {@code ploop mount --frontend} takes it. */
  String name();

  /**
   * Checks that this front end can work on this host ({@code /dev/fuse}, libraries); throws a
   * {@code MountException} with reason {@code NO_FUSE} saying what is missing.
   */
  void checkAvailable() throws IOException;

  /**
   * Sets what runs, once and on a thread of its own, if the session ends without {@link #unmount}:
   * the kernel's connection was aborted (fusectl {@code abort}) or someone unmounted the directory.
   * The argument says which. Call before {@link #mount}.
   */
  void onSessionEnded(Consumer<String> callback);

  /**
   * Mounts {@code disk} at {@code dir}; every request that touches the disk holds {@code admission}
   * while it does. Returns once {@code dir/disk.img} can be stat'ed; throws a {@code
   * MountException} (reason {@code MOUNT_FAILED}) having undone everything otherwise.
   */
  void mount(VirtualDisk disk, Lock admission, Path dir) throws IOException;

  /** Returns {@code dir/disk.img}. */
  Path diskImage();

  /**
   * Makes the kernel forget the cached size of {@code disk.img} after the disk grew, so that the
   * next stat (and {@code losetup -c}) sees the new one. Returns once the kernel was told, or once
   * its cache expires by itself.
   */
  void sizeChanged() throws IOException;

  /** Returns the request counters. */
  FrontendStats stats();

  /**
   * Unmounts the directory (never lazily: the caller has detached any loop device first), retrying
   * while the kernel says busy, and waits until the session's threads are gone. Throws a {@code
   * MountException} (reason {@code UMOUNT_FAILED}) if the directory stays mounted.
   */
  void unmount() throws IOException;
}
