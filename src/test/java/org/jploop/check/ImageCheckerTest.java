package org.jploop.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jploop.format.CorruptImageException;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.jploop.io.DiskLock;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.testing.Qemu;
import org.jploop.testing.TestImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tests for {@link ImageChecker}: ploop's order, soft vs hard fixes, verdicts, the chain form. */
class ImageCheckerTest {
  static final long SEED = Long.getLong("jploop.seed", 4242L);
  static final CheckOptions NONE = CheckOptions.DEFAULT;

  @TempDir Path dir;
  final Random rnd = new Random(SEED);
  final List<Finding> log = new ArrayList<>();

  static CheckOptions opts(String flags) {
    return new CheckOptions(
        flags.contains("f"),
        flags.contains("F"),
        flags.contains("c"),
        flags.contains("r"),
        flags.contains("d"));
  }

  TestImage dirty64M() throws IOException {
    TestImage t = TestImage.create(dir.resolve("root.hds"), FormatVersion.V2, 131072, 2048);
    t.allocate(0, rnd);
    t.allocate(7, rnd);
    t.putInt(ImageHeader.OFFSET_DISK_IN_USE, (int) ImageHeader.IN_USE);
    return t;
  }

  ImageHeader header(Path p) throws IOException {
    try (FileBlockFile f = FileBlockFile.open(p, true)) {
      return ImageReader.readHeader(f);
    }
  }

  @Test
  void testUnalignedSize_stopsBeforeEverythingElseWithoutF() throws IOException {
    TestImage t = dirty64M();
    t.setBat(30, 999); // past EOF: would be fatal, but the check stops first (ploop quirk)
    t.truncate(Files.size(t.file()) + 100);
    CheckResult r = ImageChecker.checkImage(t.file(), NONE, log::add);
    assertThat(r.status()).as("seed %d", SEED).isEqualTo(CheckResult.Status.STOPPED_UNALIGNED);
    assertThat(r.ok()).isTrue();
    assertThat(log).extracting(Finding::kind).containsExactly(Finding.Kind.UNALIGNED_SIZE);
    CheckResult ro = ImageChecker.checkImage(t.file(), opts("fr"), f -> {});
    assertThat(ro.status()).as("-r keeps the stop").isEqualTo(CheckResult.Status.STOPPED_UNALIGNED);
  }

  @Test
  void testSoftFixedHardFatal_withF() throws IOException {
    TestImage t = dirty64M();
    t.setBat(64, 1); // padding slot: soft
    t.setBat(9, 500); // past EOF: hard
    CheckResult r = ImageChecker.checkImage(t.file(), opts("f"), log::add);
    assertThat(r.status()).isEqualTo(CheckResult.Status.CORRUPT);
    assertThat(r.message()).endsWith("Fatal errors were found, image is not repaired");
    assertThat(log)
        .extracting(Finding::kind, Finding::resolution)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(Finding.Kind.BEYOND_EOF, Resolution.FATAL),
            org.assertj.core.groups.Tuple.tuple(Finding.Kind.BEYOND_DISK_SIZE, Resolution.FIXED));
    try (FileBlockFile f = FileBlockFile.open(t.file(), true)) {
      int[] slots = ImageReader.readBatSlots(f, ImageReader.readHeader(f));
      assertThat(slots[64]).as("soft fix written even though the verdict is fatal").isZero();
      assertThat(slots[9]).isEqualTo(500);
    }
    assertThat(header(t.file()).inUse()).as("in-use kept on a corrupted image").isTrue();
  }

  @Test
  void testHardForceAndDropInUse_repairsEverything() throws IOException {
    TestImage t = dirty64M();
    t.setBat(64, 1);
    t.setBat(9, 500);
    t.truncate(Files.size(t.file()) + (3 << 20));
    CheckResult r = ImageChecker.checkImage(t.file(), opts("Fd"), log::add);
    assertThat(r.status()).as("%s", log).isEqualTo(CheckResult.Status.CLEAN);
    assertThat(log).extracting(Finding::resolution).containsOnly(Resolution.FIXED);
    assertThat(log)
        .extracting(Finding::kind)
        .containsExactly(
            Finding.Kind.BEYOND_EOF, Finding.Kind.BEYOND_DISK_SIZE, Finding.Kind.LEAKED_TAIL);
    ImageHeader h = header(t.file());
    assertThat(h.diskInUse()).isZero();
    assertThat(h.flags()).isZero();
    assertThat(Files.size(t.file())).isEqualTo(3L << 20);
    assertThat(Qemu.check(t.file()).exitCode()).isZero();
  }

  @Test
  void testDirtyWithoutD_isDirtyAndUntouched() throws IOException {
    TestImage t = dirty64M();
    TestImage.ageMtime(t.file());
    String before = TestImage.fingerprint(t.file());
    CheckResult r = ImageChecker.checkImage(t.file(), NONE, log::add);
    assertThat(r.status()).isEqualTo(CheckResult.Status.DIRTY);
    assertThat(r.message()).isEqualTo(t.file() + ": Dirty flag is set");
    assertThat(TestImage.fingerprint(t.file())).isEqualTo(before);
  }

  @Test
  void testReadOnlyWithRepairFlags_writesNothing() throws IOException {
    TestImage t = dirty64M();
    t.setBat(64, 1);
    t.truncate(Files.size(t.file()) + (1 << 20));
    TestImage.ageMtime(t.file());
    String before = TestImage.fingerprint(t.file());
    CheckResult r = ImageChecker.checkImage(t.file(), opts("fFdcr"), log::add);
    assertThat(r.status()).isEqualTo(CheckResult.Status.CORRUPT);
    assertThat(log).extracting(Finding::resolution).containsOnly(Resolution.SKIPPED);
    assertThat(TestImage.fingerprint(t.file())).isEqualTo(before);
  }

  @Test
  void testDuplicates_onlyWithC_andIgnoredWithF() throws IOException {
    TestImage t = dirty64M();
    t.putInt(ImageHeader.OFFSET_DISK_IN_USE, 0);
    t.setBat(20, 1);
    assertThat(ImageChecker.checkImage(t.file(), opts("f"), f -> {}).status())
        .as("no -c: not looked for")
        .isEqualTo(CheckResult.Status.CLEAN);
    CheckResult c = ImageChecker.checkImage(t.file(), opts("c"), log::add);
    assertThat(c.status()).isEqualTo(CheckResult.Status.CORRUPT);
    assertThat(log)
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.kind()).isEqualTo(Finding.Kind.DUPLICATE);
              assertThat(f.offset()).isEqualTo(64 + 4 * 20);
              assertThat(f.toString())
                  .isEqualTo(
                      t.file() + ": offset 144: Block 1 is used more than once, vsec=20... FATAL");
            });
    log.clear();
    CheckResult ignored = ImageChecker.checkImage(t.file(), opts("Fc"), log::add);
    assertThat(ignored.status()).isEqualTo(CheckResult.Status.CLEAN);
    assertThat(log).extracting(Finding::resolution).containsExactly(Resolution.IGNORED);
  }

  @Test
  void testV1_misalignedAndAlignedEntries() throws IOException {
    TestImage t = TestImage.create(dir.resolve("v1.hds"), FormatVersion.V1, 131072, 2048);
    t.allocate(3, rnd);
    t.setBat(4, 2048 * 1 + 1);
    CheckResult r = ImageChecker.checkImage(t.file(), opts("c"), log::add);
    assertThat(r.status()).isEqualTo(CheckResult.Status.CORRUPT);
    assertThat(log).extracting(Finding::kind).containsExactly(Finding.Kind.MISALIGNED_V1);
    log.clear();
    assertThat(ImageChecker.checkImage(t.file(), opts("Fc"), log::add).status())
        .isEqualTo(CheckResult.Status.CLEAN);
    assertThat(Qemu.check(t.file()).exitCode()).isZero();
  }

  @Test
  void testHeaderError_isAnExceptionWithOffset() throws IOException {
    TestImage t = dirty64M();
    t.putInt(ImageHeader.OFFSET_TYPE, 3);
    assertThatThrownBy(() -> ImageChecker.checkImage(t.file(), opts("fF"), log::add))
        .isInstanceOf(CorruptImageException.class)
        .hasMessage(t.file() + ": offset 16: Wrong type in image: m_Type=3, expected 2");
  }

  @Test
  void testCheckDisk_chainLowerDeltasReadOnlyAndBlocksize() throws IOException {
    Path xml = dir.resolve(DiskDescriptor.FILE_NAME);
    TestImage base = TestImage.create(dir.resolve("root.hds"), FormatVersion.V2, 131072, 2048);
    base.allocate(1, rnd);
    TestImage top = TestImage.create(dir.resolve("root.hds.{top}"), FormatVersion.V2, 131072, 2048);
    top.allocate(2, rnd);
    top.putInt(ImageHeader.OFFSET_DISK_IN_USE, (int) ImageHeader.IN_USE);
    String snap = Guid.random();
    DiskDescriptor d =
        DiskDescriptor.forNewImage(
                org.jploop.format.ImageGeometry.forSize(131072, 2048), "root.hds", false)
            .withChain(
                List.of(
                    new DiskDescriptor.ImageEntry(snap, "Compressed", "root.hds"),
                    new DiskDescriptor.ImageEntry(Guid.TOP_DELTA, "Compressed", "root.hds.{top}")),
                List.of(
                    new DiskDescriptor.Shot(snap, Guid.NONE, null),
                    new DiskDescriptor.Shot(Guid.TOP_DELTA, snap, null)),
                Guid.TOP_DELTA);
    d.write(xml);

    CheckResult clean = ImageChecker.checkDisk(xml, NONE, log::add);
    assertThat(clean.status()).as("%s", log).isEqualTo(CheckResult.Status.CLEAN);
    assertThat(header(top.file()).inUse()).as("DROPINUSE on the top").isFalse();

    base.setBat(64, 1); // soft problem in a lower delta: not repaired there
    TestImage.ageMtime(base.file());
    String before = TestImage.fingerprint(base.file());
    CheckResult lower = ImageChecker.checkDisk(xml, NONE, log::add);
    assertThat(lower.status()).as("%s", log).isEqualTo(CheckResult.Status.CORRUPT);
    assertThat(lower.file()).isEqualTo(base.file());
    assertThat(TestImage.fingerprint(base.file())).isEqualTo(before);

    // -u SNAP: the chain ends at the base, which is then its top; it is clean (not in use), so
    // ploop would skip it: no repair without an explicit -f, the file stays as it was
    CheckResult upToSnap = ImageChecker.checkDisk(xml, snap, NONE, f -> {});
    assertThat(upToSnap.status()).isEqualTo(CheckResult.Status.CORRUPT);
    assertThat(TestImage.fingerprint(base.file())).isEqualTo(before);
    // with -f the soft fix is applied
    CheckOptions force = new CheckOptions(true, false, false, false, false);
    assertThat(ImageChecker.checkDisk(xml, snap, force, f -> {}).status())
        .isEqualTo(CheckResult.Status.CLEAN);
    assertThat(TestImage.fingerprint(base.file())).isNotEqualTo(before);
    assertThat(ImageChecker.checkDisk(xml, NONE, f -> {}).status())
        .isEqualTo(CheckResult.Status.CLEAN);

    Files.delete(top.file());
    TestImage.create(top.file(), FormatVersion.V2, 131072, 64);
    assertThatThrownBy(() -> ImageChecker.checkDisk(xml, NONE, f -> {}))
        .isInstanceOf(CorruptImageException.class)
        .hasMessageContaining("Incorrect blocksize 64");
  }

  @Test
  void testCheckDisk_refusedWhileLocked() throws IOException {
    Path xml = dir.resolve(DiskDescriptor.FILE_NAME);
    TestImage.create(dir.resolve("root.hds"), FormatVersion.V2, 131072, 2048);
    DiskDescriptor.forNewImage(
            org.jploop.format.ImageGeometry.forSize(131072, 2048), "root.hds", false)
        .write(xml);
    try (DiskLock lock = DiskLock.tryAcquire(xml, "mount /mnt/x").orElseThrow()) {
      assertThatThrownBy(() -> ImageChecker.checkDisk(xml, NONE, f -> {}))
          .isInstanceOf(DiskBusyException.class)
          .hasMessageContaining("mount /mnt/x");
      assertThatThrownBy(() -> ImageChecker.checkImage(dir.resolve("root.hds"), opts("f"), f -> {}))
          .isInstanceOf(DiskBusyException.class);
    }
  }

  /**
   * Found by RealPloopIT: qemu-img leaves CIF_Empty set after writing; ploop 1.15's check -f says
   * "CIF_Empty flag is incorrect" and corrects it, jploop's did not look. Never fatal.
   */
  @Test
  void testWrongEmptyFlag_reportedAndFixedWithF() throws IOException {
    Path img = dir.resolve("q.hds");
    org.jploop.io.ImageWriter.createEmpty(
        img,
        ImageHeader.create(
            FormatVersion.V2, org.jploop.format.ImageGeometry.forSize(131072, 2048)));
    Qemu.io(img, "write -P 0x11 0 1M");
    assertThat(header(img).flags() & ImageHeader.CIF_EMPTY).isNotZero();
    CheckResult ro = ImageChecker.checkImage(img, opts("fr"), log::add);
    assertThat(ro.ok()).isTrue();
    assertThat(log).extracting(Finding::kind).containsExactly(Finding.Kind.WRONG_EMPTY_FLAG);
    assertThat(log.get(0).resolution()).isEqualTo(Resolution.SKIPPED);
    assertThat(header(img).flags() & ImageHeader.CIF_EMPTY).isNotZero();
    log.clear();
    CheckResult fixed = ImageChecker.checkImage(img, opts("f"), log::add);
    assertThat(fixed.ok()).isTrue();
    assertThat(log)
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.toString())
                  .contains(
                      "offset 52: CIF_Empty flag is incorrect (set, but"
                          + " clusters are mapped) Fixed");
            });
    assertThat(header(img).flags() & ImageHeader.CIF_EMPTY).isZero();
    assertThat(Qemu.check(img).exitCode()).isZero();
    log.clear();
    ImageChecker.checkImage(img, opts("f"), log::add);
    assertThat(log).isEmpty();
  }
}
