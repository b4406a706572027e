package org.jploop.host;

/**
 * Marks the process that serves a disk over FUSE (the mount daemon) and refuses, in that process,
 * the I/O that goes through a served {@code disk.img} or the filesystem inside it: punching
 * clusters through {@code disk.img}, opening the balloon, FITRIM. A FUSE request the daemon sends
 * to its own mount waits for the daemon's own session thread; once that request has been read, the
 * kernel waits for the answer without regard to signals, so a {@code kill -9} of the daemon leaves
 * a zombie whose stuck thread keeps {@code /dev/fuse} open, the connection is never aborted, and
 * every {@code sync} on the machine hangs behind the loop device's journal (what an online shrink
 * did when the daemon ran it). That work belongs in the {@code ploop} process, as in ploop; the
 * daemon is asked only for engine steps (compact) under its suspend gate. The mark is a volatile
 * flag, set once and never cleared (but by tests).
 */
public final class ServingProcess {
  private static volatile boolean serving;

  private ServingProcess() {}

  /** Marks this process as the one serving a disk (the mount daemon calls it before mounting). */
  public static void mark() {
    serving = true;
  }

  /** For tests: forgets the mark. */
  static void clearForTest() {
    serving = false;
  }

  /** Returns whether this process serves a disk over FUSE. */
  public static boolean serving() {
    return serving;
  }

  /**
   * Throws IllegalStateException naming {@code what} if this process serves a disk: a programming
   * error, never a user's.
   */
  public static void refuseSelfIo(String what) {
    if (serving) {
      throw new IllegalStateException(
          what
              + " from the mount daemon itself: the daemon must not"
              + " do I/O through a disk it serves (a kill -9 would leave it unkillable); run it in"
              + " the ploop process");
    }
  }
}
