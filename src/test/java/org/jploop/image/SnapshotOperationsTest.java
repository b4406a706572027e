package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.image.TestDisks.CLUSTER_BYTES;
import static org.jploop.image.TestDisks.assertQemuClean;
import static org.jploop.image.TestDisks.assertVisible;
import static org.jploop.image.TestDisks.cli;
import static org.jploop.image.TestDisks.writeRandom;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import org.jploop.format.FormatVersion;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Snapshot, snapshot-list, snapshot-switch, snapshot-delete and snapshot-merge through the CLI on
 * real images: every remaining chain must read like its byte model through qemu-img, and every
 * image must pass qemu-img check.
 */
class SnapshotOperationsTest {
  @RegisterExtension final Seed seed = new Seed();
  @TempDir Path dir;

  private static final String S1 = "{11111111-1111-4111-8111-111111111111}";
  private static final String S2 = "{22222222-2222-4222-8222-222222222222}";
  private static final String S3 = "{33333333-3333-4333-8333-333333333333}";

  /** Builds base(m0) -S1- d1(m1) -S2- d2(m2) -S3- top(m3). Returns the models. */
  private byte[][] chainOfFour(Path xml, Random rnd) throws Exception {
    byte[][] m = new byte[4][];
    m[0] = writeRandom(xml, new byte[256 * CLUSTER_BYTES], rnd, 60);
    String[] guids = {S1, S2, S3};
    for (int i = 0; i < 3; i++) {
      assertThat(cli("snapshot", "-u", guids[i], xml.toString()).exitCode()).isZero();
      m[i + 1] = writeRandom(xml, m[i], rnd, 40);
    }
    return m;
  }

  @ParameterizedTest
  @EnumSource(FormatVersion.class)
  void snapshot_createsEmptyTopAndFreezesOldTop(FormatVersion version) throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, version);
    byte[] m0 = writeRandom(xml, new byte[256 * CLUSTER_BYTES], seed.random(), 50);
    TestDisks.CliResult r = cli("snapshot", "-u", S1, xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("ploop snapshot " + S1 + " has been successfully created");
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.images()).hasSize(2);
    assertThat(d.image(S1).file()).isEqualTo("root.hds");
    assertThat(d.image(Guid.TOP_DELTA).file()).matches("root\\.hds\\.\\{[0-9a-f-]{36}}");
    assertThat(d.shot(Guid.TOP_DELTA).parentGuid()).isEqualTo(S1);
    assertThat(d.shot(S1).parentGuid()).isEqualTo(Guid.NONE);
    assertThat(Files.size(TestDisks.top(xml))).isEqualTo(CLUSTER_BYTES);
    assertVisible(xml, null, m0);
    assertVisible(xml, S1, m0);
    assertThat(Files.exists(DescriptorTransaction.tempFor(xml))).isFalse();
    assertQemuClean(xml);

    assertThat(cli("snapshot", "-u", S1, xml.toString()).exitCode()).isEqualTo(38);
  }

  @Test
  void snapshotList_printsPloopColumns() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    chainOfFour(xml, seed.random());
    TestDisks.CliResult r = cli("snapshot-list", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    String[] lines = r.out().split("\n");
    assertThat(lines).hasSize(5);
    assertThat(lines[0])
        .isEqualTo(
            String.format(Locale.ROOT, "%-38s %1s %-38s %s", "PARENT_UUID", "C", "UUID", "FNAME"));
    assertThat(lines[1])
        .isEqualTo(
            String.format(
                Locale.ROOT,
                "%-38s %1s %-38s %s",
                Guid.NONE,
                "",
                S1,
                dir.resolve("root.hds").toAbsolutePath()));
    assertThat(lines[4])
        .startsWith(String.format(Locale.ROOT, "%-38s %1s %-38s ", S3, "*", Guid.TOP_DELTA));

    TestDisks.CliResult s = cli("snapshot-list", "-H", "-s", "-o", "uuid,current", xml.toString());
    assertThat(s.out().split("\n")).containsExactly(S1 + " ", S2 + " ", S3 + " *");
    TestDisks.CliResult u = cli("snapshot-list", "-H", "-o", "uuid", "-u", S2, xml.toString());
    assertThat(u.out().split("\n")).containsExactly(S1, S2);
    assertThat(
            cli("snapshot-list", "-u", "{44444444-4444-4444-8444-444444444444}", xml.toString())
                .exitCode())
        .isEqualTo(43);
  }

  @Test
  void snapshotSwitch_showsTheSnapshotAgain() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    byte[][] m = chainOfFour(xml, seed.random());
    Path oldTop = TestDisks.top(xml);
    TestDisks.CliResult r = cli("snapshot-switch", "-u", S1, xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("ploop snapshot has been successfully switched");
    assertThat(Files.exists(oldTop)).isFalse();
    assertVisible(xml, null, m[0]);
    assertVisible(xml, S3, m[2]);
    assertThat(DiskDescriptor.read(xml).shot(Guid.TOP_DELTA).parentGuid()).isEqualTo(S1);
    assertQemuClean(xml);
    assertThat(cli("snapshot-switch", "-u", Guid.TOP_DELTA, xml.toString()).exitCode())
        .isEqualTo(38);
  }

  @Test
  void snapshotDelete_mergesIntoTheOnlyChild() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    byte[][] m = chainOfFour(xml, seed.random());
    Path s2File = DiskDescriptor.resolveImage(xml, DiskDescriptor.read(xml).image(S2));
    Path s3File = DiskDescriptor.resolveImage(xml, DiskDescriptor.read(xml).image(S3));
    TestDisks.CliResult r = cli("snapshot-delete", "-u", S2, xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.shot(S2)).isNull();
    assertThat(d.shot(S3).parentGuid()).isEqualTo(S1);
    assertThat(DiskDescriptor.resolveImage(xml, d.image(S3))).isEqualTo(s2File);
    assertThat(Files.exists(s3File)).isFalse();
    assertVisible(xml, S1, m[0]);
    assertVisible(xml, S3, m[2]);
    assertVisible(xml, null, m[3]);
    assertQemuClean(xml);
  }

  @Test
  void snapshotDelete_topAndBaseAndBranches() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    byte[][] m = chainOfFour(xml, seed.random());
    assertThat(cli("snapshot-delete", "-u", S1, xml.toString()).exitCode()).isZero();
    assertVisible(xml, null, m[3]);
    assertThat(
            cli("snapshot-delete", "-u", "{44444444-4444-4444-8444-444444444444}", xml.toString())
                .exitCode())
        .isEqualTo(43);
    // Deleting the top (no children) drops its data; the parent becomes the top.
    assertThat(cli("snapshot-delete", "-u", Guid.TOP_DELTA, xml.toString()).exitCode()).isZero();
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.shot(S3)).isNull();
    assertVisible(xml, null, m[2]);
    String base = d.chain(xml, d.topGuid()).get(0).guid();
    assertThat(cli("snapshot-delete", "-u", base, xml.toString()).exitCode()).isZero();
    assertThat(DiskDescriptor.read(xml).images()).hasSize(1);
    assertVisible(xml, null, m[2]);
    assertThat(cli("snapshot-delete", "-u", Guid.TOP_DELTA, xml.toString()).exitCode())
        .isEqualTo(38);
    assertQemuClean(xml);
  }

  @Test
  void snapshotMerge_topIntoParentAndAll() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    byte[][] m = chainOfFour(xml, seed.random());
    TestDisks.CliResult r = cli("snapshot-merge", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("Merging image: ").contains("ploop snapshot merged");
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.images()).hasSize(3);
    assertThat(d.shot(Guid.TOP_DELTA).parentGuid()).isEqualTo(S2);
    assertVisible(xml, null, m[3]);
    assertVisible(xml, S2, m[1]);
    assertQemuClean(xml);

    r = cli("snapshot-merge", "-A", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    d = DiskDescriptor.read(xml);
    assertThat(d.images()).hasSize(1);
    assertThat(d.images().get(0).file()).isEqualTo("root.hds");
    assertThat(d.topGuid()).isEqualTo(Guid.TOP_DELTA);
    assertVisible(xml, null, m[3]);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("root.hds", "DiskDescriptor.xml", "DiskDescriptor.xml.lck");
    }
    assertQemuClean(xml);
  }

  @Test
  void snapshotMerge_refusesAParentWithTwoChildren() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    Random rnd = seed.random();
    byte[][] m = chainOfFour(xml, rnd);
    // Give S2 a second child: delete S3's role as the only child by switching to S2.
    assertThat(cli("snapshot-switch", "-u", S2, xml.toString()).exitCode()).isZero();
    byte[] branch = writeRandom(xml, m[1], rnd, 20);
    TestDisks.CliResult r = cli("snapshot-merge", "-u", S3, xml.toString());
    assertThat(r.exitCode()).isEqualTo(38);
    assertThat(r.err()).contains("Can't merge to snapshot " + S2 + ": it has 2 children");
    // Deleting S2 (two children) only marks it temporary.
    r = cli("snapshot-delete", "-u", S2, xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(DiskDescriptor.read(xml).shot(S2).temporary()).isEqualTo("Temporary");
    assertVisible(xml, null, branch);
    assertVisible(xml, S3, m[2]);
    assertQemuClean(xml);
    // Once the other branch goes, the temporary S2 is merged into its last child automatically.
    r = cli("snapshot-delete", "-u", S3, xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("Merging temporary snapshot " + S2);
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.shot(S2)).isNull();
    assertThat(d.shot(S3)).isNull();
    assertThat(d.shot(Guid.TOP_DELTA).parentGuid()).isEqualTo(S1);
    assertVisible(xml, null, branch);
    assertVisible(xml, S1, m[0]);
    assertThat(CrashRecovery.strays(xml)).isEmpty();
    assertQemuClean(xml);
  }

  @Test
  void snapshotOnARawBase_stacksAPloopDelta_andMergesBackIntoIt() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    Random rnd = seed.random();
    byte[] m0 = writeRandom(xml, new byte[256 * CLUSTER_BYTES], rnd, 50);
    assertThat(cli("convert", "-f", "raw", xml.toString()).exitCode()).isZero();
    TestDisks.CliResult r = cli("snapshot", "-u", S1, xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    byte[] m1 = writeRandom(xml, m0, rnd, 30);
    assertVisible(xml, null, m1);
    assertVisible(xml, S1, m0);
    assertQemuClean(xml);
    r = cli("snapshot-merge", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.images()).as("one raw image left").hasSize(1);
    assertThat(d.raw()).isTrue();
    assertVisible(xml, null, m1);
    assertThat(CrashRecovery.strays(xml)).isEmpty();
  }

  @Test
  void unknownSnapshotsAreExit43() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    chainOfFour(xml, seed.random());
    String missing = "{44444444-4444-4444-8444-444444444444}";
    for (String verb : new String[] {"snapshot-switch", "snapshot-merge", "snapshot-delete"}) {
      TestDisks.CliResult r = cli(verb, "-u", missing, xml.toString());
      assertThat(r.exitCode()).as(verb + ": " + r.err()).isEqualTo(43);
      assertThat(r.err().trim()).isEqualTo("Can't find snapshot by uuid " + missing);
    }
    assertThat(cli("snapshot-merge", "-u", "nonsense", xml.toString()).exitCode()).isEqualTo(38);
  }

  @Test
  void operationsRefuseALockedOrDirtyDisk() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    chainOfFour(xml, seed.random());
    try (var lock = org.jploop.io.DiskLock.tryAcquire(xml, "mount").orElseThrow()) {
      TestDisks.CliResult r = cli("snapshot-merge", xml.toString());
      assertThat(r.exitCode()).isEqualTo(17);
      assertThat(r.err()).contains("is in use").contains("mount").doesNotContain("Exception");
    }
    Path top = TestDisks.top(xml);
    try (var f = org.jploop.io.FileBlockFile.open(top, false)) {
      var h = org.jploop.io.ImageReader.readHeader(f);
      org.jploop.io.ImageWriter.writeHeader(
          f, h.withDiskInUse(org.jploop.format.ImageHeader.IN_USE));
    }
    byte[] before = Files.readAllBytes(top);
    for (String[] args :
        new String[][] {
          {"snapshot"},
          {"snapshot-merge"},
          {"compact"},
          {"resize", "-s", "16M"},
          {"convert", "-v", "1"}
        }) {
      String[] full = java.util.Arrays.copyOf(args, args.length + 1);
      full[args.length] = xml.toString();
      TestDisks.CliResult r = cli(full);
      assertThat(r.exitCode()).as(String.join(" ", args) + ": " + r.err()).isEqualTo(37);
      assertThat(r.err()).contains("Image is in use " + top);
    }
    assertThat(Files.readAllBytes(top)).isEqualTo(before);
  }
}
