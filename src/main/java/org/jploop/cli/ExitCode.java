package org.jploop.cli;

/** ploop's exit codes ({@code enum SYSEXIT_*} in libploop.h); jploop exits with the same ones. */
public final class ExitCode {
  public static final int OK = 0;
  public static final int CREAT = 1;
  public static final int DEVICE = 2;

  /** An ioctl failed; for jploop: the hidden balloon cannot be opened (SYSEXIT_DEVIOC). */
  public static final int DEVIOC = 3;

  public static final int OPEN = 4;
  public static final int READ = 6;
  public static final int WRITE = 7;

  /** The image is corrupted (SYSEXIT_PLOOPFMT). */
  public static final int PLOOPFMT = 11;

  public static final int SYS = 12;

  /** A bad or not cleanly closed Format Extension / CBT (SYSEXIT_PROTOCOL). */
  public static final int PROTOCOL = 13;

  /** fstat of an image or descriptor failed (SYSEXIT_FSTAT). */
  public static final int FSTAT = 15;

  public static final int FSYNC = 16;
  public static final int EBUSY = 17;
  public static final int FLOCK = 18;
  public static final int FTRUNCATE = 19;
  public static final int FALLOCATE = 20;
  public static final int MOUNT = 21;
  public static final int UMOUNT = 22;
  public static final int LOCK = 23;
  public static final int MKFS = 24;
  public static final int RESIZE_FS = 26;
  public static final int MKDIR = 27;
  public static final int RENAME = 28;
  public static final int ABORT = 29;
  public static final int RELOC = 30;
  public static final int CHANGE_GPT = 33;
  public static final int UNLINK = 35;

  /** The image's in-use flag is set (SYSEXIT_PLOOPINUSE). */
  public static final int PLOOPINUSE = 37;

  /** Bad command line (SYSEXIT_PARAM). */
  public static final int PARAM = 38;

  /** Bad DiskDescriptor.xml (SYSEXIT_DISKDESCR). */
  public static final int DISKDESCR = 39;

  public static final int DEV_NOT_MOUNTED = 40;
  public static final int FSCK = 41;

  /** No such snapshot (SYSEXIT_NOSNAP). */
  public static final int NOSNAP = 43;

  /** No CBT on the device (SYSEXIT_NOCBT). */
  public static final int NOCBT = 44;

  /** dm-crypt (cryptsetup through ploop's crypthelper) failed (SYSEXIT_CRYPT). */
  public static final int CRYPT = 45;

  public static final int UMOUNT_BUSY = 46;

  /** ploop's trim returns -1 on a failed FITRIM, which the shell sees as 255. */
  public static final int TRIM = 255;

  /** jploop only: libfuse2 or /dev/fuse is missing (no ploop equivalent). */
  public static final int NOFUSE = 50;

  private ExitCode() {}
}
