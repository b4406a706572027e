package org.jploop.daemon;

import org.jploop.host.MountException;

/**
 * The mount daemon exited before it was ready. Carries its exit status (a ploop exit code, since
 * the daemon is {@code ploop daemon}) and the last line it logged, which is its error message.
 */
public class DaemonExitException extends MountException {
  private static final long serialVersionUID = 1L;

  private final int exitCode;

  public DaemonExitException(int exitCode, String message) {
    super(Reason.MOUNT_FAILED, message);
    this.exitCode = exitCode;
  }

  /** Returns the daemon's exit status. */
  public int exitCode() {
    return exitCode;
  }
}
