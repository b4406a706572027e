package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jploop.image.TestDisks.CLUSTER_BYTES;
import static org.jploop.image.TestDisks.CLUSTER_SECTORS;
import static org.jploop.image.TestDisks.assertSameContent;
import static org.jploop.image.TestDisks.visible;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.io.DiskLock;
import org.jploop.io.ImageWriter;
import org.jploop.testing.Qemu;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BareDeltaGrower} and {@link BareDeltaMerger}: {@code ploop grow DELTA} and {@code ploop
 * merge DELTA... BASE} on files without a descriptor, checked with qemu-img (content, check) and
 * for the refusals ploop makes (exit 4 for an unusable file, 38 for sizes, 11 for mismatches).
 */
class BareDeltaTest {
  @RegisterExtension final Seed seed = new Seed();
  @TempDir Path dir;

  private final StringWriter logText = new StringWriter();
  private final PrintWriter log = new PrintWriter(logText, true);

  /**
   * An image of {@code clusters} 32 KiB clusters with {@code n} random clusters written by qemu-io,
   * recorded in {@code model} unless null.
   */
  private Path delta(String name, long clusters, FormatVersion v, Random rnd, int n, byte[] model)
      throws Exception {
    Path p = dir.resolve(name);
    ImageWriter.createEmpty(p, ImageHeader.create(v, new ImageGeometry(CLUSTER_SECTORS, clusters)));
    String[] cmds = new String[n];
    for (int i = 0; i < n; i++) {
      long c = rnd.nextInt((int) clusters);
      byte fill = (byte) (1 + rnd.nextInt(250));
      cmds[i] = "write -P " + (fill & 0xFF) + " " + c * CLUSTER_BYTES + " " + CLUSTER_BYTES;
      if (model != null) {
        java.util.Arrays.fill(
            model, (int) (c * CLUSTER_BYTES), (int) ((c + 1) * CLUSTER_BYTES), fill);
      }
    }
    if (n > 0) {
      Qemu.io(p, cmds);
    }
    return p;
  }

  @Test
  void testGrow_relocatesDataUnderTheNewBatAndKeepsContent() throws Exception {
    Random rnd = seed.random();
    // 8000 entries fit one 32 KiB header cluster; 16384 need three, so clusters 1 and 2 move
    Path p = delta("root.hds", 8000, FormatVersion.V2, rnd, 60, null);
    Path before = dir.resolve("before.hds");
    Files.copy(p, before);
    long sectors = 16384L * CLUSTER_SECTORS;
    assertThat(new BareDeltaGrower(StepHook.NONE).grow(p, sectors)).isEqualTo(sectors);
    assertThat(Qemu.check(p).exitCode()).isZero();
    assertThat(Qemu.virtualSize(p)).isEqualTo(sectors * 512);
    Qemu.Result cmp =
        Qemu.run(
            "qemu-img",
            "compare",
            "-f",
            "parallels",
            "-F",
            "parallels",
            p.toString(),
            before.toString());
    assertThat(cmp.exitCode()).as(cmp.output()).isZero();
    try (DeltaFile d = DeltaFile.open(p, true)) {
      assertThat(d.header().inUse()).isFalse();
      assertThat(d.headerClusters()).isEqualTo(3);
      assertThat(d.mappedCount()).isEqualTo(new DeltaFileCount(before).mapped());
    }
    assertThatThrownBy(() -> new BareDeltaGrower(StepHook.NONE).grow(p, sectors / 2))
        .isInstanceOf(ImageOperationException.class)
        .hasMessage("Error: new size " + sectors / 2 + " is less than the old size " + sectors);
    assertThatThrownBy(() -> new BareDeltaGrower(StepHook.NONE).grow(p, sectors + 1))
        .hasMessageContaining("must be aligned to the cluster block size 64");
  }

  /** The mapped count of a delta file. */
  private record DeltaFileCount(Path p) {
    long mapped() throws Exception {
      try (DeltaFile d = DeltaFile.open(p, true)) {
        return d.mappedCount();
      }
    }
  }

  @Test
  void testGrowRaw_zerosOrSparse_roundedTo4k() throws Exception {
    Path raw = dir.resolve("disk.raw");
    byte[] head = new byte[10000];
    seed.random().nextBytes(head);
    Files.write(raw, head);
    BareDeltaGrower g = new BareDeltaGrower(StepHook.NONE);
    assertThat(g.growRaw(raw, 40001, false)).isEqualTo(40008);
    assertThat(Files.size(raw)).isEqualTo(40008L * 512);
    byte[] all = Files.readAllBytes(raw);
    assertThat(java.util.Arrays.copyOf(all, head.length)).isEqualTo(head);
    assertThat(java.util.Arrays.copyOfRange(all, head.length, all.length)).containsOnly(0);
    assertThat(g.growRaw(raw, 80000, true)).isEqualTo(80000);
    assertThat(TestDisks.allocatedBytes(raw)).isLessThan(30L << 20);
    assertThatThrownBy(() -> g.growRaw(raw, 100, false)).hasMessageContaining("less than");
  }

  @Test
  void testMerge_topFirstIntoBase_growsBase_leavesSources() throws Exception {
    Random rnd = seed.random();
    byte[] model = new byte[512 * CLUSTER_BYTES];
    Path base = delta("base.hds", 256, FormatVersion.V2, rnd, 50, model);
    Path mid = delta("mid.hds", 384, FormatVersion.V2, rnd, 50, model);
    Path top = delta("top.hds", 512, FormatVersion.V2, rnd, 50, model);
    byte[] topBytes = Files.readAllBytes(top);
    new BareDeltaMerger(Progress.QUIET, log, StepHook.NONE)
        .merge(List.of(top, mid), base, null, false);
    assertSameContent(visible(List.of(base), false, 512L * CLUSTER_BYTES), model, "merged base");
    assertThat(Qemu.check(base).exitCode()).isZero();
    assertThat(Files.readAllBytes(top)).as("sources are left alone").isEqualTo(topBytes);
    assertThat(logText.toString()).contains("Opening delta " + top, "Opening delta " + base);
  }

  @Test
  void testMerge_intoNewDelta_v1_leavesBase() throws Exception {
    Random rnd = seed.random();
    byte[] model = new byte[256 * CLUSTER_BYTES];
    Path base = delta("base.hds", 256, FormatVersion.V1, rnd, 40, model);
    Path top = delta("top.hds", 256, FormatVersion.V1, rnd, 40, model);
    byte[] baseBytes = Files.readAllBytes(base);
    Path out = dir.resolve("new.hds");
    new BareDeltaMerger(Progress.QUIET, log, StepHook.NONE).merge(List.of(top), base, out, false);
    assertSameContent(visible(List.of(out), false, 256L * CLUSTER_BYTES), model, "new delta");
    assertThat(Files.readAllBytes(base)).isEqualTo(baseBytes);
    try (DeltaFile d = DeltaFile.open(out, true)) {
      assertThat(d.version()).isEqualTo(FormatVersion.V1);
      assertThat(d.header().inUse()).isFalse();
    }
    assertThat(dir.resolve("new.hds.merge-tmp")).doesNotExist();
    assertThatThrownBy(
            () ->
                new BareDeltaMerger(Progress.QUIET, log, StepHook.NONE)
                    .merge(List.of(top), base, out, false))
        .isInstanceOf(ImageOperationException.class)
        .hasMessageStartingWith("Can't merge to new image " + out);
  }

  @Test
  void testMerge_rawBase() throws Exception {
    Random rnd = seed.random();
    byte[] model = new byte[128 * CLUSTER_BYTES];
    rnd.nextBytes(model);
    Path raw = dir.resolve("base.raw");
    Files.write(raw, model);
    Path top = delta("top.hds", 128, FormatVersion.V2, rnd, 30, model);
    new BareDeltaMerger(Progress.QUIET, log, StepHook.NONE).merge(List.of(top), raw, null, true);
    assertThat(Files.readAllBytes(raw)).isEqualTo(model);
  }

  @Test
  void testRefusals_dirtyMissingCorruptMismatchedLocked() throws Exception {
    Random rnd = seed.random();
    byte[] model = new byte[128 * CLUSTER_BYTES];
    Path base = delta("base.hds", 128, FormatVersion.V2, rnd, 4, model);
    Path top = delta("top.hds", 128, FormatVersion.V2, rnd, 4, model);
    BareDeltaMerger m = new BareDeltaMerger(Progress.QUIET, log, StepHook.NONE);
    try (FileChannel ch = FileChannel.open(top, StandardOpenOption.WRITE)) {
      ch.write(
          ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) ImageHeader.IN_USE),
          ImageHeader.OFFSET_DISK_IN_USE);
    }
    byte[] baseBefore = Files.readAllBytes(base);
    assertKind(
        () -> m.merge(List.of(top), base, null, false),
        ImageOperationException.Kind.OPEN,
        "Image is in use " + top);
    assertKind(
        () -> m.merge(List.of(dir.resolve("nope.hds")), base, null, false),
        ImageOperationException.Kind.OPEN,
        "No such file or directory");
    Path junk = dir.resolve("junk.hds");
    Files.writeString(junk, "not a ploop image, but long enough to have a header of 64 bytes...");
    assertKind(
        () -> new BareDeltaGrower(StepHook.NONE).grow(junk, 128),
        ImageOperationException.Kind.OPEN,
        junk.toString());
    Path other = dir.resolve("other.hds");
    ImageWriter.createEmpty(
        other, ImageHeader.create(FormatVersion.V2, new ImageGeometry(128, 64)));
    assertKind(
        () -> m.merge(List.of(other), base, null, false),
        ImageOperationException.Kind.CORRUPT,
        "Wrong blocksize 128");
    Files.writeString(dir.resolve("DiskDescriptor.xml"), "locked disk");
    try (DiskLock l =
        DiskLock.tryAcquire(dir.resolve("DiskDescriptor.xml"), "mount").orElseThrow()) {
      assertKind(
          () -> new BareDeltaGrower(StepHook.NONE).grow(base, 256 * CLUSTER_SECTORS),
          ImageOperationException.Kind.BUSY,
          "is in use");
    }
    assertThat(Files.readAllBytes(base)).isEqualTo(baseBefore);
  }

  private static void assertKind(
      ThrowingRunnable r, ImageOperationException.Kind kind, String text) {
    assertThatThrownBy(r::run)
        .isInstanceOf(ImageOperationException.class)
        .hasMessageContaining(text)
        .satisfies(e -> assertThat(((ImageOperationException) e).kind()).isEqualTo(kind));
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }
}
