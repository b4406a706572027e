package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.image.TestDisks.CLUSTER_BYTES;
import static org.jploop.image.TestDisks.assertQemuClean;
import static org.jploop.image.TestDisks.assertVisible;
import static org.jploop.image.TestDisks.cli;
import static org.jploop.image.TestDisks.writeRandom;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.jploop.format.FormatVersion;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ploop snapshot-merge -n NEW_DELTA} ({@link SnapshotMerger#intoNew}): the child and its
 * parent (or with {@code -A} the whole chain) end up in the new file, which the child takes over;
 * both old files are gone, the content is the same, and a NEW_DELTA that exists or lies outside the
 * directory is refused with exit 38 before anything changes.
 */
class MergeIntoNewDeltaTest {
  @RegisterExtension final Seed seed = new Seed();
  @TempDir Path dir;

  private static final String S1 = "{11111111-1111-4111-8111-111111111111}";
  private static final String S2 = "{22222222-2222-4222-8222-222222222222}";

  @Test
  void testMergeTopIntoParent_intoNewFile() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    Random rnd = seed.random();
    byte[] m0 = writeRandom(xml, new byte[256 * CLUSTER_BYTES], rnd, 50);
    assertThat(cli("snapshot", "-u", S1, xml.toString()).exitCode()).isZero();
    byte[] m1 = writeRandom(xml, m0, rnd, 40);
    assertThat(cli("snapshot", "-u", S2, xml.toString()).exitCode()).isZero();
    byte[] m2 = writeRandom(xml, m1, rnd, 40);
    Path s2File = DiskDescriptor.read(xml).fileOf(xml, DiskDescriptor.read(xml).image(S2));
    Path topFile = TestDisks.top(xml);
    TestDisks.CliResult r =
        cli("snapshot-merge", "-n", dir.resolve("merged.hds").toString(), xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("(new) " + dir.resolve("merged.hds"), "ploop snapshot merged");
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.image(Guid.TOP_DELTA).file()).isEqualTo("merged.hds");
    assertThat(d.image(S2)).isNull();
    assertThat(d.shot(Guid.TOP_DELTA).parentGuid()).isEqualTo(S1);
    assertThat(s2File).doesNotExist();
    assertThat(topFile).doesNotExist();
    assertVisible(xml, null, m2);
    assertVisible(xml, S1, m0);
    assertQemuClean(xml);
  }

  @Test
  void testMergeAll_intoNewFile_andRefusals() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V1);
    Random rnd = seed.random();
    byte[] m = writeRandom(xml, new byte[256 * CLUSTER_BYTES], rnd, 50);
    for (String g : new String[] {S1, S2}) {
      assertThat(cli("snapshot", "-u", g, xml.toString()).exitCode()).isZero();
      m = writeRandom(xml, m, rnd, 30);
    }
    String before = Files.readString(xml);
    Path outside = Files.createTempDirectory("outside").resolve("x.hds");
    TestDisks.CliResult far = cli("snapshot-merge", "-A", "-n", outside.toString(), xml.toString());
    assertThat(far.exitCode()).isEqualTo(38);
    assertThat(far.err()).contains("is not in " + dir.toRealPath());
    TestDisks.CliResult exists =
        cli("snapshot-merge", "-A", "-n", dir.resolve("root.hds").toString(), xml.toString());
    assertThat(exists.exitCode()).isEqualTo(38);
    assertThat(exists.err()).contains("Can't merge to new image");
    assertThat(Files.readString(xml)).isEqualTo(before);
    // a relative NEW_DELTA is relative to the working directory (the build's), not to the disk
    TestDisks.CliResult r = cli("snapshot-merge", "-A", "-n", "all.hds", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isEqualTo(38);
    r = cli("snapshot-merge", "-A", "-n", dir.resolve("all.hds").toString(), xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.images()).extracting(DiskDescriptor.ImageEntry::file).containsExactly("all.hds");
    assertThat(d.topGuid()).isEqualTo(Guid.TOP_DELTA);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains("hds")))
          .containsExactly("all.hds");
    }
    try (DeltaFile f = DeltaFile.open(dir.resolve("all.hds"), true)) {
      assertThat(f.version()).isEqualTo(FormatVersion.V1);
    }
    assertVisible(xml, null, m);
    assertQemuClean(xml);
  }
}
