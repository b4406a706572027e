package org.jploop.check;

import java.nio.file.FileSystemException;
import java.nio.file.Path;

/**
 * A check or repair was refused because someone holds the disk's {@code DiskLock} (the mount
 * daemon, or another offline operation). The message names the descriptor and the holder.
 */
public class DiskBusyException extends FileSystemException {
  private static final long serialVersionUID = 1L;

  /** Creates the error for {@code descriptor} held by {@code holder} ("pid purpose"). */
  public DiskBusyException(Path descriptor, String holder) {
    super(
        String.valueOf(descriptor),
        null,
        "Can't check, in use by " + (holder.isEmpty() ? "another process" : "pid " + holder));
  }

  @Override
  public String getMessage() {
    return getFile() + ": " + getReason();
  }
}
