package org.jploop.cli;

/**
 * A command failed in a way the user must be told about: one line of message and ploop's exit code.
 * The CLI prints {@code getMessage()} alone (a stack trace only with {@code --verbose}).
 */
public class PloopException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** One of {@link ExitCode}'s values. */
  private final int exitCode;

  public PloopException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public PloopException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  /** Returns the process exit code. */
  public int exitCode() {
    return exitCode;
  }
}
