package org.jploop.io;

import java.io.IOException;
import java.nio.file.Path;

/** The host filesystem has no space left (ENOSPC) for a write, an allocation or a size change. */
public class NoSpaceException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Creates the error for {@code op} on {@code file} at {@code pos} for {@code len} bytes. */
  public NoSpaceException(Path file, String op, long pos, long len) {
    super(file + ": " + op + " at offset " + pos + " length " + len + ": No space left on device");
  }
}
