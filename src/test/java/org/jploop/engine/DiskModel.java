package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jploop.format.FormatVersion;
import org.jploop.io.BlockFile;
import org.jploop.testing.MemoryBlockFile;
import org.jploop.testing.TestImages;

/**
 * Test support: a stack of in-memory deltas with a {@code byte[]} model of the disk contents, and
 * random operations applied to both.
 */
final class DiskModel {
  final long seed;
  final int clusterBytes;
  final long diskBytes;
  final byte[] model;

  /** Lower deltas (read-only copies), base first. */
  final List<MemoryBlockFile> lowers = new ArrayList<>();

  MemoryBlockFile top;
  EngineOptions options;

  final FormatVersion version;

  DiskModel(long seed, long diskBytes, int clusterBytes, EngineOptions options) throws IOException {
    this(seed, diskBytes, clusterBytes, options, FormatVersion.V2);
  }

  DiskModel(
      long seed, long diskBytes, int clusterBytes, EngineOptions options, FormatVersion version)
      throws IOException {
    this.seed = seed;
    this.version = version;
    this.diskBytes = diskBytes;
    this.clusterBytes = clusterBytes;
    this.model = new byte[(int) diskBytes];
    this.options = options;
    this.top = newImage("top-" + seed + ".hds");
  }

  private MemoryBlockFile newImage(String name) throws IOException {
    return TestImages.empty(name, version, TestImages.geometry(diskBytes, clusterBytes));
  }

  /** Returns the current stack, base first, top last. */
  List<BlockFile> stack() {
    List<BlockFile> l = new ArrayList<>(lowers);
    l.add(top);
    return l;
  }

  PloopDisk open() throws IOException {
    return PloopDisk.open(stack(), options);
  }

  /** Writes random data into the current top, closes, and stacks a fresh empty top on it. */
  void addLayer(Random r, int writes) throws IOException {
    try (PloopDisk d = open()) {
      for (int i = 0; i < writes; i++) {
        randomWrite(d, r, 0, diskBytes);
      }
    }
    lowers.add(top.copy(true));
    top = newImage("top-" + seed + "-" + lowers.size() + ".hds");
  }

  String where() {
    return "seed=" + seed + " (rerun with -Djploop.seed=" + seed + ")";
  }

  void randomWrite(PloopDisk d, Random r, long from, long to) throws IOException {
    long off = from + (long) (r.nextDouble() * (to - from - 1));
    int len = (int) Math.min(to - off, 1 + r.nextInt(r.nextBoolean() ? 4096 : 3 * clusterBytes));
    byte[] data = new byte[len];
    if (r.nextInt(8) != 0) {
      r.nextBytes(data);
    }
    d.write(ByteBuffer.wrap(data), off);
    System.arraycopy(data, 0, model, (int) off, len);
  }

  void randomDiscard(PloopDisk d, Random r, long from, long to) throws IOException {
    long off;
    long len;
    if (r.nextBoolean()) {
      long firstC = (from + clusterBytes - 1) / clusterBytes;
      long lastC = to / clusterBytes; // exclusive
      if (lastC <= firstC) {
        return;
      }
      long c = firstC + r.nextInt((int) (lastC - firstC));
      int n = (int) Math.min(lastC - c, 1 + r.nextInt(3));
      off = c * clusterBytes;
      len = (long) n * clusterBytes;
    } else {
      off = from + (long) (r.nextDouble() * (to - from - 1));
      len = Math.min(to - off, 1 + r.nextInt(2 * clusterBytes));
    }
    if (r.nextBoolean()) {
      d.punchHole(off, len);
    } else {
      d.zeroRange(off, len);
    }
    java.util.Arrays.fill(model, (int) off, (int) (off + len), (byte) 0);
  }

  void randomRead(PloopDisk d, Random r, long from, long to) throws IOException {
    long off = from + (long) (r.nextDouble() * (to - from - 1));
    int len = (int) Math.min(to - off, 1 + r.nextInt(3 * clusterBytes));
    ByteBuffer b = ByteBuffer.allocate(len);
    d.read(b, off);
    assertThat(b.position()).isEqualTo(len);
    assertRange(b.array(), off, where() + " read at " + off + " len " + len);
  }

  void assertRange(byte[] got, long off, String msg) {
    int mismatch =
        java.util.Arrays.mismatch(got, 0, got.length, model, (int) off, (int) off + got.length);
    assertThat(mismatch)
        .as(msg + ": first differing byte at disk offset " + (mismatch < 0 ? -1 : off + mismatch))
        .isEqualTo(-1);
  }

  void verifyAll(PloopDisk d) throws IOException {
    int chunk = 1 << 20;
    for (long off = 0; off < diskBytes; off += chunk) {
      int len = (int) Math.min(chunk, diskBytes - off);
      ByteBuffer b = ByteBuffer.allocate(len);
      d.read(b, off);
      assertRange(b.array(), off, where() + " full verify");
    }
  }
}
