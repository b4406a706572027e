package org.jploop.cli;

import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.file.FileSystemException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code ploop} command: parses the verb and its options with picocli, runs it, and turns
 * failures into one line on stderr plus ploop's exit code. A stack trace is printed only with
 * {@code --verbose}. {@link #newCommandLine} is the single factory, used by {@code main} and by
 * tests with captured output.
 */
@Command(
    name = "ploop",
    mixinStandardHelpOptions = true,
    version = "jploop 0.1.0",
    description = "Thin-provisioned ploop disk images served through FUSE.")
public final class PloopCli implements Runnable {

  /** Global {@code -v/--verbose}: stack traces and debug output. */
  @Option(
      names = {"-v", "--verbose"},
      description = "Print stack traces and debug output.")
  boolean verbose;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(new CommandLine(this), "Missing command");
  }

  /** Builds the command line with every verb, writing to {@code out} and {@code err}. */
  public static CommandLine newCommandLine(PrintWriter out, PrintWriter err) {
    return newCommandLine(out, err, null);
  }

  /**
   * Like {@link #newCommandLine(PrintWriter, PrintWriter)}, with only the verb {@code verbArgs} run
   * when it names one ({@link Commands#register(CommandLine, String[])}); null: every verb.
   */
  static CommandLine newCommandLine(PrintWriter out, PrintWriter err, String[] verbArgs) {
    PloopCli top = new PloopCli();
    CommandLine cl = new CommandLine(top);
    if (verbArgs == null) {
      Commands.register(cl);
    } else {
      Commands.register(cl, verbArgs);
    }
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler(
        (ex, line, parse) -> {
          boolean verbose = top.verbose || Commands.verbose(line);
          PrintWriter e = line.getErr();
          if (verbose) {
            ex.printStackTrace(e);
          }
          e.println(message(ex));
          e.flush();
          return exitCode(ex);
        });
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          PrintWriter e = ex.getCommandLine().getErr();
          e.println(ex.getMessage());
          ex.getCommandLine().usage(e);
          e.flush();
          return ExitCode.PARAM;
        });
    return cl;
  }

  /** Returns the one-line message for a failure. */
  static String message(Throwable ex) {
    if (ex instanceof FileSystemException fse) {
      if (fse.getReason() == null) {
        String why =
            ex instanceof java.nio.file.NoSuchFileException
                ? "No such file or directory"
                : ex instanceof java.nio.file.AccessDeniedException
                    ? "Permission denied"
                    : ex instanceof java.nio.file.FileAlreadyExistsException
                        ? "File exists"
                        : ex.getClass().getSimpleName();
        return fse.getFile() + ": " + why;
      }
      return fse.getMessage();
    }
    String m = ex.getMessage();
    return m == null ? ex.getClass().getSimpleName() : m;
  }

  /** Returns ploop's exit code for a failure. */
  static int exitCode(Throwable ex) {
    if (ex instanceof PloopException pe) {
      return pe.exitCode();
    }
    return Commands.exitCodeFor(ex);
  }

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true, Charset.defaultCharset());
    PrintWriter err = new PrintWriter(System.err, true, Charset.defaultCharset());
    int rc = newCommandLine(out, err, args).execute(args);
    out.flush();
    err.flush();
    System.exit(rc);
  }
}
