package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.image.TestDisks.CLUSTER_BYTES;
import static org.jploop.image.TestDisks.assertQemuClean;
import static org.jploop.image.TestDisks.assertVisible;
import static org.jploop.image.TestDisks.cli;
import static org.jploop.image.TestDisks.writeRandom;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** resize, compact and convert through the CLI on real images, checked with qemu-img. */
class ResizeCompactConvertTest {
  @RegisterExtension final Seed seed = new Seed();
  @TempDir Path dir;

  /** 32 KiB clusters: one header cluster holds 8176 entries, so 8200 clusters need two. */
  private static final long ONE_HEADER_CLUSTER = CLUSTER_BYTES / 4 - 16;

  private static ImageHeader header(Path p) throws Exception {
    try (var f = FileBlockFile.open(p, true)) {
      return ImageReader.readHeader(f);
    }
  }

  @ParameterizedTest
  @EnumSource(FormatVersion.class)
  void resize_growsPastAHeaderClusterRelocatingData(FormatVersion version) throws Exception {
    Path xml = TestDisks.newDisk(dir, 512, version);
    Random rnd = seed.random();
    byte[] m0 = writeRandom(xml, new byte[512 * CLUSTER_BYTES], rnd, 100);
    assertThat(cli("snapshot", xml.toString()).exitCode()).isZero();
    byte[] m1 = writeRandom(xml, m0, rnd, 80);
    long newClusters = ONE_HEADER_CLUSTER + 100; // needs two header clusters
    long sectors = newClusters * TestDisks.CLUSTER_SECTORS;
    TestDisks.CliResult r = cli("resize", "-s", Long.toString(sectors), xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.diskSizeSectors()).isEqualTo(sectors);
    ImageHeader h = header(TestDisks.top(xml));
    assertThat(h.batEntries()).isEqualTo(newClusters);
    assertThat(h.firstBlockOffset()).isEqualTo(2L * TestDisks.CLUSTER_SECTORS);
    assertThat(h.inUse()).isFalse();
    byte[] expected = Arrays.copyOf(m1, (int) (newClusters * CLUSTER_BYTES));
    assertVisible(xml, null, expected);
    assertQemuClean(xml);
    // New space is writable and the grown disk can be snapshotted and merged.
    byte[] m2 = writeRandom(xml, expected, rnd, 50);
    assertThat(cli("snapshot-merge", "-A", xml.toString()).exitCode()).isZero();
    assertVisible(xml, null, m2);
    assertQemuClean(xml);
  }

  @Test
  void resize_refusesShrinkAndTinySizes() throws Exception {
    Path xml = TestDisks.newDisk(dir, 512, FormatVersion.V2);
    byte[] before = Files.readAllBytes(dir.resolve("root.hds"));
    TestDisks.CliResult r = cli("resize", "-s", "8M", xml.toString());
    assertThat(r.exitCode()).isEqualTo(38);
    assertThat(r.err()).startsWith("Unable to shrink: ");
    assertThat(cli("resize", "-s", "64K", xml.toString()).exitCode()).isEqualTo(38);
    TestDisks.CliResult g = cli("grow", "-s", "8M", xml.toString());
    assertThat(g.exitCode()).isEqualTo(38);
    assertThat(g.err().trim()).isEqualTo("Error: new size 16384 is less than the old size 32768");
    assertThat(cli("resize", "-s", "16M", xml.toString()).exitCode()).isZero();
    assertThat(Files.readAllBytes(dir.resolve("root.hds"))).isEqualTo(before);
    assertThat(DiskDescriptor.read(xml).diskSizeSectors()).isEqualTo(512L * 64);
    TestDisks.CliResult ok = cli("grow", "-s", "32M", xml.toString());
    assertThat(ok.exitCode()).as(ok.err()).isZero();
    assertThat(DiskDescriptor.read(xml).diskSizeSectors()).isEqualTo(65536);
    assertThat(header(dir.resolve("root.hds")).sizeSectors()).isEqualTo(65536);
    assertQemuClean(xml);
  }

  @Test
  void resize_refusesAV1DiskPast2TiB() throws Exception {
    Path xml = TestDisks.newDisk(dir, 512, FormatVersion.V1);
    byte[] before = Files.readAllBytes(dir.resolve("root.hds"));
    TestDisks.CliResult r = cli("resize", "-s", "3T", xml.toString());
    assertThat(r.exitCode()).isEqualTo(38);
    assertThat(r.err()).contains("a v1 image holds at most 4294967295 sectors");
    assertThat(Files.readAllBytes(dir.resolve("root.hds"))).isEqualTo(before);
    assertThat(DiskDescriptor.read(xml).diskSizeSectors()).isEqualTo(512L * 64);
  }

  /** Unmaps every other cluster the way a discard does: BAT entry zeroed, hole punched. */
  private static byte[] discardHalf(Path img, byte[] model) throws Exception {
    byte[] next = model.clone();
    ImageHeader h = header(img);
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE);
        var f = FileBlockFile.open(img, false)) {
      for (long c = 0; c < h.batEntries(); c += 2) {
        ByteBuffer e = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(e, ImageGeometry.batEntryOffset(c));
        long raw = Integer.toUnsignedLong(e.flip().getInt());
        if (raw == 0) {
          continue;
        }
        ch.write(ByteBuffer.allocate(4), ImageGeometry.batEntryOffset(c));
        ch.force(true);
        long phys = h.version() == FormatVersion.V2 ? raw : raw / TestDisks.CLUSTER_SECTORS;
        f.punchHole(phys * CLUSTER_BYTES, CLUSTER_BYTES);
        Arrays.fill(next, (int) (c * CLUSTER_BYTES), (int) ((c + 1) * CLUSTER_BYTES), (byte) 0);
      }
    }
    return next;
  }

  @ParameterizedTest
  @EnumSource(FormatVersion.class)
  void compact_shrinksFileAndDu(FormatVersion version) throws Exception {
    Path xml = TestDisks.newDisk(dir, 1024, version);
    Path img = dir.resolve("root.hds");
    byte[] m = writeRandom(xml, new byte[1024 * CLUSTER_BYTES], seed.random(), 600);
    m = discardHalf(img, m);
    long sizeBefore = Files.size(img);
    long duBefore = TestDisks.allocatedBytes(img);
    TestDisks.CliResult r = cli("compact", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    long mapped;
    try (DeltaFile d = DeltaFile.open(img, true)) {
      mapped = d.mappedCount();
    }
    assertThat(Files.size(img)).isEqualTo((1 + mapped) * CLUSTER_BYTES).isLessThan(sizeBefore);
    assertThat(TestDisks.allocatedBytes(img)).isLessThanOrEqualTo(duBefore);
    assertThat(r.out()).contains("moved ").contains(" -> " + Files.size(img) + " bytes");
    assertThat(header(img).inUse()).isFalse();
    assertVisible(xml, null, m);
    assertQemuClean(xml);
    TestDisks.CliResult again = cli("compact", xml.toString());
    assertThat(again.out()).contains("moved 0 clusters");
  }

  @Test
  void convert_versionRoundTripOfAChain() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    Random rnd = seed.random();
    byte[] m0 = writeRandom(xml, new byte[256 * CLUSTER_BYTES], rnd, 60);
    assertThat(
            cli("snapshot", "-u", "{11111111-1111-4111-8111-111111111111}", xml.toString())
                .exitCode())
        .isZero();
    byte[] m1 = writeRandom(xml, m0, rnd, 60);
    TestDisks.CliResult r = cli("convert", "-v", "1", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    for (Path p : new OfflineDiskFiles(xml).all()) {
      assertThat(header(p).version()).isEqualTo(FormatVersion.V1);
      assertThat(header(p).flags() & ImageHeader.CIF_FMT_VERSION_CONVERT).isZero();
      assertThat(FormatConverter.backupOf(p)).doesNotExist();
    }
    assertVisible(xml, null, m1);
    assertVisible(xml, "{11111111-1111-4111-8111-111111111111}", m0);
    assertQemuClean(xml);
    assertThat(cli("convert", "-v", "2", xml.toString()).exitCode()).isZero();
    assertThat(header(TestDisks.top(xml)).version()).isEqualTo(FormatVersion.V2);
    assertVisible(xml, null, m1);
    assertQemuClean(xml);
    assertThat(cli("convert", "-v", "3", xml.toString()).exitCode()).isEqualTo(38);
  }

  @Test
  void convert_rawRoundTrip() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    byte[] m0 = writeRandom(xml, new byte[256 * CLUSTER_BYTES], seed.random(), 100);
    Path img = dir.resolve("root.hds");
    TestDisks.CliResult r = cli("convert", "-f", "raw", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(DiskDescriptor.read(xml).raw()).isTrue();
    TestDisks.assertSameContent(Files.readAllBytes(img), m0, "raw image");
    assertThat(cli("convert", "-f", "ploop1", xml.toString()).exitCode()).isZero();
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.raw()).isFalse();
    long nonZero = 0;
    for (int c = 0; c < 256; c++) {
      byte[] cl = Arrays.copyOfRange(m0, c * CLUSTER_BYTES, (c + 1) * CLUSTER_BYTES);
      if (!Arrays.equals(cl, new byte[CLUSTER_BYTES])) {
        nonZero++;
      }
    }
    try (DeltaFile delta = DeltaFile.open(img, true)) {
      assertThat(delta.mappedCount()).isEqualTo(nonZero);
    }
    assertThat(Files.size(img)).isEqualTo((1 + nonZero) * CLUSTER_BYTES);
    assertVisible(xml, null, m0);
    assertQemuClean(xml);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("root.hds", "DiskDescriptor.xml", "DiskDescriptor.xml.lck");
    }
  }

  /** The image files of a descriptor. */
  private record OfflineDiskFiles(Path xml) {
    java.util.List<Path> all() throws Exception {
      DiskDescriptor d = DiskDescriptor.read(xml);
      java.util.List<Path> out = new java.util.ArrayList<>();
      for (var e : d.images()) {
        out.add(DiskDescriptor.resolveImage(xml, e));
      }
      return out;
    }
  }
}
