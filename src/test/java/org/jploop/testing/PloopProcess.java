package org.jploop.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the real {@code jploop.jar} (the Failsafe property {@code jploop.jar}, else {@code
 * target/jploop.jar}) or any host command as a child process with a timeout, capturing stdout and
 * stderr. Also the one place the mount tests decide whether they can run (root and /dev/fuse) and
 * print the loud warning when they cannot.
 */
public final class PloopProcess {
  private PloopProcess() {}

  /** What a child process returned. */
  public record Result(int exit, String out, String err, long millis) {
    /** Returns everything printed, for assertion messages. */
    public String all() {
      return "exit " + exit + "\nstdout: " + out + "\nstderr: " + err;
    }
  }

  /** Returns the jar under test. */
  public static Path jar() {
    String p = System.getProperty("jploop.jar");
    Path jar = p == null || p.isEmpty() ? Path.of("target", "jploop.jar") : Path.of(p);
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "jploop jar not found at "
              + jar.toAbsolutePath()
              + " (run mvn package, or pass -Djploop.jar)");
    }
    return jar.toAbsolutePath();
  }

  /** Returns {@code target/test-classes}, for child JVMs running test-side programs. */
  public static Path testClasses() {
    return jar().getParent().resolve("test-classes");
  }

  /** Runs {@code java -jar jploop.jar args...}; kills it after {@code timeoutSec}. */
  public static Result ploop(int timeoutSec, String... args) throws IOException {
    List<String> argv = new ArrayList<>();
    argv.add(javaBin());
    argv.add("-jar");
    argv.add(jar().toString());
    argv.addAll(List.of(args));
    return run(timeoutSec, argv.toArray(String[]::new));
  }

  /** Returns the java launcher of the running JVM. */
  public static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Runs a command; on timeout kills it and returns exit -1 with "TIMEOUT" in stderr. */
  public static Result run(int timeoutSec, String... argv) throws IOException {
    long t0 = System.nanoTime();
    Path out = Files.createTempFile("jploop-out-", ".txt");
    Path err = Files.createTempFile("jploop-err-", ".txt");
    try {
      Process p =
          new ProcessBuilder(argv)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      boolean done;
      try {
        done = p.waitFor(timeoutSec, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IOException("interrupted: " + String.join(" ", argv));
      }
      if (!done) {
        p.destroyForcibly();
        try {
          p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      String o = Files.readString(out, StandardCharsets.UTF_8);
      String e = Files.readString(err, StandardCharsets.UTF_8);
      return done
          ? new Result(p.exitValue(), o, e, ms)
          : new Result(
              -1, o, e + "\nTIMEOUT after " + timeoutSec + " s: " + String.join(" ", argv), ms);
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /** Runs a host command and fails with its output unless it exits 0. */
  public static String must(int timeoutSec, String... argv) throws IOException {
    Result r = run(timeoutSec, argv);
    if (r.exit() != 0) {
      throw new AssertionError(String.join(" ", argv) + " failed: " + r.all());
    }
    return r.out();
  }

  /**
   * Skips the calling test unless it runs as root with /dev/fuse, printing a loud warning: mount
   * tests must run in CI (which has both) and may only skip elsewhere.
   */
  public static void assumeMountable(String test) {
    boolean fuse = Files.exists(Path.of("/dev/fuse"));
    boolean root = "root".equals(System.getProperty("user.name"));
    if (!fuse || !root) {
      String why =
          (!fuse ? "/dev/fuse is missing" : "")
              + (!fuse && !root ? " and " : "")
              + (!root ? "not running as root" : "");
      System.err.println(
          "\n*****************************************************************\n"
              + "WARNING: "
              + test
              + " SKIPPED: "
              + why
              + "\n"
              + "*****************************************************************\n");
      Assumptions.abort(test + " needs root and /dev/fuse: " + why);
    }
  }
}
