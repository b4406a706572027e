package org.jploop.host;

import java.io.IOException;

/**
 * A mount, unmount or daemon operation was refused or failed in a way the user must be told about.
 * The {@link Reason} lets the command line pick ploop's exit code without this package knowing it.
 */
public class MountException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Why the operation failed; the CLI maps each to an exit code. */
  public enum Reason {
    /** The image is already served by a daemon (ploop: "already used by device"). */
    ALREADY_MOUNTED,
    /** The image is not mounted. */
    NOT_MOUNTED,
    /** The mount point is not usable: missing, not a directory, or already a mount point. */
    BAD_MOUNT_POINT,
    /** The top delta's in-use flag is set. */
    DIRTY,
    /** libfuse2, /dev/fuse or fusermount is missing. */
    NO_FUSE,
    /** Mounting FUSE, attaching the loop device or mounting the filesystem failed. */
    MOUNT_FAILED,
    /** Unmounting failed. */
    UMOUNT_FAILED,
    /** The inner filesystem is busy. */
    BUSY,
    /** fsck found errors it did not correct. */
    FSCK_FAILED,
    /** Making the filesystem failed. */
    MKFS_FAILED,
    /** The disk type cannot be served (yet). */
    UNSUPPORTED,
    /** After an online grow, the loop device, partition or filesystem could not be grown. */
    RESIZE_FS,
    /** Bad input for the operation (ploop's SYSEXIT_PARAM): target not found, size too small. */
    REFUSED,
    /** A device name (/dev/ploopN) could not be created: it exists. */
    DEVICE,
    /** The hidden balloon file cannot be opened. */
    BALLOON_OPEN,
    /** The balloon is flocked by another process. */
    BALLOON_BUSY,
    /** flock of the balloon failed for another reason. */
    BALLOON_FLOCK,
    /** stat of the balloon failed. */
    BALLOON_FSTAT,
    /** fsync of the balloon failed. */
    BALLOON_FSYNC,
    /** ftruncate of the balloon failed. */
    BALLOON_TRUNCATE,
    /** fallocate of the balloon failed (no space). */
    BALLOON_FALLOCATE,
    /** FITRIM on the mounted filesystem failed. */
    TRIM_FAILED,
    /** Changing the GPT partition failed. */
    CHANGE_GPT
  }

  private final Reason reason;

  public MountException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public MountException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** Returns why the operation failed. */
  public Reason reason() {
    return reason;
  }
}
