package org.jploop.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;
import org.jploop.io.CbtStore;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.testing.TestImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ploop check} and the Format Extension (CBT): a valid one belongs to the image, a bad one
 * is cleared with {@code -f} and otherwise left alone, and a crash repair drops it, as ploop does.
 */
class ImageCheckerCbtTest {
  static final UUID ID = UUID.fromString("12345678-1234-4234-8234-123456789abc");
  static final long SEED = Long.getLong("jploop.seed", 77L);

  @TempDir Path dir;
  final List<Finding> log = new ArrayList<>();

  /** A 64 MiB image (1 MiB clusters) with two data clusters and a CBT with granules 0 and 100. */
  Path withCbt() throws IOException {
    TestImage t = TestImage.create(dir.resolve("root.hds"), FormatVersion.V2, 131072, 2048);
    Random rnd = new Random(SEED);
    t.allocate(0, rnd);
    t.allocate(7, rnd);
    try (BlockFile f = FileBlockFile.open(t.file(), false)) {
      ImageHeader h = ImageReader.readHeader(f);
      CbtStore.write(
          f, h, new DirtyBitmap.Builder(ID, h.sizeSectors(), 128).set(0).set(100).build());
    }
    return t.file();
  }

  static ImageHeader header(Path p) throws IOException {
    return TestImage.readHeader(p);
  }

  static CheckOptions opts(String flags) {
    return new CheckOptions(
        flags.contains("f"),
        flags.contains("F"),
        flags.contains("c"),
        flags.contains("r"),
        flags.contains("d"));
  }

  @Test
  void testValidCbt_isPartOfTheImage_noLeakNoChange() throws IOException {
    Path img = withCbt();
    TestImage.ageMtime(img);
    String before = TestImage.fingerprint(img);
    CheckResult r = ImageChecker.checkImage(img, opts("fc"), log::add);
    assertThat(r.status()).isEqualTo(CheckResult.Status.CLEAN);
    assertThat(log).as("seed %d", SEED).isEmpty();
    assertThat(TestImage.fingerprint(img)).isEqualTo(before);
  }

  @Test
  void testBadChecksum_reportedUnrepairedWithoutF_clearedWithF() throws IOException {
    Path img = withCbt();
    long ext = header(img).formatExtensionOffset() * 512;
    try (BlockFile f = FileBlockFile.open(img, false)) {
      f.write(ByteBuffer.wrap(new byte[] {5}), ext + 200);
    }
    TestImage.ageMtime(img);
    String before = TestImage.fingerprint(img);
    CheckResult ro = ImageChecker.checkImage(img, opts("c"), log::add);
    assertThat(ro.status()).isEqualTo(CheckResult.Status.CORRUPT);
    assertThat(log)
        .extracting(Finding::kind, Finding::resolution)
        .contains(
            org.assertj.core.groups.Tuple.tuple(Finding.Kind.BAD_EXTENSION, Resolution.SKIPPED));
    assertThat(log.get(0).toString())
        .contains("Wrong optional header checksum")
        .contains("offset 56:");
    assertThat(TestImage.fingerprint(img)).as("nothing modified without -f").isEqualTo(before);

    log.clear();
    CheckResult fixed = ImageChecker.checkImage(img, opts("f"), log::add);
    assertThat(fixed.status()).isEqualTo(CheckResult.Status.CLEAN);
    assertThat(log)
        .extracting(Finding::kind, Finding::resolution)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(Finding.Kind.BAD_EXTENSION, Resolution.FIXED),
            org.assertj.core.groups.Tuple.tuple(Finding.Kind.LEAKED_TAIL, Resolution.FIXED));
    ImageHeader h = header(img);
    assertThat(h.formatExtensionOffset()).isZero();
    assertThat(h.diskInUse()).isEqualTo(ImageHeader.CLOSED_V20);
    assertThat(Files.size(img)).as("header cluster + two data clusters").isEqualTo(3L << 20);
  }

  @Test
  void testStalePointerOnV20_clearedWithF() throws IOException {
    Path img = withCbt();
    try (BlockFile f = FileBlockFile.open(img, false)) {
      f.write(ByteBuffer.allocate(4), ImageHeader.OFFSET_DISK_IN_USE); // v2.0, pointer kept
    }
    CheckResult r = ImageChecker.checkImage(img, opts("f"), log::add);
    assertThat(r.status()).isEqualTo(CheckResult.Status.CLEAN);
    assertThat(log.get(0).kind()).isEqualTo(Finding.Kind.BAD_EXTENSION);
    assertThat(log.get(0).message()).contains("closed as v2.0");
    assertThat(header(img).formatExtensionOffset()).isZero();
  }

  @Test
  void testCrashRepair_dropsTheCbt() throws IOException {
    Path img = withCbt();
    try (BlockFile f = FileBlockFile.open(img, false)) { // a crash while mounted
      f.write(
          ByteBuffer.allocate(4)
              .order(java.nio.ByteOrder.LITTLE_ENDIAN)
              .putInt(0, (int) ImageHeader.IN_USE),
          ImageHeader.OFFSET_DISK_IN_USE);
    }
    CheckResult r = ImageChecker.checkImage(img, opts("d"), log::add);
    assertThat(r.status()).isEqualTo(CheckResult.Status.CLEAN);
    ImageHeader h = header(img);
    assertThat(h.diskInUse()).isEqualTo(ImageHeader.CLOSED_V20);
    assertThat(h.formatExtensionOffset()).as("CBT does not survive a crash").isZero();
    try (BlockFile f = FileBlockFile.open(img, true)) {
      assertThat(CbtStore.read(f, h, 0)).isNull();
    }
  }
}
