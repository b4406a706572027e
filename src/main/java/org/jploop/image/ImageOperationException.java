package org.jploop.image;

import java.io.IOException;

/**
 * An offline image operation refused to run or stopped, for a reason the user must be told in one
 * line. The {@link Kind} tells the CLI which ploop exit code to use; nothing was modified unless
 * the message says so.
 */
public class ImageOperationException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Why the operation failed; the CLI maps each kind to one ploop exit code. */
  public enum Kind {
    /** The disk is locked by a mount daemon or another operation (SYSEXIT_EBUSY). */
    BUSY,
    /**
     * An image carries the in-use flag; {@code ploop check} must run first (SYSEXIT_PLOOPINUSE).
     */
    DIRTY,
    /** The named snapshot does not exist (SYSEXIT_NOSNAP). */
    NO_SNAPSHOT,
    /** The request is not allowed in this state (SYSEXIT_PARAM). */
    REFUSED,
    /** The images do not fit together or are damaged (SYSEXIT_PLOOPFMT). */
    CORRUPT,
    /**
     * A bare image given on the command line cannot be opened: missing, not a ploop image, or its
     * in-use flag set (SYSEXIT_OPEN, what ploop's open_delta failures exit with).
     */
    OPEN,
    /** A file cannot be renamed into place, e.g. across filesystems (SYSEXIT_RENAME). */
    RENAME
  }

  /** Why it failed. */
  private final Kind kind;

  public ImageOperationException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  /** Returns why the operation failed. */
  public Kind kind() {
    return kind;
  }
}
