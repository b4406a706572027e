package org.jploop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;
import org.jploop.io.CbtStore;
import org.jploop.io.DiskLock;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.io.ImageWriter;
import org.jploop.testing.TestImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ploop cbt show|dump|drop} and {@code snapshot -b}: ploop's output, messages, exits. */
class CbtCommandTest {
  static final UUID ID = UUID.fromString("12345678-1234-4234-8234-123456789abc");

  @TempDir Path dir;

  /** {@code ploop init -s 64M} (1 MiB clusters); returns the descriptor. */
  Path disk() {
    Cli.Run r = Cli.ploop("init", "-s", "64M", "-t", "none", dir.resolve("root.hds").toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    return dir.resolve("DiskDescriptor.xml");
  }

  static void putCbt(Path image, DirtyBitmap.Builder b) throws IOException {
    try (BlockFile f = FileBlockFile.open(image, false)) {
      CbtStore.write(f, ImageReader.readHeader(f), b.build());
    }
  }

  static DirtyBitmap.Builder bitmapFor(Path image) throws IOException {
    try (BlockFile f = FileBlockFile.open(image, true)) {
      return new DirtyBitmap.Builder(ID, ImageReader.readHeader(f).sizeSectors(), 128);
    }
  }

  static ImageHeader header(Path p) throws IOException {
    return TestImage.readHeader(p);
  }

  @Test
  void testShow_ploopFormat_onePiece() throws IOException {
    Path xml = disk();
    Path img = dir.resolve("root.hds");
    putCbt(img, bitmapFor(img).set(0).set(1).set(65).set(1023));
    String want =
        "Size: 131072\nL1Size: 1\nuuid: 12345678-1234-4234-8234-123456789abc\n"
            + "Granularity: 128\n<0>\t\n00000000 3 2 0 0 0 0 0 0 0 0 0 0 0 0 0 8000000000000000\n";
    for (String[] args :
        List.of(
            new String[] {"cbt", "show", xml.toString()},
            new String[] {"cbt", "show", img.toString()},
            new String[] {"cbt", "show", "--image", img.toString()})) {
      Cli.Run r = Cli.ploop(args);
      assertThat(r.exitCode()).as(r.toString()).isZero();
      assertThat(r.out()).isEqualTo(want);
      assertThat(r.err()).isEmpty();
    }
  }

  @Test
  void testShow_constantAndDataPieces_lineOffsetsAsPloop() throws IOException {
    // 32 KiB clusters, 17 GiB: 278528 bits = 34816 bytes = a full piece and a 2048-byte piece
    Path img = dir.resolve("big.hds");
    ImageWriter.createEmpty(
        img, ImageHeader.create(FormatVersion.V2, ImageGeometry.forSize(17L << 21, 64)));
    putCbt(img, bitmapFor(img).setRange(0, 262144).set(262144).set(262144 + 64 * 17));
    Cli.Run r = Cli.ploop("cbt", "show", img.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines.subList(0, 4))
        .containsExactly("Size: 35651584", "L1Size: 2", "uuid: " + ID, "Granularity: 128");
    assertThat(lines.get(4)).isEqualTo("<0>\t1");
    assertThat(lines.get(5)).isEqualTo("<1>\t");
    assertThat(lines.get(6)).isEqualTo("00000001 1" + " 0".repeat(15));
    assertThat(lines.get(7)).isEqualTo("00000041 0 1" + " 0".repeat(14));
    assertThat(lines).hasSize(6 + 16);
    assertThat(lines.get(21)).startsWith("000003c1 0 ");
  }

  @Test
  void testShow_noCbt_noOutput_exit0() {
    Path xml = disk();
    Cli.Run r = Cli.ploop("cbt", "show", xml.toString());
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).isEmpty();
  }

  @Test
  void testShow_badChecksum_exit13_oneLine_nothingModified() throws IOException {
    Path xml = disk();
    Path img = dir.resolve("root.hds");
    putCbt(img, bitmapFor(img).set(3));
    long ext = header(img).formatExtensionOffset() * 512;
    try (BlockFile f = FileBlockFile.open(img, false)) {
      f.write(ByteBuffer.wrap(new byte[] {1}), ext + 500);
    }
    TestImage.ageMtime(img);
    String before = TestImage.fingerprint(img);
    Cli.Run r = Cli.ploop("cbt", "show", xml.toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(13);
    assertThat(r.out()).isEmpty();
    assertThat(r.err())
        .isEqualTo(img + ": offset " + (ext + 8) + ": Wrong optional header checksum\n");
    Cli.Run drop = Cli.ploop("cbt", "drop", xml.toString());
    assertThat(drop.exitCode()).as(drop.toString()).isEqualTo(13);
    assertThat(TestImage.fingerprint(img)).isEqualTo(before);
  }

  @Test
  void testShow_dirtyImage_exit13() throws IOException {
    Path img = dir.resolve("root.hds");
    disk();
    putCbt(img, bitmapFor(img).set(3));
    try (BlockFile f = FileBlockFile.open(img, false)) {
      f.write(
          ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) ImageHeader.IN_USE),
          ImageHeader.OFFSET_DISK_IN_USE);
    }
    Cli.Run r = Cli.ploop("cbt", "show", img.toString());
    assertThat(r.exitCode()).isEqualTo(13);
    assertThat(r.err())
        .contains("Can't load dirty_bitmap, because image was not successfully closed");
  }

  @Test
  void testDrop_thenShowNothing() throws IOException {
    Path xml = disk();
    Path img = dir.resolve("root.hds");
    long size = Files.size(img);
    putCbt(img, bitmapFor(img).set(5));
    Cli.Run r = Cli.ploop("cbt", "drop", xml.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("Drop CBT image=" + img + "\n");
    assertThat(header(img).formatExtensionOffset()).isZero();
    assertThat(header(img).diskInUse()).isEqualTo(ImageHeader.CLOSED_V20);
    assertThat(Files.size(img)).isEqualTo(size);
    assertThat(Cli.ploop("cbt", "show", xml.toString()).out()).isEmpty();
  }

  @Test
  void testDumpSrcDst_copiesTheCbt() throws IOException {
    disk();
    Path img = dir.resolve("root.hds");
    Path other = dir.resolve("other.hds");
    Files.copy(img, other);
    putCbt(img, bitmapFor(img).set(7).set(8));
    Cli.Run r = Cli.ploop("cbt", "dump", "--src", img.toString(), "--dst", other.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("Move CBT " + img + " -> " + other + "\n");
    assertThat(Cli.ploop("cbt", "show", other.toString()).out())
        .isEqualTo(Cli.ploop("cbt", "show", img.toString()).out())
        .contains("180");
  }

  @Test
  void testDumpToFile_notMounted_exit40_noFileLeft_existingFileKept() throws IOException {
    Path xml = disk();
    Path out = dir.resolve("dump.hds");
    Cli.Run r = Cli.ploop("cbt", "dump", "--dst", out.toString(), xml.toString());
    assertThat(r.exitCode()).isEqualTo(40);
    assertThat(r.err()).isEqualTo("Image is not mounted\n");
    assertThat(out).doesNotExist();
    Files.writeString(out, "mine");
    Cli.Run again = Cli.ploop("cbt", "dump", "--dst", out.toString(), xml.toString());
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(Files.readString(out)).isEqualTo("mine");
  }

  @Test
  void testLockedDisk_refusedAsInUse() throws IOException {
    // locked by something that is not a mount daemon (a mounted disk's CBT is the daemon's)
    Path xml = disk();
    try (DiskLock held = DiskLock.tryAcquire(xml.toAbsolutePath(), "test mount").orElseThrow()) {
      Cli.Run r = Cli.ploop("cbt", "show", xml.toString());
      assertThat(r.exitCode()).isEqualTo(17);
      assertThat(r.err()).contains("test mount").doesNotContain("\tat ");
    }
  }

  @Test
  void testUsage_exit38() {
    Cli.Run r = Cli.ploop("cbt");
    assertThat(r.exitCode()).isEqualTo(38);
    assertThat(r.err()).isEqualTo(CbtCommand.USAGE + "\n");
    assertThat(Cli.ploop("cbt", "show").exitCode()).isEqualTo(38);
    assertThat(Cli.ploop("cbt", "drop", "root.hds").exitCode()).isEqualTo(38);
    assertThat(Cli.ploop("cbt", "dump", "--dst", "x").err())
        .startsWith("Usage: ploop-cbt dump --dst <to> DiskDescriptor.xml");
    assertThat(Cli.ploop("cbt", "diff").exitCode()).isEqualTo(38);
  }

  @Test
  void testSnapshotB_badUuid_exit38_nothingCreated() throws IOException {
    Path xml = disk();
    String before = Files.readString(xml);
    Cli.Run r = Cli.ploop("snapshot", "-b", "12345678-1234-4234-8234-12345678", xml.toString());
    assertThat(r.exitCode()).isEqualTo(38);
    assertThat(r.err())
        .isEqualTo("Incorrect cbt uuid is specified 12345678-1234-4234-8234-12345678\n");
    assertThat(Files.readString(xml)).isEqualTo(before);
    try (var s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("root.hds.")))
          .isEmpty();
    }
  }
}
