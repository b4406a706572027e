package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.jploop.check.CheckOptions;
import org.jploop.check.CheckResult;
import org.jploop.check.ImageChecker;
import org.jploop.engine.EngineOptions;
import org.jploop.engine.PloopDisk;
import org.jploop.format.FormatVersion;
import org.jploop.testing.Qemu;
import org.jploop.testing.TestImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Images written by QEMU are read by us with the same content, and images we build are read by QEMU
 * with the same content. Our read path is the engine's {@link PloopDisk} opened read-only; {@link
 * DeltaInfo} and {@link ImageChecker} are also run on QEMU's files.
 */
class QemuCompatTest {
  @TempDir Path dir;

  /** Seeded qemu-io writes: patterns at offsets within, across and at the end of clusters. */
  @ParameterizedTest(name = "cluster {0} bytes")
  @ValueSource(longs = {32768, 1048576})
  void testQemuWrittenImage_sameContentThroughOurBat(long cluster) throws IOException {
    long seed = Long.getLong("jploop.seed", 0x5eed0000L + cluster);
    Random rnd = new Random(seed);
    Path image = dir.resolve("qemu.hds");
    long size = 64L << 20;
    Qemu.create(image, size, cluster);
    List<String> cmds = new ArrayList<>();
    cmds.add("write -P 0xab 0 1M");
    cmds.add("write -P 0x11 " + (cluster - 512) + " 1024"); // straddles a cluster boundary
    cmds.add("write -P 0xcd " + (size - 4096) + " 4096"); // last bytes of the disk
    for (int i = 0; i < 12; i++) {
      long off = (rnd.nextLong(size / 512 - 256)) * 512;
      int len = (1 + rnd.nextInt(128)) * 512;
      cmds.add(String.format(Locale.ROOT, "write -P 0x%02x %d %d", 1 + rnd.nextInt(254), off, len));
    }
    cmds.add("write -z " + (3 * cluster) + " 512"); // zero-write on a partial cluster
    Qemu.io(image, cmds.toArray(String[]::new));

    Path qemuRaw = dir.resolve("qemu.raw");
    Qemu.convertToRaw(image, qemuRaw);
    Path ours = dir.resolve("ours.raw");
    readThroughEngine(List.of(image), ours);
    assertThat(mismatch(ours, qemuRaw)).as("seed %d, commands %s", seed, cmds).isEqualTo(-1);

    DeltaInfo info = DeltaInfo.readImage(image, null);
    assertThat(info.version()).isEqualTo(FormatVersion.V2);
    assertThat(info.sizeSectors() * 512).isEqualTo(size);
    assertThat(info.clusterSectors() * 512L).isEqualTo(cluster);
    assertThat(info.clustersAllocated()).as("seed %d", seed).isPositive();
    assertThat(info.inUse()).isFalse();
    CheckResult r =
        ImageChecker.checkImage(image, new CheckOptions(false, false, true, true, false), f -> {});
    assertThat(r.status())
        .as("seed %d: %s", seed, r.findings())
        .isEqualTo(CheckResult.Status.CLEAN);
    assertThat(r.findings()).as("seed %d", seed).isEmpty();
  }

  /** A chain we build by hand reads the same through qemu's backing syntax and through our BAT. */
  @Test
  void testOurChain_sameContentAsQemuBacking() throws IOException {
    long seed = Long.getLong("jploop.seed", 0xC4A1L);
    Random rnd = new Random(seed);
    TestImage base = TestImage.create(dir.resolve("root.hds"), FormatVersion.V2, 32768, 2048);
    TestImage top = TestImage.create(dir.resolve("root.hds.{top}"), FormatVersion.V2, 32768, 2048);
    for (int c : new int[] {0, 3, 5, 9, 15}) {
      base.allocate(c, rnd);
    }
    for (int c : new int[] {3, 4, 15}) {
      top.allocate(c, rnd);
    }
    Path qemuRaw = dir.resolve("qemu.raw");
    String json =
        "json:{\"driver\":\"parallels\",\"file\":{\"driver\":\"file\",\"filename\":\""
            + top.file()
            + "\"},\"backing\":{\"driver\":\"parallels\",\"file\":{\"driver\":\"file\","
            + "\"filename\":\""
            + base.file()
            + "\"}}}";
    Qemu.Result r = Qemu.run("qemu-img", "convert", "-O", "raw", json, qemuRaw.toString());
    assertThat(r.exitCode()).as(r.output()).isZero();
    Path ours = dir.resolve("ours.raw");
    readThroughEngine(List.of(base.file(), top.file()), ours);
    assertThat(mismatch(ours, qemuRaw)).as("seed %d", seed).isEqualTo(-1);
    assertThat(Qemu.check(base.file()).exitCode()).isZero();
    assertThat(Qemu.check(top.file()).exitCode()).isZero();
  }

  /** A v1 image (BAT in sectors) we build reads the same in qemu as through our BAT. */
  @Test
  void testOurV1Image_sameContentAsQemu() throws IOException {
    long seed = Long.getLong("jploop.seed", 0x0001L);
    Random rnd = new Random(seed);
    TestImage v1 = TestImage.create(dir.resolve("v1.hds"), FormatVersion.V1, 16384, 2048);
    for (int c : new int[] {7, 1, 6}) {
      v1.allocate(c, rnd);
    }
    Path qemuRaw = dir.resolve("qemu.raw");
    Qemu.convertToRaw(v1.file(), qemuRaw);
    Path ours = dir.resolve("ours.raw");
    readThroughEngine(List.of(v1.file()), ours);
    assertThat(mismatch(ours, qemuRaw)).as("seed %d", seed).isEqualTo(-1);
    assertThat(Qemu.check(v1.file()).exitCode()).isZero();
    assertThat(DeltaInfo.readImage(v1.file(), null).clustersAllocated()).isEqualTo(3);
  }

  /**
   * An image made by {@link ImageCreator} and written through the engine: in use while open, clean
   * after close, passes qemu-img check, same content for qemu, and our checker and info agree.
   */
  @Test
  void testOurWrittenImage_qemuReadsSameContent() throws IOException {
    long seed = Long.getLong("jploop.seed", 0xE61EL);
    Random rnd = new Random(seed);
    Path image = dir.resolve("root.hds");
    ImageCreator.create(ImageCreator.Request.of(image, 65536), b -> {}); // 32 MiB
    byte[] expected = new byte[32 << 20];
    try (PloopDisk disk = PloopDisk.openPaths(List.of(image), EngineOptions.defaults())) {
      assertThat(DeltaInfo.readImage(image, null).inUse()).as("in use while open").isTrue();
      for (int i = 0; i < 20; i++) {
        int len = (1 + rnd.nextInt(256)) * 512;
        int off = rnd.nextInt(expected.length / 512 - 256) * 512;
        byte[] data = new byte[len];
        rnd.nextBytes(data);
        System.arraycopy(data, 0, expected, off, len);
        disk.write(java.nio.ByteBuffer.wrap(data), off);
      }
      disk.flush();
    }
    DeltaInfo info = DeltaInfo.readImage(image, null);
    assertThat(info.inUse()).as("clean after close").isFalse();
    assertThat(info.clustersAllocated()).as("seed %d", seed).isPositive();
    Qemu.Result check = Qemu.check(image);
    assertThat(check.exitCode()).as("seed %d: %s", seed, check.output()).isZero();
    Path qemuRaw = dir.resolve("qemu.raw");
    Qemu.convertToRaw(image, qemuRaw);
    assertThat(Arrays.mismatch(Files.readAllBytes(qemuRaw), expected))
        .as("seed %d", seed)
        .isEqualTo(-1);
    CheckResult r =
        ImageChecker.checkImage(image, new CheckOptions(false, false, true, true, false), f -> {});
    assertThat(r.findings()).as("seed %d", seed).isEmpty();
  }

  /** Writes the whole flat disk of the chain, read through a read-only {@link PloopDisk}. */
  static void readThroughEngine(List<Path> deltasBaseFirst, Path out) throws IOException {
    try (PloopDisk disk =
            PloopDisk.openPaths(deltasBaseFirst, EngineOptions.defaults().readOnly(true));
        OutputStream os = Files.newOutputStream(out)) {
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 20);
      for (long pos = 0; pos < disk.size(); pos += buf.capacity()) {
        buf.clear().limit((int) Math.min(buf.capacity(), disk.size() - pos));
        disk.read(buf, pos);
        os.write(buf.array(), 0, buf.limit());
      }
    }
  }

  /** Returns the first differing byte offset, or -1 (sizes must match too). */
  static long mismatch(Path a, Path b) throws IOException {
    byte[] x = Files.readAllBytes(a);
    byte[] y = Files.readAllBytes(b);
    if (x.length != y.length) {
      return Math.min(x.length, y.length);
    }
    return Arrays.mismatch(x, y);
  }
}
