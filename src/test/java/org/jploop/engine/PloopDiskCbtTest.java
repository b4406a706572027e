package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.BitSet;
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
import org.jploop.testing.CrashingBlockFile;
import org.jploop.testing.ForwardingBlockFile;
import org.jploop.testing.MemoryBlockFile;
import org.jploop.testing.Qemu;
import org.jploop.testing.TestImage;
import org.jploop.testing.TestImages;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CBT through the engine on real files: the bitmap equals the granules a seeded writer touched,
 * across clean close and read-write reopen; a bad extension is refused and never used; QEMU reads
 * what we wrote (qemu-img info, and the bitmap itself through qemu-nbd and nbdinfo).
 */
class PloopDiskCbtTest {
  static final UUID ID = UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  static final int CLUSTER = 64 * 1024;
  static final long GRAN = 65536;
  static final long DISK = 256L << 20;

  @TempDir Path dir;
  final long seed = Long.getLong("jploop.seed", 0xCB70001L);

  Path image() throws IOException {
    Path img = dir.resolve("root.hds");
    Files.createFile(img);
    try (FileBlockFile f = FileBlockFile.open(img, false)) {
      TestImages.format(f, FormatVersion.V2, TestImages.geometry(DISK, CLUSTER));
    }
    return img;
  }

  static EngineOptions rw() {
    return EngineOptions.defaults().mdSubmitDelayMs(0).preallocSize(1 << 20);
  }

  /** Seeded writes, punches and zero-ranges; records the granules each one touched. */
  static void scribble(PloopDisk d, Random rnd, int ops, BitSet touched) throws IOException {
    for (int i = 0; i < ops; i++) {
      long off = rnd.nextLong(DISK - 1);
      long len = 1 + rnd.nextInt(3 * CLUSTER);
      len = Math.min(len, DISK - off);
      int kind = rnd.nextInt(10);
      if (kind < 7) {
        byte[] b = new byte[(int) len];
        rnd.nextBytes(b);
        d.write(ByteBuffer.wrap(b), off);
      } else if (kind < 9) {
        d.punchHole(off, len);
      } else {
        d.zeroRange(off, len);
      }
      touched.set((int) (off / GRAN), (int) ((off + len - 1) / GRAN) + 1);
    }
  }

  static BitSet bits(DirtyBitmap b) {
    BitSet s = new BitSet();
    for (long i = b.nextSetBit(0); i >= 0; i = b.nextSetBit(i + 1)) {
      s.set((int) i);
    }
    return s;
  }

  static CbtStore.Stored stored(Path img) throws IOException {
    try (BlockFile f = FileBlockFile.open(img, true)) {
      return CbtStore.read(f, ImageReader.readHeader(f), 0);
    }
  }

  static ImageHeader header(Path img) throws IOException {
    return TestImage.readHeader(img);
  }

  @Test
  void testSeededWriter_bitmapEqualsTouchedGranules_acrossCloseAndReopen() throws Exception {
    Path img = image();
    Random rnd = new Random(seed);
    BitSet touched = new BitSet();
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      d.write(ByteBuffer.wrap(new byte[] {1}), 0); // before CBT starts: not tracked
      d.tracking().startCbt(ID, GRAN);
      scribble(d, rnd, 300, touched);
      assertThat(bits(d.tracking().cbt().orElseThrow().snapshot()))
          .as("seed %d", seed)
          .isEqualTo(touched);
    }
    ImageHeader h = header(img);
    assertThat(h.diskInUse()).isEqualTo(ImageHeader.CLOSED_V21);
    CbtStore.Stored s = stored(img);
    assertThat(s.bitmap().id()).isEqualTo(ID);
    assertThat(bits(s.bitmap())).as("seed %d: saved bitmap", seed).isEqualTo(touched);
    long extStart = s.clusters().stream().mapToLong(Long::longValue).min().orElseThrow();
    assertThat(Files.size(img)).isEqualTo(s.extensionOffset() + CLUSTER);

    // read-only open: nothing loaded, nothing changed
    TestImage.ageMtime(img);
    String before = TestImage.fingerprint(img);
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw().readOnly(true))) {
      assertThat(d.tracking().cbt()).isEmpty();
    }
    assertThat(TestImage.fingerprint(img)).isEqualTo(before);

    // read-write open: loaded, extension cut off the file, header pointer cleared while open
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      assertThat(d.tracking().cbt()).isPresent();
      assertThat(bits(d.tracking().cbt().get().snapshot())).isEqualTo(touched);
      assertThat(d.tracking().problems()).isEmpty();
      assertThat(Files.size(img)).isEqualTo(extStart);
      ImageHeader open = header(img);
      assertThat(open.inUse()).isTrue();
      assertThat(open.formatExtensionOffset()).isZero();
      scribble(d, rnd, 200, touched);
    }
    assertThat(bits(stored(img).bitmap()))
        .as("seed %d: after the second session", seed)
        .isEqualTo(touched);
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      assertThat(bits(d.tracking().cbt().orElseThrow().snapshot())).isEqualTo(touched);
    }
  }

  @Test
  void testQemuReadsOurExtension_infoAndBitmapContent() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/qemu-img")), "no qemu-img");
    Path img = image();
    Random rnd = new Random(seed + 1);
    BitSet touched = new BitSet();
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      d.tracking().startCbt(ID, GRAN);
      scribble(d, rnd, 120, touched);
    }
    Qemu.Result info = Qemu.run("qemu-img", "info", "-f", "parallels", img.toString());
    assertThat(info.exitCode()).as(info.output()).isZero();
    Qemu.Result check = Qemu.check(img);
    System.out.println(
        "qemu-img check of an image with CBT: exit "
            + check.exitCode()
            + ": "
            + check.output().trim().replace('\n', ' '));
    int pieces = stored(img).pieceOffsets().length;
    // QEMU 7.2 counts the extension and its pieces at the end of the file as leaked space (newer
    // QEMU tracks ext_end and does not); nothing else may be wrong.
    assertThat(check.exitCode()).as(check.output()).isIn(0, 3);
    if (check.exitCode() == 3) {
      assertThat(check.output()).contains((pieces + 1) + " leaked clusters");
    }
    assertThat(check.output()).doesNotContain("corruption").doesNotContain("outside image");
    assertThat(Qemu.hasNbdTools())
        .as(
            "qemu-nbd and nbdinfo (.ci/setup installs qemu-utils and"
                + " libnbd-bin) read the bitmap as QEMU sees it")
        .isTrue();
    BitSet qemu = new BitSet();
    for (long[] r : Qemu.dirtyRanges(img, ID.toString(), dir)) {
      qemu.set((int) (r[0] / GRAN), (int) ((r[0] + r[1]) / GRAN));
    }
    assertThat(qemu).as("seed %d: the bitmap as QEMU reads it", seed).isEqualTo(touched);
    // after a read-write session the extension is gone and qemu-img check is clean again
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      d.tracking().stopCbt();
    }
    assertThat(header(img).formatExtensionOffset()).isZero();
    assertThat(Qemu.check(img).exitCode()).isZero();
  }

  @Test
  void testBadChecksum_refusedNotUsed_headerClearedAndTailTrimmed() throws Exception {
    Path img = image();
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      d.tracking().startCbt(ID, GRAN);
      d.write(ByteBuffer.wrap(new byte[4096]), 3 * GRAN);
      d.write(ByteBuffer.wrap(new byte[] {7}), 5 * GRAN);
    }
    long ext = header(img).formatExtensionOffset() * 512;
    long dataEnd = Files.size(img) - 2 * CLUSTER; // one piece + the extension
    try (BlockFile f = FileBlockFile.open(img, false)) {
      f.write(ByteBuffer.wrap(new byte[] {1}), ext + 1000); // inside the MD5's range
    }
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      assertThat(d.tracking().cbt()).as("a bitmap failing its MD5 is never used").isEmpty();
      assertThat(d.tracking().problems())
          .singleElement()
          .asString()
          .contains("Wrong optional header checksum")
          .contains(img.toString());
      assertThat(header(img).formatExtensionOffset()).isZero();
    }
    ImageHeader h = header(img);
    assertThat(h.diskInUse()).isEqualTo(ImageHeader.CLOSED_V20);
    assertThat(h.formatExtensionOffset()).isZero();
    assertThat(Files.size(img)).isEqualTo(dataEnd);
  }

  @Test
  void testBadSize_refusedNotUsed() throws Exception {
    Path img = image();
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      d.tracking().startCbt(ID, GRAN);
    }
    long ext = header(img).formatExtensionOffset() * 512;
    try (BlockFile f = FileBlockFile.open(img, false)) {
      ByteBuffer c = ByteBuffer.allocate(CLUSTER);
      f.read(c, ext);
      byte[] b = c.array();
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(48, DISK / 512 * 2);
      byte[] md5 = MessageDigest.getInstance("MD5").digest(Arrays.copyOfRange(b, 24, CLUSTER));
      System.arraycopy(md5, 0, b, 8, 16);
      f.write(ByteBuffer.wrap(b), ext);
    }
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      assertThat(d.tracking().cbt()).isEmpty();
      assertThat(d.tracking().problems())
          .singleElement()
          .asString()
          .contains("Image size is not equal to dirty_bitmap size");
    }
  }

  @Test
  void testCrashedImage_dirtyOpen_noCbt() throws Exception {
    Path img = image();
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      d.tracking().startCbt(ID, GRAN);
      d.write(ByteBuffer.wrap(new byte[] {1}), 0);
    }
    try (BlockFile f = FileBlockFile.open(img, false)) { // as if a crash left it in use
      f.write(
          ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) ImageHeader.IN_USE),
          ImageHeader.OFFSET_DISK_IN_USE);
    }
    assertThatThrownBy(() -> PloopDisk.openPaths(List.of(img), rw()))
        .isInstanceOf(ImageInUseException.class);
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw().allowDirty(true))) {
      assertThat(d.tracking().cbt()).isEmpty();
      assertThat(d.tracking().problems())
          .singleElement()
          .asString()
          .contains("Can't load dirty_bitmap, because image was not successfully closed");
    }
    assertThat(header(img).formatExtensionOffset()).isZero();
  }

  @Test
  void testStopAndAdopt_handsTheCbtToTheReopenedDisk() throws Exception {
    Path img = image();
    ChangedBlockTracker t;
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      d.tracking().startCbt(ID, GRAN);
      assertThatThrownBy(() -> d.tracking().startCbt(ID, GRAN))
          .isInstanceOf(IllegalStateException.class);
      d.write(ByteBuffer.wrap(new byte[] {1}), 7 * GRAN);
      t = d.tracking().stopCbt().orElseThrow();
      d.write(ByteBuffer.wrap(new byte[] {1}), 8 * GRAN); // stopped: not marked
      assertThat(d.tracking().stopCbt()).isEmpty();
    }
    assertThat(header(img).diskInUse()).as("no CBT: closed v2.0").isEqualTo(ImageHeader.CLOSED_V20);
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      d.tracking().adoptCbt(t);
      d.write(ByteBuffer.wrap(new byte[] {1}), 9 * GRAN);
    }
    BitSet want = new BitSet();
    want.set(7);
    want.set(9);
    assertThat(bits(stored(img).bitmap())).isEqualTo(want);
    try (PloopDisk ro = PloopDisk.openPaths(List.of(img), rw().readOnly(true))) {
      assertThatThrownBy(() -> ro.tracking().startCbt(ID, GRAN)).isInstanceOf(IOException.class);
    }
  }

  @Test
  void testSenderTracker_takeAndClear_independentOfCbt() throws Exception {
    Path img = image();
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      d.tracking().startCbt(ID, GRAN);
      ChangedBlockTracker copy = d.tracking().startTracking(CLUSTER);
      ChangedBlockTracker other = d.tracking().startTracking(4 * CLUSTER);
      d.write(ByteBuffer.wrap(new byte[10]), 3L * CLUSTER + 5);
      d.punchHole(20L * CLUSTER, 2L * CLUSTER);
      assertThat(bits(copy.takeAndClear()))
          .isEqualTo(BitSet.valueOf(new long[] {(1L << 3) | (1L << 20) | (1L << 21)}));
      assertThat(copy.takeAndClear().cardinality()).isZero();
      d.zeroRange(0, 1);
      assertThat(bits(copy.takeAndClear())).isEqualTo(BitSet.valueOf(new long[] {1}));
      assertThat(bits(other.snapshot())).isEqualTo(BitSet.valueOf(new long[] {1L | 1L << 5}));
      assertThat(d.tracking().stopTracking(copy)).isTrue();
      assertThat(d.tracking().stopTracking(copy)).isFalse();
      d.write(ByteBuffer.wrap(new byte[1]), 30L * CLUSTER);
      assertThat(copy.snapshot().cardinality()).isZero();
      assertThat(d.tracking().cbt().orElseThrow().snapshot().cardinality()).isEqualTo(5);
    }
  }

  @Test
  void testRefusedRequests_markNothing() throws Exception {
    Path img = image();
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), rw())) {
      ChangedBlockTracker t = d.tracking().startCbt(ID, GRAN);
      assertThatThrownBy(() -> d.write(ByteBuffer.wrap(new byte[10]), DISK - 5))
          .isInstanceOf(java.io.EOFException.class);
      d.write(ByteBuffer.allocate(0), 100 * GRAN);
      d.punchHole(50 * GRAN, 0);
      assertThat(t.snapshot().cardinality()).isZero();
    }
  }

  /**
   * A crash anywhere in a clean close that saves the CBT leaves either a dirty image (the CBT is
   * lost, as in ploop: {@code ploop check} repairs it) or a v2.1 image whose CBT loads and equals
   * what was tracked; never a pointer to something that does not verify.
   */
  @Test
  void testCrashDuringCbtSave_dirtyOrValid() throws Exception {
    Random rnd = new Random(seed + 2);
    MemoryBlockFile empty = TestImages.empty("root.hds", DISK, CLUSTER);
    CrashingBlockFile crashing = new CrashingBlockFile(empty);
    List<MemoryBlockFile> crashes = new java.util.ArrayList<>();
    boolean[] armed = {false};
    BlockFile top =
        new ForwardingBlockFile(crashing) {
          void before() throws IOException {
            if (armed[0]) {
              for (int i = 0; i < 4; i++) {
                crashes.add(crashing.crash(rnd));
              }
            }
          }

          @Override
          public void write(ByteBuffer src, long pos) throws IOException {
            before();
            super.write(src, pos);
          }

          @Override
          public void force() throws IOException {
            before();
            super.force();
          }

          @Override
          public void truncate(long size) throws IOException {
            before();
            super.truncate(size);
          }
        };
    BitSet touched = new BitSet();
    PloopDisk d = PloopDisk.open(List.of(top), rw().backgroundThreads(false));
    d.tracking().startCbt(ID, GRAN);
    scribble(d, rnd, 200, touched);
    d.flush();
    armed[0] = true;
    d.close();
    armed[0] = false;
    crashes.add(crashing.crash(rnd));
    int dirty = 0;
    int valid = 0;
    for (MemoryBlockFile img : crashes) {
      ImageHeader h = ImageReader.readHeader(img);
      if (h.inUse()) {
        dirty++;
        try (PloopDisk reopened =
            PloopDisk.open(
                List.of(img.copy(false)), rw().allowDirty(true).backgroundThreads(false))) {
          assertThat(reopened.tracking().cbt()).isEmpty();
        }
        continue;
      }
      assertThat(h.diskInUse()).as("seed %d", seed).isEqualTo(ImageHeader.CLOSED_V21);
      CbtStore.Stored st = CbtStore.read(img, h, 0);
      assertThat(bits(st.bitmap())).as("seed %d", seed).isEqualTo(touched);
      valid++;
    }
    System.out.println(
        "CBT save crash points: "
            + crashes.size()
            + " images, "
            + dirty
            + " dirty, "
            + valid
            + " with the CBT");
    assertThat(dirty).isPositive();
    assertThat(valid).isPositive();
  }
}
