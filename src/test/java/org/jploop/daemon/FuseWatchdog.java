package org.jploop.daemon;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A deadline for a mount-test step that can hang in the kernel rather than fail: a process that
 * waits for a FUSE answer nobody will give (a daemon stuck in a request to its own mount after
 * {@code kill -9}, a verb behind it) sits in uninterruptible sleep, and so do the loop device's
 * worker, the journal of the filesystem on it and every {@code sync} on the machine. When the
 * deadline passes, the watchdog prints the kernel stack of every thread of the processes involved
 * that is in D state or inside FUSE, aborts the disk's FUSE connection ({@code
 * /sys/fs/fuse/connections/N/abort}: the kernel then fails every request of it instead of waiting),
 * so everything stuck behind it wakes up and the test's cleanup can unmount, and fails the test.
 * Made while the disk is mounted (the connection number is read from mountinfo then).
 */
final class FuseWatchdog {
  private final long daemonPid;
  private final Path fuseDir;
  private final String connection;

  private FuseWatchdog(long daemonPid, Path fuseDir, String connection) {
    this.daemonPid = daemonPid;
    this.fuseDir = fuseDir;
    this.connection = connection;
  }

  /** The watchdog of the mounted disk {@code xml}. */
  static FuseWatchdog of(Path xml) throws IOException {
    return of(
        MountStatus.forDescriptor(xml)
            .orElseThrow(() -> new AssertionError(xml + " is not mounted")));
  }

  /** The watchdog of the mount {@code st} describes (a component mount too). */
  static FuseWatchdog of(MountStatus st) throws IOException {
    Path dir = Path.of(st.fuseDir());
    String conn = null;
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] w = line.split(" ");
      if (w.length > 4 && w[4].equals(dir.toString())) {
        String[] mm = w[2].split(":");
        conn = Long.toString((Long.parseLong(mm[0]) << 20) | Long.parseLong(mm[1]));
      }
    }
    if (conn == null) {
      throw new AssertionError("no FUSE mount at " + dir + " in mountinfo");
    }
    return new FuseWatchdog(st.pid(), dir, conn);
  }

  /** Returns the daemon's pid. */
  long daemonPid() {
    return daemonPid;
  }

  /**
   * Waits up to {@code timeoutS} for {@code p} to end and returns its exit code; past the deadline,
   * {@link #trip trips}.
   */
  int await(Process p, long timeoutS, String what) throws Exception {
    if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
      trip(what + " (pid " + p.pid() + ") did not end within " + timeoutS + " s", p.pid());
    }
    return p.exitValue();
  }

  /** Waits up to {@code timeoutMs} for the daemon to be gone (after kill -9); else trips. */
  void awaitDaemonExit(long timeoutMs) throws Exception {
    long end = System.currentTimeMillis() + timeoutMs;
    while (alive(daemonPid)) {
      if (System.currentTimeMillis() > end) {
        trip(
            "the mount daemon (pid "
                + daemonPid
                + ") did not die within "
                + timeoutMs
                + " ms of kill -9");
      }
      Thread.sleep(20);
    }
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /**
   * Prints the stuck threads of the daemon and of {@code others} (and their children), aborts the
   * FUSE connection, waits a little for the daemon to go, and fails with {@code why}.
   */
  void trip(String why, long... others) throws Exception {
    StringBuilder sb = new StringBuilder("WATCHDOG: " + why + "\n");
    List<Long> pids = new ArrayList<>(List.of(daemonPid));
    for (long o : others) {
      pids.add(o);
      ProcessHandle.of(o).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
    }
    for (long pid : pids) {
      sb.append(stuckThreads(pid));
    }
    sb.append("aborting FUSE connection ")
        .append(connection)
        .append(" of ")
        .append(fuseDir)
        .append(": ")
        .append(abort())
        .append('\n');
    for (int i = 0; i < 100 && alive(daemonPid); i++) {
      Thread.sleep(50);
    }
    for (long o : others) {
      ProcessHandle.of(o).ifPresent(ProcessHandle::destroyForcibly);
    }
    System.err.print(sb);
    fail(sb.toString());
  }

  /** Aborts the connection; returns what happened. */
  String abort() {
    Path abort = Path.of("/sys/fs/fuse/connections", connection, "abort");
    if (!Files.exists(abort)) {
      return "already gone";
    }
    try {
      Files.writeString(abort, "1");
      return "aborted";
    } catch (IOException e) {
      return "failed: " + e;
    }
  }

  /** Returns the threads of {@code pid} in D state or in FUSE, with their kernel stacks. */
  static String stuckThreads(long pid) {
    StringBuilder sb = new StringBuilder();
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    try (Stream<Path> s = Files.list(tasks)) {
      for (Path t : s.toList()) {
        String stat = read(t.resolve("stat"));
        int close = stat.lastIndexOf(')');
        String state =
            close > 0 && close + 2 < stat.length() ? stat.substring(close + 2, close + 3) : "?";
        String stack = read(t.resolve("stack"));
        if (state.equals("D") || stack.contains("fuse")) {
          sb.append("  pid ")
              .append(pid)
              .append(" thread ")
              .append(t.getFileName())
              .append(" '")
              .append(read(t.resolve("comm")).strip())
              .append("' state ")
              .append(state)
              .append('\n')
              .append(stack.indent(4));
        }
      }
    } catch (IOException e) {
      return "  pid " + pid + ": " + e.getMessage() + "\n";
    }
    return sb.toString();
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return "";
    }
  }
}
