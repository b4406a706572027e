package org.jploop.frontend;

import java.io.EOFException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.ReadOnlyFileSystemException;
import org.jploop.io.NoSpaceException;
import ru.serce.jnrfuse.ErrorCodes;

/** The errno a FUSE callback returns (negated) for a failure of the disk under it. */
public final class Errno {
  private Errno() {}

  /** Returns the positive errno for {@code t}: ENOSPC, EINVAL, EROFS or EIO. */
  public static int of(Throwable t) {
    if (t instanceof NoSpaceException) {
      return ErrorCodes.ENOSPC();
    }
    if (t instanceof EOFException || t instanceof IllegalArgumentException) {
      return ErrorCodes.EINVAL();
    }
    if (t instanceof ReadOnlyFileSystemException || t instanceof NonWritableChannelException) {
      return ErrorCodes.EROFS();
    }
    return ErrorCodes.EIO();
  }
}
