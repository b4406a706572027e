package org.jploop.format;

import java.nio.file.Path;

/**
 * A Format Extension (dirty bitmap) that must not be used: not cleanly closed, bad magic or MD5,
 * spoiled feature list, a size that does not match the image. The reason is ploop's message (lib/
 * cbt.c) so that {@code ploop-cbt} users recognise it; ploop exits with {@code SYSEXIT_PROTOCOL}
 * (13) for these. The message names the file and the offset, like every {@link
 * CorruptImageException}.
 */
public class BadExtensionException extends CorruptImageException {
  private static final long serialVersionUID = 1L;

  /** Creates an error for {@code file} at byte {@code offset} (-1 for none). */
  public BadExtensionException(Path file, long offset, String reason) {
    super(file, offset, reason);
  }
}
