package org.jploop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the ploop command line in-process with captured output, for tests. */
final class Cli {
  private Cli() {}

  /**
   * One run.
   *
   * @param exitCode the exit code
   * @param out what went to stdout
   * @param err what went to stderr
   */
  record Run(int exitCode, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  /** Executes {@code ploop ARGS}. */
  static Run ploop(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int rc =
        PloopCli.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true))
            .execute(args);
    return new Run(rc, out.toString(), err.toString());
  }

  /** Executes {@code ploop ARGS} and asserts that it exits 0, showing its output if not. */
  static Run ok(String... args) {
    Run r = ploop(args);
    assertThat(r.exitCode()).as(r.toString()).isZero();
    return r;
  }
}
