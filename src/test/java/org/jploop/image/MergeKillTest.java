package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.image.TestDisks.CLUSTER_BYTES;
import static org.jploop.image.TestDisks.cli;
import static org.jploop.image.TestDisks.writeRandom;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jploop.cli.PloopCli;
import org.jploop.format.FormatVersion;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real kill -9 of a child JVM running {@code ploop snapshot-merge -A} on a ~190 MiB chain, in the
 * middle of the copy. Afterwards the disk must recover, read exactly as before, and a second merge
 * must finish the job.
 */
class MergeKillTest {
  @RegisterExtension final Seed seed = new Seed();
  @TempDir Path dir;

  private static boolean baseInUse(Path base) throws Exception {
    try (var f = FileBlockFile.open(base, true)) {
      return ImageReader.readHeader(f).inUse();
    }
  }

  @Test
  void killDuringMergeAll_losesNothing() throws Exception {
    Random rnd = seed.random();
    long clusters = 6000;
    Path xml = TestDisks.newDisk(dir, clusters, FormatVersion.V2);
    byte[] m0 = writeRandom(xml, new byte[(int) (clusters * CLUSTER_BYTES)], rnd, 3000);
    assertThat(cli("snapshot", xml.toString()).exitCode()).isZero();
    byte[] m1 = writeRandom(xml, m0, rnd, 3000);
    Path base = dir.resolve("root.hds");

    String java = ProcessHandle.current().info().command().orElse("java");
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process child =
        new ProcessBuilder(
                java, "-cp", cp, PloopCli.class.getName(), "snapshot-merge", "-A", xml.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("child.log").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!baseInUse(base) && child.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(2);
    }
    Thread.sleep(rnd.nextInt(60)); // the merge itself takes about a second here
    boolean killedMidway = child.isAlive();
    child.destroyForcibly(); // SIGKILL
    child.waitFor(30, TimeUnit.SECONDS);
    System.out.println(
        "merge child killed midway: "
            + killedMidway
            + ", exit "
            + child.exitValue()
            + ", log: "
            + Files.readString(dir.resolve("child.log")).trim());
    assertThat(killedMidway)
        .as("the merge was still running when killed (seed " + seed.value + ")")
        .isTrue();
    assertThat(child.exitValue()).isEqualTo(137);
    assertThat(baseInUse(base)).as("the interrupted merge left the base dirty").isTrue();

    // The dirty base is refused until check has run.
    assertThat(cli("snapshot-merge", "-A", xml.toString()).exitCode()).isEqualTo(37);
    System.out.println(CrashRecovery.recover(xml).trim());
    TestDisks.assertVisible(xml, null, m1);
    TestDisks.CliResult r = cli("snapshot-merge", "-A", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(DiskDescriptor.read(xml).images()).hasSize(1);
    TestDisks.assertVisible(xml, null, m1);
    TestDisks.assertQemuClean(xml);
    assertThat(CrashRecovery.strays(xml)).isSubsetOf(List.of("child.log"));
  }
}
