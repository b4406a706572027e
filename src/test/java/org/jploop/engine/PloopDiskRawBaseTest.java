package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.jploop.testing.MemoryBlockFile;
import org.jploop.testing.TestImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ploop1 deltas on a raw ({@code Plain}) base, as {@code ploop snapshot} makes them on a raw disk:
 * reads fall through to the raw file, writes copy up into the top, the raw file is never written,
 * and a reopened chain reads the same. Seeded model test against a byte array.
 */
class PloopDiskRawBaseTest {
  static final int CLUSTER = 64 * 1024;
  static final long DISK = 16L * CLUSTER;

  static EngineOptions opts() {
    return EngineOptions.defaults().backgroundThreads(false).preallocSize(4L * CLUSTER);
  }

  static byte[] readAll(PloopDisk d) throws Exception {
    ByteBuffer b = ByteBuffer.allocate((int) DISK);
    d.read(b, 0);
    return b.array();
  }

  /** A raw base shorter than the disk (a raw disk grown later), ending mid-cluster. */
  static MemoryBlockFile rawBase(Random r, byte[] model) throws Exception {
    MemoryBlockFile raw = new MemoryBlockFile("root.hds");
    int rawLen = 9 * CLUSTER + 1234;
    byte[] data = new byte[rawLen];
    r.nextBytes(data);
    raw.write(ByteBuffer.wrap(data), 0);
    System.arraycopy(data, 0, model, 0, rawLen);
    return raw;
  }

  @Test
  void readsFallThroughToTheRawFile() throws Exception {
    byte[] model = new byte[(int) DISK];
    MemoryBlockFile raw = rawBase(new Random(1), model);
    MemoryBlockFile top = TestImages.empty("root.hds.{x}", DISK, CLUSTER);
    try (PloopDisk d = PloopDisk.open(List.of(raw.copy(true), top), true, opts())) {
      assertThat(readAll(d)).isEqualTo(model);
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {7L, 8L, 9L, 10L})
  void randomOpsMatchTheModelAndNeverWriteTheRawFile(long seed) throws Exception {
    Random r = new Random(seed);
    byte[] model = new byte[(int) DISK];
    MemoryBlockFile raw = rawBase(r, model);
    byte[] rawBefore = new byte[(int) raw.size()];
    raw.read(ByteBuffer.wrap(rawBefore), 0);
    MemoryBlockFile top = TestImages.empty("root.hds.{x}", DISK, CLUSTER);
    try (PloopDisk d = PloopDisk.open(List.of(raw.copy(true), top), true, opts())) {
      for (int i = 0; i < 200; i++) {
        int len = 1 + r.nextInt(2 * CLUSTER);
        int off = r.nextInt((int) DISK - len);
        switch (r.nextInt(4)) {
          case 0 -> {
            d.punchHole(off, len);
            Arrays.fill(model, off, off + len, (byte) 0);
          }
          case 1 -> {
            ByteBuffer b = ByteBuffer.allocate(len);
            d.read(b, off);
            assertThat(b.array())
                .as("seed %d op %d read at %d", seed, i, off)
                .isEqualTo(Arrays.copyOfRange(model, off, off + len));
          }
          default -> {
            byte[] data = new byte[len];
            r.nextBytes(data);
            d.write(ByteBuffer.wrap(data), off);
            System.arraycopy(data, 0, model, off, len);
          }
        }
        if (r.nextInt(30) == 0) {
          d.flush();
        }
      }
      assertThat(readAll(d)).as("seed %d", seed).isEqualTo(model);
    }
    byte[] rawAfter = new byte[(int) raw.size()];
    raw.read(ByteBuffer.wrap(rawAfter), 0);
    assertThat(rawAfter).as("seed %d: the raw base is untouched", seed).isEqualTo(rawBefore);
    try (PloopDisk d =
        PloopDisk.open(List.of(raw.copy(true), top.copy(true)), true, opts().readOnly(true))) {
      assertThat(readAll(d)).as("seed %d: reopened", seed).isEqualTo(model);
    }
  }
}
