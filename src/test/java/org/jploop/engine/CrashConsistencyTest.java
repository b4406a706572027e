package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.jploop.io.BlockFile;
import org.jploop.testing.CrashingBlockFile;
import org.jploop.testing.MemoryBlockFile;
import org.jploop.testing.TestImages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Crash consistency (§9 scenarios 6, 7, 18): random sector-aligned writes and discards with
 * cluster-unique sector patterns run on a {@link CrashingBlockFile}; at random points, including in
 * the middle of BAT writeback, a crash image is taken, reopened with allowDirty and checked: open
 * validates every BAT entry (inside the file, no duplicates); every sector of every cluster holds a
 * version that cluster had since the last flush (so flushed data reads back exactly and no sector
 * ever shows another cluster's or freed data).
 */
class CrashConsistencyTest {
  static final int CLUSTER = 64 * 1024;
  static final int SECTOR = 512;
  static final long DISK = 8L << 20;
  static final int CLUSTERS = (int) (DISK / CLUSTER);
  static final AtomicInteger TOTAL_CRASHES = new AtomicInteger();

  static LongStream seeds() {
    String s = System.getProperty("jploop.seed");
    if (s != null) {
      return LongStream.of(Long.parseLong(s));
    }
    String n = System.getProperty("jploop.seeds"); // soak: -Djploop.seeds=500
    return n != null ? LongStream.rangeClosed(1, Long.parseLong(n)) : LongStream.rangeClosed(1, 8);
  }

  @AfterAll
  static void report() {
    System.out.println("CrashConsistencyTest: crash points checked = " + TOTAL_CRASHES.get());
  }

  /** Per-seed state: current contents and acceptable versions per cluster. */
  static final class Model {
    final long seed;
    final byte[][] cur = new byte[CLUSTERS][]; // null = zeros
    final List<List<byte[]>> candidates = new ArrayList<>();
    final int[] version = new int[CLUSTERS];
    List<BlockFile> lowers = new ArrayList<>();
    int crashes;

    Model(long seed) {
      this.seed = seed;
      for (int i = 0; i < CLUSTERS; i++) {
        List<byte[]> l = new ArrayList<>();
        l.add(null);
        candidates.add(l);
      }
    }

    void flushed() {
      for (int c = 0; c < CLUSTERS; c++) {
        List<byte[]> l = new ArrayList<>();
        l.add(cur[c]);
        candidates.set(c, l);
      }
    }

    void changed(int c, byte[] now) {
      cur[c] = now;
      candidates.get(c).add(now);
    }
  }

  static void pattern(byte[] cluster, int c, int ver, int sector) {
    ByteBuffer b = ByteBuffer.wrap(cluster, sector * SECTOR, SECTOR);
    long base = ((long) c << 40) ^ ((long) ver << 16) ^ sector;
    for (int i = 0; i < SECTOR / 8; i++) {
      b.putLong(base * 0x9E3779B97F4A7C15L + i + 1);
    }
  }

  static void write(PloopDisk d, Model m, Random r) throws IOException {
    long startSector = r.nextInt((int) (DISK / SECTOR));
    int sectors = 1 + r.nextInt(r.nextBoolean() ? 8 : 3 * CLUSTER / SECTOR);
    long endSector = Math.min(DISK / SECTOR, startSector + sectors);
    byte[] data = new byte[(int) ((endSector - startSector) * SECTOR)];
    for (int c = (int) (startSector * SECTOR / CLUSTER);
        c * (long) CLUSTER < endSector * SECTOR;
        c++) {
      byte[] now = m.cur[c] == null ? new byte[CLUSTER] : m.cur[c].clone();
      int v = ++m.version[c];
      for (int s = 0; s < CLUSTER / SECTOR; s++) {
        long abs = (long) c * CLUSTER / SECTOR + s;
        if (abs >= startSector && abs < endSector) {
          pattern(now, c, v, s);
          System.arraycopy(now, s * SECTOR, data, (int) ((abs - startSector) * SECTOR), SECTOR);
        }
      }
      m.changed(c, now);
    }
    d.write(ByteBuffer.wrap(data), startSector * SECTOR);
  }

  static void discard(PloopDisk d, Model m, Random r) throws IOException {
    long off;
    long len;
    if (r.nextBoolean()) {
      off = (long) r.nextInt(CLUSTERS) * CLUSTER;
      len = Math.min(DISK - off, (long) (1 + r.nextInt(2)) * CLUSTER);
    } else {
      off = (long) r.nextInt((int) (DISK / SECTOR)) * SECTOR;
      len = Math.min(DISK - off, (long) (1 + r.nextInt(200)) * SECTOR);
    }
    for (int c = (int) (off / CLUSTER); (long) c * CLUSTER < off + len; c++) {
      byte[] now = m.cur[c] == null ? new byte[CLUSTER] : m.cur[c].clone();
      long from = Math.max(off, (long) c * CLUSTER) - (long) c * CLUSTER;
      long to = Math.min(off + len, (long) (c + 1) * CLUSTER) - (long) c * CLUSTER;
      Arrays.fill(now, (int) from, (int) to, (byte) 0);
      m.changed(c, now);
    }
    if (r.nextBoolean()) {
      d.punchHole(off, len);
    } else {
      d.zeroRange(off, len);
    }
  }

  static void checkExact(PloopDisk d, Model m, String what) throws IOException {
    for (int c = 0; c < CLUSTERS; c++) {
      ByteBuffer b = ByteBuffer.allocate(CLUSTER);
      d.read(b, (long) c * CLUSTER);
      byte[] want = m.cur[c] == null ? new byte[CLUSTER] : m.cur[c];
      assertThat(Arrays.equals(b.array(), want))
          .as("seed=%d %s: cluster %d differs", m.seed, what, c)
          .isTrue();
    }
  }

  static void verifyCrash(Model m, MemoryBlockFile img, EngineOptions opts) throws IOException {
    m.crashes++;
    TOTAL_CRASHES.incrementAndGet();
    List<BlockFile> st = new ArrayList<>(m.lowers);
    st.add(img);
    byte[] zeros = new byte[SECTOR];
    try (PloopDisk v = PloopDisk.open(st, opts.allowDirty(true).backgroundThreads(false))) {
      for (int c = 0; c < CLUSTERS; c++) {
        ByteBuffer b = ByteBuffer.allocate(CLUSTER);
        v.read(b, (long) c * CLUSTER);
        byte[] got = b.array();
        for (int s = 0; s < CLUSTER / SECTOR; s++) {
          boolean ok = false;
          for (byte[] cand : m.candidates.get(c)) {
            byte[] src = cand == null ? zeros : cand;
            int so = cand == null ? 0 : s * SECTOR;
            if (Arrays.equals(got, s * SECTOR, (s + 1) * SECTOR, src, so, so + SECTOR)) {
              ok = true;
              break;
            }
          }
          assertThat(ok)
              .as(
                  "seed=%d crash #%d: cluster %d sector %d holds data it never had"
                      + " since the last flush (rerun with -Djploop.seed=%d)",
                  m.seed, m.crashes, c, s, m.seed)
              .isTrue();
        }
      }
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void crashAtRandomPoints(long seed) throws Exception {
    Random r = new Random(seed);
    Random crashRnd = new Random(seed ^ 0x5DEECE66DL);
    Model m = new Model(seed);
    AtomicLong clock = new AtomicLong();
    EngineOptions opts =
        EngineOptions.defaults()
            .backgroundThreads(false)
            .mdSubmitDelayMs(r.nextBoolean() ? 0 : 100)
            .nanoClock(clock::get)
            .preallocSize(1 << 20);
    if (seed % 2 == 0) {
      MemoryBlockFile base = TestImages.empty("base.hds", DISK, CLUSTER);
      try (PloopDisk d = PloopDisk.open(List.of(base), opts)) {
        for (int i = 0; i < 40; i++) {
          write(d, m, r);
        }
      }
      m.flushed();
      m.lowers = List.of(base.copy(true));
    }
    MemoryBlockFile empty = TestImages.empty("top.hds", DISK, CLUSTER);
    long dataOffset = empty.size();
    CrashingBlockFile top = new CrashingBlockFile(empty);
    boolean[] inHook = {false};
    top.setFault(
        (op, pos, len) -> {
          // Crash in the middle of BAT writeback, between page writes.
          if (op.equals("write") && pos < dataOffset && !inHook[0] && crashRnd.nextInt(3) == 0) {
            inHook[0] = true;
            try {
              verifyCrash(m, top.crash(crashRnd), opts);
            } finally {
              inHook[0] = false;
            }
          }
          return null;
        });
    List<BlockFile> st = new ArrayList<>(m.lowers);
    st.add(top);
    PloopDisk d = PloopDisk.open(st, opts);
    try {
      for (int op = 0; op < 250; op++) {
        clock.addAndGet(r.nextInt(30) * 1_000_000L);
        int k = r.nextInt(100);
        if (k < 45) {
          write(d, m, r);
        } else if (k < 65) {
          discard(d, m, r);
        } else if (k < 75) {
          d.flush();
          m.flushed();
        } else if (k < 88) {
          d.runWritebackCycle();
        } else {
          checkExact(d, m, "live read");
        }
        if (crashRnd.nextInt(4) == 0) {
          verifyCrash(m, top.crash(crashRnd), opts);
        }
      }
      d.flush();
      m.flushed();
      verifyCrash(m, top.crash(crashRnd), opts);
    } finally {
      top.setFault(null);
      d.close();
    }
    List<BlockFile> reopened = new ArrayList<>(m.lowers);
    reopened.add(top.durableCopy());
    try (PloopDisk v = PloopDisk.open(reopened, opts.readOnly(true))) {
      checkExact(v, m, "after clean close");
    }
    assertThat(m.crashes).as("crash points for seed " + seed).isGreaterThanOrEqualTo(25);
  }
}
