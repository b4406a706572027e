package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.jploop.engine.EngineOptions;
import org.jploop.engine.PloopDisk;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.jploop.io.CbtStore;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.testing.Qemu;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * ploop's CBT life cycle offline (verbs notes §2.3), through the CLI and the engine: a seeded
 * writer's touched granules equal the bitmap across close/reopen, {@code snapshot -b} (new epoch:
 * the old top keeps the old bitmap, the new top starts clean), {@code snapshot} (copied), {@code
 * snapshot-delete} and {@code snapshot-merge} (the child's bitmap goes to the surviving file),
 * resize (kept, grown clean) and compact (kept). Every step also checks the content through
 * qemu-img and the engine, and that qemu-img info accepts every delta.
 */
class CbtLifecycleTest {
  static final UUID EPOCH1 = UUID.fromString("aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa");
  static final UUID EPOCH2 = UUID.fromString("bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb");
  static final long GRAN = 64 * 1024;

  @RegisterExtension final Seed seed = new Seed();
  @TempDir Path dir;

  /** The chain's files, base first. */
  static List<Path> chain(Path xml) throws IOException {
    DiskDescriptor d = DiskDescriptor.read(xml);
    List<Path> out = new ArrayList<>();
    for (DiskDescriptor.ImageEntry e : d.topChain(xml)) {
      out.add(DiskDescriptor.resolveImage(xml, e));
    }
    return out;
  }

  /** Opens the chain read-write, writes and punches at seeded places, updates model and touched. */
  static void session(Path xml, Random rnd, int ops, byte[] model, BitSet touched)
      throws IOException {
    try (PloopDisk d =
        PloopDisk.openPaths(
            chain(xml), EngineOptions.defaults().mdSubmitDelayMs(0).preallocSize(1 << 20))) {
      assertThat(d.tracking().problems()).isEmpty();
      for (int i = 0; i < ops; i++) {
        int off = rnd.nextInt(model.length - 1);
        int len = Math.min(model.length - off, 1 + rnd.nextInt(200_000));
        if (rnd.nextInt(6) == 0) {
          d.punchHole(off, len);
          java.util.Arrays.fill(model, off, off + len, (byte) 0);
        } else {
          byte[] b = new byte[len];
          rnd.nextBytes(b);
          d.write(ByteBuffer.wrap(b), off);
          System.arraycopy(b, 0, model, off, len);
        }
        touched.set((int) (off / GRAN), (int) ((off + len - 1) / GRAN) + 1);
      }
    }
  }

  static CbtStore.Stored cbt(Path image) throws IOException {
    return CbtOperations.read(image);
  }

  static BitSet bits(DirtyBitmap b) {
    BitSet s = new BitSet();
    for (long i = b.nextSetBit(0); i >= 0; i = b.nextSetBit(i + 1)) {
      s.set((int) i);
    }
    return s;
  }

  static void assertCbt(Path image, UUID id, BitSet want, String what) throws IOException {
    CbtStore.Stored s = cbt(image);
    assertThat(s).as(what + ": " + image + " has a CBT").isNotNull();
    assertThat(s.bitmap().id()).as(what).isEqualTo(id);
    assertThat(bits(s.bitmap())).as(what).isEqualTo(want);
  }

  static void assertQemuInfoAccepts(Path xml) throws IOException {
    for (Path p : chain(xml)) {
      Qemu.Result r = Qemu.run("qemu-img", "info", "-f", "parallels", p.toString());
      assertThat(r.exitCode()).as("qemu-img info " + p + ": " + r.output()).isZero();
    }
  }

  static void ok(TestDisks.CliResult r) {
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
  }

  @Test
  void testEpochs_snapshotB_snapshot_delete_merge_carryTheBitmap() throws Exception {
    Random rnd = seed.random();
    Path xml = TestDisks.newDisk(dir, 2048, FormatVersion.V2); // 64 MiB, 32 KiB clusters
    byte[] model = new byte[64 << 20];
    session(xml, rnd, 20, model, new BitSet()); // before any CBT: base data, untracked
    Path base = TestDisks.top(xml);
    assertThat(cbt(base)).isNull();

    // epoch 1: snapshot -b starts an empty CBT in the new top
    TestDisks.CliResult r = TestDisks.cli("snapshot", "-b", EPOCH1.toString(), xml.toString());
    ok(r);
    assertThat(r.out())
        .startsWith("Create snapshot CBT uuid=" + EPOCH1 + "\nWrite new CBT uuid=" + EPOCH1 + " ");
    Path t1 = TestDisks.top(xml);
    assertCbt(t1, EPOCH1, new BitSet(), "empty epoch");
    assertQemuInfoAccepts(xml);
    BitSet e1 = new BitSet();
    session(xml, rnd, 60, model, e1);
    assertCbt(t1, EPOCH1, e1, "after the first session");
    session(xml, rnd, 60, model, e1);
    assertCbt(t1, EPOCH1, e1, "across close and reopen");
    TestDisks.assertVisible(xml, null, model);

    // epoch 2: the old top keeps epoch 1's bitmap, the new top starts clean under EPOCH2
    ok(TestDisks.cli("snapshot", "-b", EPOCH2.toString(), xml.toString()));
    Path t2 = TestDisks.top(xml);
    assertCbt(t1, EPOCH1, e1, "old epoch in the snapshot delta");
    assertCbt(t2, EPOCH2, new BitSet(), "new epoch");
    BitSet e2 = new BitSet();
    session(xml, rnd, 80, model, e2);
    assertCbt(t2, EPOCH2, e2, "epoch 2");

    // a plain snapshot copies the CBT into the new top; the old top keeps its copy
    r = TestDisks.cli("snapshot", xml.toString());
    ok(r);
    assertThat(r.out()).contains("Move CBT " + t2 + " -> ");
    Path t3 = TestDisks.top(xml);
    assertCbt(t3, EPOCH2, e2, "copied by snapshot");
    session(xml, rnd, 40, model, e2);
    assertCbt(t3, EPOCH2, e2, "tracking goes on in the new top");
    assertQemuInfoAccepts(xml);

    // snapshot-delete of t2's snapshot merges t3 into t2's file, which keeps t3's bitmap
    DiskDescriptor d = DiskDescriptor.read(xml);
    String t2Guid =
        d.images().stream()
            .filter(e -> e.file().equals(t2.getFileName().toString()))
            .findFirst()
            .orElseThrow()
            .guid();
    ok(TestDisks.cli("snapshot-delete", "-u", t2Guid, xml.toString()));
    assertThat(TestDisks.top(xml)).isEqualTo(t2);
    assertCbt(t2, EPOCH2, e2, "after snapshot-delete");
    TestDisks.assertVisible(xml, null, model);
    session(xml, rnd, 30, model, e2);
    assertCbt(t2, EPOCH2, e2, "tracking after snapshot-delete");

    // snapshot-merge of the top into t1's file: t1's own (epoch 1) bitmap gives way to the top's
    ok(TestDisks.cli("snapshot-merge", xml.toString()));
    assertThat(TestDisks.top(xml)).isEqualTo(t1);
    assertCbt(t1, EPOCH2, e2, "after snapshot-merge");
    TestDisks.assertVisible(xml, null, model);

    // snapshot-merge -A: the top's bitmap ends in the base
    ok(TestDisks.cli("snapshot", xml.toString()));
    session(xml, rnd, 20, model, e2);
    ok(TestDisks.cli("snapshot-merge", "-A", xml.toString()));
    assertThat(TestDisks.top(xml)).isEqualTo(base);
    assertCbt(base, EPOCH2, e2, "after snapshot-merge -A");
    TestDisks.assertVisible(xml, null, model);
    assertQemuInfoAccepts(xml);
  }

  @Test
  void testResizeAndCompact_keepTheBitmap() throws Exception {
    Random rnd = seed.random();
    Path xml = TestDisks.newDisk(dir, 2048, FormatVersion.V2);
    ok(TestDisks.cli("snapshot", "-b", EPOCH1.toString(), xml.toString()));
    ok(TestDisks.cli("snapshot-merge", "-A", xml.toString()));
    Path base = TestDisks.top(xml);
    assertCbt(base, EPOCH1, new BitSet(), "merged into the base");
    byte[] model = new byte[64 << 20];
    BitSet touched = new BitSet();
    session(xml, rnd, 60, model, touched);
    ok(TestDisks.cli("compact", xml.toString()));
    assertCbt(base, EPOCH1, touched, "after compact");
    TestDisks.assertVisible(xml, null, model);
    ok(TestDisks.cli("resize", "-s", "128M", xml.toString()));
    CbtStore.Stored s = cbt(base);
    assertThat(s.bitmap().sizeSectors()).isEqualTo(128L << 11);
    assertCbt(base, EPOCH1, touched, "after resize: grown with clean granules");
    byte[] bigger = java.util.Arrays.copyOf(model, 128 << 20);
    session(xml, rnd, 30, bigger, touched);
    assertCbt(base, EPOCH1, touched, "tracking the grown disk");
    assertQemuInfoAccepts(xml);
    ok(TestDisks.cli("check", "-f", base.toString()));
  }

  @Test
  void testConvert_dropsTheBitmap_asPloop() throws Exception {
    Path xml = TestDisks.newDisk(dir, 2048, FormatVersion.V2);
    ok(TestDisks.cli("snapshot", "-b", EPOCH1.toString(), xml.toString()));
    ok(TestDisks.cli("snapshot-merge", "-A", xml.toString()));
    Path base = TestDisks.top(xml);
    long before = java.nio.file.Files.size(base);
    ok(TestDisks.cli("convert", "-v", "1", xml.toString()));
    try (FileBlockFile f = FileBlockFile.open(base, true)) {
      ImageHeader h = ImageReader.readHeader(f);
      assertThat(h.formatExtensionOffset()).isZero();
      assertThat(h.diskInUse()).isEqualTo(ImageHeader.CLOSED_V20);
    }
    assertThat(java.nio.file.Files.size(base)).isLessThan(before);
    assertThat(Qemu.check(base).exitCode()).isZero();
  }

  @Test
  void testSnapshotOfTopWithBadCbt_refusedNothingLeft() throws Exception {
    Path xml = TestDisks.newDisk(dir, 2048, FormatVersion.V2);
    ok(TestDisks.cli("snapshot", "-b", EPOCH1.toString(), xml.toString()));
    Path top = TestDisks.top(xml);
    long ext;
    try (FileBlockFile f = FileBlockFile.open(top, false)) {
      ext = ImageReader.readHeader(f).formatExtensionOffset() * 512;
      f.write(ByteBuffer.wrap(new byte[] {1}), ext + 4000);
    }
    List<Path> filesBefore = listDir();
    String xmlBefore = java.nio.file.Files.readString(xml);
    TestDisks.CliResult r = TestDisks.cli("snapshot", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isEqualTo(13);
    assertThat(r.err().strip())
        .isEqualTo(top + ": offset " + (ext + 8) + ": Wrong optional header checksum");
    assertThat(listDir()).isEqualTo(filesBefore);
    assertThat(java.nio.file.Files.readString(xml)).isEqualTo(xmlBefore);
    assertThat(Guid.same(DiskDescriptor.read(xml).topGuid(), Guid.TOP_DELTA)).isTrue();
  }

  List<Path> listDir() throws IOException {
    try (var s = java.nio.file.Files.list(dir)) {
      return s.filter(p -> !p.getFileName().toString().endsWith(".lck")).sorted().toList();
    }
  }
}
