package org.jploop.copy;

import java.io.IOException;

/**
 * A failed copy, with the one line to print and the exit code: ploop's SYSEXIT code where ploop has
 * one for the case (the values equal {@code org.jploop.cli.ExitCode}'s), a jploop-only code where
 * ploop has none or a wrong one (documented in the README).
 */
public final class CopyException extends IOException {
  /** SYSEXIT_CREAT: FILE cannot be created (exists, no directory). */
  public static final int CREAT = 1;

  /** SYSEXIT_READ: the stream ended early or could not be read (sender gone). */
  public static final int READ = 6;

  /** SYSEXIT_WRITE: the received image cannot be written (full disk, I/O error). */
  public static final int WRITE = 7;

  /** SYSEXIT_PROTOCOL: wrong marker, a malformed or out-of-order packet, a bad reply. */
  public static final int PROTOCOL = 13;

  /** SYSEXIT_SYS: the stop command failed. */
  public static final int SYS = 12;

  /** SYSEXIT_FSYNC. */
  public static final int FSYNC = 16;

  /** SYSEXIT_PARAM: unknown packet type or command, bad fd. */
  public static final int PARAM = 38;

  /** SYSEXIT_NOCBT. */
  public static final int NOCBT = 44;

  /** SYSEXIT_EBUSY: the source disk is busy (an online operation, a copy running). */
  public static final int EBUSY = 17;

  /** Too many iterations on the frozen disk (SYSEXIT_ABORT... ploop uses 14 here). */
  public static final int FROZEN_LOOP = 14;

  /**
   * jploop only: a packet failed its MD5. ploop's receiver prints the mismatch and then exits 0 (⚠
   * its loop breaks without an error code); jploop fails the copy.
   */
  public static final int CHECKSUM = 51;

  private final int exitCode;

  public CopyException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public CopyException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  /** Returns the exit code. */
  public int exitCode() {
    return exitCode;
  }
}
