package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.jploop.format.FormatVersion;
import org.jploop.io.FileBlockFile;
import org.jploop.testing.TestImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine on a real file: tail truncation on close and punched clusters freeing disk blocks. */
class RealFileTest {
  static final int CLUSTER = 1 << 20;

  /** Returns the 512-byte blocks allocated to {@code p} ({@code stat -c %b}; JDK 17 has no
   * "unix:blocks" attribute). */
  static long blocks(Path p) throws Exception {
    Process pr = new ProcessBuilder("stat", "-c", "%b", p.toString()).redirectErrorStream(true)
        .start();
    String out = new String(pr.getInputStream().readAllBytes()).trim();
    assertThat(pr.waitFor()).as("stat: " + out).isZero();
    return Long.parseLong(out);
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
      assertThat(Files.size(img)).as("preallocated 128 MiB sparse tail while open")
          .isEqualTo(dataOffset + (128L << 20));
    }
    assertThat(Files.size(img)).isEqualTo(dataOffset + 20L * CLUSTER);
    long blocksBefore = blocks(img);
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), EngineOptions.defaults())) {
      d.punchHole(2L * CLUSTER, 10L * CLUSTER); // virtual clusters 2..11
      d.punchHole(19L * CLUSTER, CLUSTER); // the last one
    }
    long blocksAfter = blocks(img);
    System.out.println("allocated 512-byte blocks before punch " + blocksBefore + ", after " + blocksAfter);
    assertThat(blocksBefore - blocksAfter).as("about 11 MiB of 512-byte blocks freed")
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
}
