package org.jploop.frontend;

import java.io.EOFException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.ReadOnlyFileSystemException;
import org.jploop.io.NoSpaceException;

/**
 * Linux errno numbers the front ends answer with (asm-generic/errno-base.h, errno.h; FUSE is
 * Linux-only, and jnr-fuse's platform constants are these numbers on Linux), and the mapping of a
 * failure of the disk to one of them. Stateless.
 */
public final class Errno {
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int EINTR = 4;
  public static final int EIO = 5;
  public static final int EAGAIN = 11;
  public static final int ENOMEM = 12;
  public static final int ENODEV = 19;
  public static final int ENOTDIR = 20;
  public static final int EISDIR = 21;
  public static final int EINVAL = 22;
  public static final int ENOSPC = 28;
  public static final int EROFS = 30;
  public static final int ENOSYS = 38;
  public static final int EPROTO = 71;
  public static final int EOPNOTSUPP = 95;
  public static final int ECONNABORTED = 103;
  public static final int ENOTCONN = 107;

  private Errno() {}

  /** Returns the positive errno for {@code t}: ENOSPC, EINVAL, EROFS or EIO. */
  public static int of(Throwable t) {
    if (t instanceof NoSpaceException) {
      return ENOSPC;
    }
    if (t instanceof EOFException || t instanceof IllegalArgumentException) {
      return EINVAL;
    }
    if (t instanceof ReadOnlyFileSystemException || t instanceof NonWritableChannelException) {
      return EROFS;
    }
    return EIO;
  }

  /** Returns the symbolic name of a positive errno ("ENOSPC"), or "errno N". */
  public static String name(int errno) {
    try {
      return jnr.constants.platform.Errno.valueOf(errno).name();
    } catch (RuntimeException e) {
      return "errno " + errno;
    }
  }
}
