package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.jploop.format.FormatVersion;
import org.jploop.io.FileBlockFile;
import org.jploop.testing.TestImages;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine on a real file: tail truncation on close and punched clusters freeing disk blocks. */
class RealFileTest {
  static final int CLUSTER = 1 << 20;

  /**
   * Returns the 512-byte blocks allocated to {@code p} ({@code stat -c %b}; JDK 17 has no
   * "unix:blocks" attribute).
   */
  static long blocks(Path p) throws Exception {
    Process pr =
        new ProcessBuilder("stat", "-c", "%b", p.toString()).redirectErrorStream(true).start();
    String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(pr.waitFor()).as("stat: " + out).isZero();
    return Long.parseLong(out);
  }

  @Test
  void openReservesTheBatArea(@TempDir Path dir) throws Exception {
    Path img = dir.resolve("root.hds");
    Files.createFile(img);
    long dataOffset;
    try (FileBlockFile f = FileBlockFile.open(img, false)) {
      var g = TestImages.geometry(4L << 30, 64 * 1024); // 4 GiB of 64 KiB clusters: 5 BAT clusters
      TestImages.format(f, FormatVersion.V2, g);
      dataOffset = g.dataOffsetBytes();
    }
    long before = blocks(img) * 512;
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), EngineOptions.defaults())) {
      assertThat(blocks(img) * 512)
          .as("header clusters have real blocks while open")
          .isGreaterThanOrEqualTo(dataOffset);
    }
    assertThat(before).as("the test image starts sparse").isLessThan(dataOffset);
    assertThat(Files.size(img)).isEqualTo(dataOffset);
  }

  @Test
  void closeTrimsToLastUsedClusterAndPunchFreesBlocks(@TempDir Path dir) throws Exception {
    Path img = dir.resolve("root.hds");
    Files.createFile(img);
    try (FileBlockFile f = FileBlockFile.open(img, false)) {
      TestImages.format(f, FormatVersion.V2, TestImages.geometry(256L << 20, CLUSTER));
    }
    long dataOffset = Files.size(img);
    byte[] data = new byte[CLUSTER];
    new Random(1).nextBytes(data);
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), EngineOptions.defaults())) {
      for (int c = 0; c < 20; c++) {
        d.write(ByteBuffer.wrap(data), (long) c * CLUSTER);
      }
      d.flush();
      assertThat(Files.size(img))
          .as("preallocated 128 MiB sparse tail while open")
          .isEqualTo(dataOffset + (128L << 20));
    }
    assertThat(Files.size(img)).isEqualTo(dataOffset + 20L * CLUSTER);
    long blocksBefore = blocks(img);
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), EngineOptions.defaults())) {
      d.punchHole(2L * CLUSTER, 10L * CLUSTER); // virtual clusters 2..11
      d.punchHole(19L * CLUSTER, CLUSTER); // the last one
    }
    long blocksAfter = blocks(img);
    System.out.println(
        "allocated 512-byte blocks before punch " + blocksBefore + ", after " + blocksAfter);
    assertThat(blocksBefore - blocksAfter)
        .as("about 11 MiB of 512-byte blocks freed")
        .isGreaterThanOrEqualTo(10L * CLUSTER / 512);
    long lastUsedEnd;
    try (PloopDisk r = PloopDisk.openPaths(List.of(img), EngineOptions.defaults().readOnly(true))) {
      long max = 0;
      for (long c = 0; c < 256; c++) {
        max = Math.max(max, r.mapping(c) & 0xFFFFFFFFL);
      }
      lastUsedEnd = (max + 1) * CLUSTER;
      ByteBuffer b = ByteBuffer.allocate(CLUSTER);
      r.read(b, 18L * CLUSTER);
      assertThat(b.array()).isEqualTo(data);
      b.clear();
      r.read(b, 5L * CLUSTER);
      assertThat(b.array()).isEqualTo(new byte[CLUSTER]);
    }
    assertThat(Files.size(img)).as("file ends at the last used cluster").isEqualTo(lastUsedEnd);
  }

  /** Runs a command, returns exit code and output. */
  static String[] run(String... cmd) throws Exception {
    Process pr = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new String[] {String.valueOf(pr.waitFor()), out};
  }

  @Test
  void qemuImgCheckFindsNoLeakAfterCleanClose(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/qemu-img")), "qemu-img not installed");
    Path img = dir.resolve("root.hds");
    Files.createFile(img);
    try (FileBlockFile f = FileBlockFile.open(img, false)) {
      TestImages.format(f, FormatVersion.V2, TestImages.geometry(64L << 20, CLUSTER));
    }
    byte[] data = new byte[CLUSTER];
    new Random(2).nextBytes(data);
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), EngineOptions.defaults())) {
      for (int c = 0; c < 12; c++) {
        d.write(ByteBuffer.wrap(data), (long) c * CLUSTER);
      }
      d.punchHole(3L * CLUSTER, 2L * CLUSTER);
      d.write(ByteBuffer.wrap(data), 40L * CLUSTER); // reuses a hole
    }
    String[] r = run("qemu-img", "check", "-f", "parallels", img.toString());
    System.out.println("qemu-img check: " + r[1].trim());
    assertThat(r[0]).as(r[1]).isEqualTo("0");
    assertThat(r[1]).doesNotContain("leak").doesNotContain("corrupt").doesNotContain("ERROR");
    Path raw = dir.resolve("raw");
    String[] conv =
        run("qemu-img", "convert", "-f", "parallels", "-O", "raw", img.toString(), raw.toString());
    assertThat(conv[0]).as(conv[1]).isEqualTo("0");
    byte[] all = Files.readAllBytes(raw);
    assertThat(java.util.Arrays.copyOfRange(all, 40 * CLUSTER, 41 * CLUSTER)).isEqualTo(data);
    assertThat(java.util.Arrays.copyOfRange(all, 3 * CLUSTER, 5 * CLUSTER))
        .isEqualTo(new byte[2 * CLUSTER]);
    assertThat(java.util.Arrays.copyOfRange(all, 11 * CLUSTER, 12 * CLUSTER)).isEqualTo(data);
  }

  @Test
  void seedHeadlineNumbersInSmall(@TempDir Path dir) throws Exception {
    // Seed 000: init -> about the BAT size; write N MiB -> about N MiB; rm + fstrim -> initial.
    Path img = dir.resolve("root.hds");
    Files.createFile(img);
    try (FileBlockFile f = FileBlockFile.open(img, false)) {
      TestImages.format(f, FormatVersion.V2, TestImages.geometry(1L << 30, CLUSTER));
    }
    long initial = Files.size(img);
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), EngineOptions.defaults())) {
      assertThat(d.stats().fileSize()).isEqualTo(initial);
    }
    assertThat(Files.size(img)).as("fresh image: no preallocated tail").isEqualTo(initial);
    byte[] data = new byte[CLUSTER];
    new Random(3).nextBytes(data);
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), EngineOptions.defaults())) {
      for (int c = 0; c < 64; c++) {
        d.write(ByteBuffer.wrap(data), (long) c * CLUSTER);
      }
    }
    assertThat(Files.size(img)).isEqualTo(initial + 64L * CLUSTER);
    long used = blocks(img) * 512;
    assertThat(used).isBetween(64L * CLUSTER, initial + 64L * CLUSTER + (1 << 20));
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), EngineOptions.defaults())) {
      d.punchHole(0, 64L * CLUSTER);
    }
    assertThat(Files.size(img)).as("rm + fstrim: back to the initial size").isEqualTo(initial);
  }
}
