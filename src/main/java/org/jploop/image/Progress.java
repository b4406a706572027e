package org.jploop.image;

import java.io.PrintStream;
import org.jploop.io.SuppressForbidden;

/**
 * Progress of a long operation, printed as {@code \r<op>: N/M clusters (P%)} on a terminal and not
 * at all otherwise (quiet when stdout is a pipe or a file). Updates are throttled to one print per
 * percent. Not thread-safe: one operation thread reports.
 */
public final class Progress {
  /** Progress that prints nothing. */
  public static final Progress QUIET = new Progress(null, "");

  /** Where to print, or null for quiet. */
  private final PrintStream out;

  /** The operation's name, printed before the counts. */
  private final String operation;

  private long total;
  private long done;
  private int lastPercent = -1;

  private Progress(PrintStream out, String operation) {
    this.out = out;
    this.operation = operation;
  }

  /** Returns progress printing to System.out when it is a terminal, else {@link #QUIET}. */
  // JDK 17: System.console() is null exactly when the JVM has no terminal; on JDK 22+ this needs
  // Console.isTerminal()
  @SuppressWarnings("SystemConsoleNull")
  @SuppressForbidden("progress is for the user's terminal, which the verbs' stdout is")
  public static Progress onTerminal(String operation) {
    return System.console() != null ? new Progress(System.out, operation) : QUIET;
  }

  /** Returns progress printing to {@code out} unconditionally (tests). */
  public static Progress to(PrintStream out, String operation) {
    return new Progress(out, operation);
  }

  /** Starts a phase of {@code totalClusters} units. */
  public void start(long totalClusters) {
    this.total = totalClusters;
    this.done = 0;
    this.lastPercent = -1;
    print();
  }

  /** Adds {@code n} completed units. */
  public void advance(long n) {
    done += n;
    print();
  }

  /** Ends the line, if anything was printed. */
  public void finish() {
    if (out != null && lastPercent >= 0) {
      out.println();
      out.flush();
      lastPercent = -1;
    }
  }

  private void print() {
    if (out == null) {
      return;
    }
    int percent = total == 0 ? 100 : (int) (done * 100 / total);
    if (percent == lastPercent) {
      return;
    }
    lastPercent = percent;
    out.print("\r" + operation + ": " + done + "/" + total + " clusters (" + percent + "%)");
    out.flush();
  }
}
