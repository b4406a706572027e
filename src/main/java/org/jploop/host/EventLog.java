package org.jploop.host;

import java.io.PrintStream;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The daemon's log: one line per event, {@code <ISO-8601 time> pid=<pid>: <message>} as ploop
 * writes {@code /var/log/ploop.log}. The daemon's stdout and stderr are the log file, so this
 * writes to a stream; println on a PrintStream is synchronized, so any thread may log.
 */
public final class EventLog {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", Locale.ROOT);
  private final PrintStream out;
  private final long pid = ProcessHandle.current().pid();

  /** Logs to {@code out}. */
  public EventLog(PrintStream out) {
    this.out = out;
  }

  /** Logs one line. */
  public void info(String message) {
    out.println(OffsetDateTime.now(ZoneOffset.UTC).format(TIME) + " pid=" + pid + ": " + message);
    out.flush();
  }

  /** Logs one line with the failure's class and message. */
  public void error(String message, Throwable t) {
    info(message + ": " + t.getClass().getSimpleName() + ": " + t.getMessage());
  }
}
