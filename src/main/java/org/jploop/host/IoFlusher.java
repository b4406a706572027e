package org.jploop.host;

import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/**
 * {@code prctl(PR_SET_IO_FLUSHER)} (Linux 5.6, needs CAP_SYS_RESOURCE) for a process that serves
 * the I/O of a block device stacked on it, as the mount daemon does for a loop device over {@code
 * disk.img}: the calling thread's allocations do no I/O (PF_MEMALLOC_NOIO) and its writes are
 * throttled only by the dirty pages of the device it writes to (PF_LOCAL_THROTTLE), so neither
 * reclaim nor dirty throttling makes it wait for pages that only it can clean. Threads started
 * afterwards by a marked thread inherit the flag (clone copies it). Stateless; the libc binding is
 * loaded once.
 */
public final class IoFlusher {
  private static final int PR_SET_IO_FLUSHER = 57;

  /** The one libc call needed. */
  public interface Libc {
    int prctl(int option, long arg2, long arg3, long arg4, long arg5);
  }

  private static final class Holder {
    static final Libc LIBC = LibraryLoader.create(Libc.class).load("c");
  }

  private IoFlusher() {}

  /**
   * Marks the calling thread (and the threads it starts from now on); returns 0 or the errno (EPERM
   * without CAP_SYS_RESOURCE, EINVAL before Linux 5.6).
   */
  public static int markCurrentThread() {
    if (Holder.LIBC.prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) == 0) {
      return 0;
    }
    return LastError.getLastError(Runtime.getRuntime(Holder.LIBC));
  }

  /** One line for the log saying what {@link #markCurrentThread} returned ({@code errno}). */
  public static String describe(int errno, String who) {
    if (errno == 0) {
      return "PR_SET_IO_FLUSHER set on " + who;
    }
    return "warning: PR_SET_IO_FLUSHER refused for "
        + who
        + " (errno "
        + errno
        + (errno == 1 ? ", EPERM: needs CAP_SYS_RESOURCE" : "")
        + "): under memory pressure with a"
        + " loop device over disk.img, reclaim may wait for the threads that serve it";
  }
}
