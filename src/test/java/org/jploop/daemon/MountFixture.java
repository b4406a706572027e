package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Shared helpers of the mount tests: runs the real {@code ploop} (the shaded jar Failsafe names in
 * {@code jploop.jar}) and host tools, and skips loudly where FUSE cannot work.
 */
final class MountFixture {
  private MountFixture() {}

  /** One finished process. */
  record Run(int exitCode, String out, String err) {
    Run ok() {
      assertThat(exitCode).as("exit code; stdout=%s stderr=%s", out, err).isZero();
      return this;
    }
  }

  /** Skips the calling test, with a banner on stderr, without /dev/fuse or root. */
  static void requireFuse() throws IOException {
    boolean fuse = Files.exists(Path.of("/dev/fuse"));
    boolean root = Files.readAllLines(Path.of("/proc/self/status")).stream()
        .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[1].equals("0"));
    if (!fuse || !root) {
      System.err.println("\n****************************************************************\n"
          + "* WARNING: mount tests SKIPPED: " + (fuse ? "not root" : "/dev/fuse is missing")
          + "\n****************************************************************\n");
    }
    assumeTrue(fuse && root, "mount tests need root and /dev/fuse");
  }

  static Path jar() {
    String p = System.getProperty("jploop.jar");
    assertThat(p).as("system property jploop.jar (set by Failsafe)").isNotNull();
    return Path.of(p);
  }

  /** Runs {@code ploop args...}. */
  static Run ploop(String... args) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        jar().toString()));
    argv.addAll(List.of(args));
    return exec(600, argv);
  }

  /** Runs a host command. */
  static Run sh(long timeoutSeconds, String... argv) throws IOException, InterruptedException {
    return exec(timeoutSeconds, List.of(argv));
  }

  private static Run exec(long timeoutSeconds, List<String> argv)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Path out = Files.createTempFile("jploop-it", ".out");
    Path err = Files.createTempFile("jploop-it", ".err");
    pb.redirectOutput(out.toFile());
    pb.redirectError(err.toFile());
    Process p = pb.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out after " + timeoutSeconds + " s: " + argv);
    }
    Run r = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  /** Returns the bytes {@code du -B1} reports for {@code dir}. */
  static long du(Path dir) throws IOException, InterruptedException {
    return Long.parseLong(sh(60, "du", "-s", "-B1", dir.toString()).ok().out().split("\\s+")[0]);
  }

  /** Returns what {@code du -h} prints for {@code dir}, e.g. "9.1M". */
  static String duHuman(Path dir) throws IOException, InterruptedException {
    return sh(60, "du", "-s", "-h", dir.toString()).ok().out().split("\\s+")[0];
  }

  /** Returns the sha256 of a file, hex. */
  static String sha256(Path f) throws IOException, InterruptedException {
    return sh(600, "sha256sum", f.toString()).ok().out().split("\\s+")[0];
  }

  /** Asserts {@code qemu-img check -f parallels} finds no errors. */
  static void qemuCheckClean(Path image) throws IOException, InterruptedException {
    Run r = sh(300, "qemu-img", "check", "-f", "parallels", image.toString());
    assertThat(r.exitCode()).as("qemu-img check %s: %s %s", image, r.out(), r.err()).isZero();
    assertThat(r.out()).contains("No errors were found");
  }

  /** Best-effort cleanup after a failed test: unmount whatever is left of {@code xml}. */
  static void forceCleanup(Path xml) {
    try {
      if (Files.exists(xml)) {
        ploop("umount", xml.toString());
      }
    } catch (IOException | InterruptedException | AssertionError e) {
      // nothing more to do
    }
  }

  /** Waits until process {@code pid} is gone. */
  static void awaitExit(long pid, long timeoutMs) throws InterruptedException {
    long end = System.currentTimeMillis() + timeoutMs;
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      assertThat(System.currentTimeMillis()).as("pid %d still alive", pid).isLessThan(end);
      Thread.sleep(50);
    }
  }

  static String readAll(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }
}
