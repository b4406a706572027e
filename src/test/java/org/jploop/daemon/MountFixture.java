package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jploop.testing.PloopProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one fixture of the mount tests (MountIT, OnlineIT, KernelFrontendIT extend it; SeedScenarioIT
 * and EnospcIT use its helpers): per test a fresh directory holding {@code DiskDescriptor.xml},
 * {@code root.hds} and an empty mount point {@code mnt}, skipped loudly where FUSE cannot work, and
 * everything of the disk unmounted afterwards; the front end the test mounts with ({@link #use},
 * default: the default front end); and helpers that run the real {@code ploop} (the shaded jar
 * Failsafe names in {@code jploop.jar}) and host tools through {@link PloopProcess}. Not
 * thread-safe.
 */
abstract class MountFixture {
  @TempDir protected Path dir;
  protected Path xml;
  protected Path image;
  protected Path mnt;

  /** {@code --frontend} for {@link #mount}, or null for the default. */
  private String frontend;

  /** One finished process. */
  record Run(int exitCode, String out, String err) {
    Run ok() {
      assertThat(exitCode).as("exit code; stdout=%s stderr=%s", out, err).isZero();
      return this;
    }
  }

  @BeforeEach
  void setUpDisk(TestInfo test) throws IOException {
    requireFuse(test.getDisplayName());
    xml = dir.resolve("DiskDescriptor.xml");
    image = dir.resolve("root.hds");
    mnt = Files.createDirectory(dir.resolve("mnt"));
  }

  @AfterEach
  void tearDownDisk() throws Exception {
    forceCleanup(xml);
    sh(30, "umount", mnt.toString());
  }

  /** Mounts with front end {@code name} from now on. */
  protected void use(String name) {
    this.frontend = name;
  }

  /** Runs {@code ploop mount [--frontend F] args...}. */
  protected Run mount(String... args) throws IOException, InterruptedException {
    List<String> a = new ArrayList<>(List.of("mount"));
    if (frontend != null) {
      a.addAll(List.of("--frontend", frontend));
    }
    a.addAll(List.of(args));
    return ploop(a.toArray(String[]::new));
  }

  /** Skips the calling test, with a banner on stderr, without /dev/fuse or root. */
  static void requireFuse(String test) {
    PloopProcess.assumeMountable(test);
  }

  static Path jar() {
    return PloopProcess.jar();
  }

  /** Runs {@code ploop args...}. */
  static Run ploop(String... args) throws IOException, InterruptedException {
    return result(PloopProcess.ploop(600, args));
  }

  /** Runs a host command. */
  static Run sh(long timeoutSeconds, String... argv) throws IOException, InterruptedException {
    return result(PloopProcess.run((int) timeoutSeconds, argv));
  }

  private static Run result(PloopProcess.Result r) {
    if (r.exit() == -1 && r.err().contains("TIMEOUT after")) {
      throw new AssertionError(r.err());
    }
    return new Run(r.exit(), r.out(), r.err());
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

  /** Returns {@code n} bytes from {@code rnd} (seeded by the caller). */
  static byte[] randomBytes(java.util.Random rnd, int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }

  /** Writes {@code b} at {@code off} of {@code file} (disk.img) and fsyncs. */
  static void writeAt(Path file, long off, byte[] b) throws IOException {
    try (java.nio.channels.FileChannel ch =
        java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b);
      while (buf.hasRemaining()) {
        ch.write(buf, off + buf.position());
      }
      ch.force(true);
    }
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
      if (xml != null && Files.exists(xml)) {
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
