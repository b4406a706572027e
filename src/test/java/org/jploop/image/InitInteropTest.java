package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.image.TestDisks.CLUSTER_BYTES;
import static org.jploop.image.TestDisks.assertQemuClean;
import static org.jploop.image.TestDisks.assertVisible;
import static org.jploop.image.TestDisks.cli;
import static org.jploop.image.TestDisks.writeRandom;

import java.nio.file.Path;
import java.util.Random;
import org.jploop.format.descriptor.DiskDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The offline verbs on disks made by {@code ploop init} (expanded, preallocated, raw, v1). */
class InitInteropTest {
  @RegisterExtension final Seed seed = new Seed();
  @TempDir Path dir;

  private Path init(String... extra) {
    String[] args = new String[extra.length + 8];
    String[] head = {"init", "-s", "8M", "-b", "64", "-t", "none"};
    System.arraycopy(head, 0, args, 0, head.length);
    System.arraycopy(extra, 0, args, head.length, extra.length);
    args[args.length - 1] = dir.resolve("root.hds").toString();
    TestDisks.CliResult r = cli(args);
    assertThat(r.exitCode()).as(r.err()).isZero();
    return dir.resolve(DiskDescriptor.FILE_NAME);
  }

  @Test
  void expandedV1_snapshotMergeConvert() throws Exception {
    Path xml = init("-v", "1");
    Random rnd = seed.random();
    byte[] m0 = writeRandom(xml, new byte[256 * CLUSTER_BYTES], rnd, 40);
    assertThat(cli("snapshot", xml.toString()).exitCode()).isZero();
    byte[] m1 = writeRandom(xml, m0, rnd, 40);
    assertThat(cli("convert", "-v", "2", xml.toString()).exitCode()).isZero();
    assertThat(cli("snapshot-merge", "-A", xml.toString()).exitCode()).isZero();
    assertVisible(xml, null, m1);
    assertQemuClean(xml);
    TestDisks.CliResult check = cli("check", "-f", "-c", dir.resolve("root.hds").toString());
    assertThat(check.exitCode()).as(check.out() + check.err()).isZero();
  }

  @Test
  void preallocated_convertToExpandedAndCompact() throws Exception {
    Path xml = init("-f", "preallocated");
    assertThat(DiskDescriptor.read(xml).preallocated()).isTrue();
    byte[] m0 = writeRandom(xml, new byte[256 * CLUSTER_BYTES], seed.random(), 40);
    TestDisks.CliResult r = cli("convert", "-f", "expanded", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(DiskDescriptor.read(xml).preallocated()).isFalse();
    TestDisks.CliResult c = cli("compact", xml.toString());
    assertThat(c.out()).contains("moved 0 clusters");
    assertVisible(xml, null, m0);
    assertQemuClean(xml);
  }

  @Test
  void expanded_convertToPreallocatedMapsEveryCluster() throws Exception {
    Path xml = init();
    byte[] m0 = writeRandom(xml, new byte[256 * CLUSTER_BYTES], seed.random(), 40);
    TestDisks.CliResult r = cli("convert", "-f", "preallocated", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(DiskDescriptor.read(xml).preallocated()).isTrue();
    Path img = dir.resolve("root.hds");
    try (DeltaFile d = DeltaFile.open(img, true)) {
      assertThat(d.mappedCount()).isEqualTo(256);
      assertThat(d.header().inUse()).isFalse();
    }
    assertThat(java.nio.file.Files.size(img)).isEqualTo(257L * CLUSTER_BYTES);
    assertThat(TestDisks.allocatedBytes(img)).isGreaterThanOrEqualTo(256L * CLUSTER_BYTES);
    assertVisible(xml, null, m0);
    assertQemuClean(xml);
    assertThat(cli("snapshot", xml.toString()).exitCode()).isZero();
    assertThat(cli("convert", "-f", "preallocated", xml.toString()).exitCode()).isEqualTo(38);
  }

  @Test
  void raw_snapshotThenConvertBaseToPloop() throws Exception {
    Path xml = init("-f", "raw");
    assertThat(DiskDescriptor.read(xml).raw()).isTrue();
    assertThat(cli("convert", "-f", "ploop1", xml.toString()).exitCode()).isZero();
    byte[] m0 = writeRandom(xml, new byte[256 * CLUSTER_BYTES], seed.random(), 40);
    assertThat(cli("snapshot", xml.toString()).exitCode()).isZero();
    assertVisible(xml, null, m0);
    assertQemuClean(xml);
  }
}
