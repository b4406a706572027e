package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.jploop.format.FormatVersion;
import org.jploop.io.NoSpaceException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded model-based tests: random write / read / punch / zero-range / flush / reopen against a
 * {@code byte[]} model, on one delta and on stacks of 2-3 deltas, single- and multi-threaded.
 * Failures print the seed; {@code -Djploop.seed=N} runs only that seed.
 */
class PloopDiskModelTest {
  static final int CLUSTER = 64 * 1024;

  static LongStream seeds() {
    String s = System.getProperty("jploop.seed");
    if (s != null) {
      return LongStream.of(Long.parseLong(s));
    }
    String n = System.getProperty("jploop.seeds"); // soak: -Djploop.seeds=500
    return n != null ? LongStream.rangeClosed(1, Long.parseLong(n)) : LongStream.range(1, 13);
  }

  static EngineOptions optionsFor(Random r) {
    EngineOptions o = EngineOptions.defaults().preallocSize(1 << 20);
    return switch (r.nextInt(3)) {
      case 0 -> o.backgroundThreads(false);
      case 1 -> o.mdSubmitDelayMs(0);
      default -> o.mdSubmitDelayMs(3);
    };
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void singleDelta(long seed) throws Exception {
    run(seed, 0);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void stackedDeltas(long seed) throws Exception {
    run(seed, 1 + (int) (seed % 2));
  }

  private void run(long seed, int lowerLayers) throws Exception {
    Random r = new Random(seed);
    long disk = (8 + r.nextInt(25)) * (1L << 20);
    DiskModel m =
        new DiskModel(
            seed,
            disk,
            CLUSTER,
            optionsFor(r),
            seed % 4 == 3 ? FormatVersion.V1 : FormatVersion.V2);
    for (int i = 0; i < lowerLayers; i++) {
      m.addLayer(r, 60);
    }
    boolean enospc = seed % 3 == 2;
    if (enospc) {
      // Transient ENOSPC on 1 in 10 data writes: writes park and retry, nothing is lost.
      m.options = m.options.enospcRetryMs(1);
      long dataOffset = m.top.size();
      Random fr = new Random(seed + 99);
      m.top.setFault(
          (op, pos, len) -> {
            synchronized (fr) {
              return op.equals("write") && pos >= dataOffset && fr.nextInt(10) == 0
                  ? new NoSpaceException(m.top.path(), op, pos, len)
                  : null;
            }
          });
    }
    PloopDisk d = m.open();
    try {
      for (int op = 0; op < 400; op++) {
        int k = r.nextInt(100);
        if (k < 40) {
          m.randomWrite(d, r, 0, disk);
        } else if (k < 65) {
          m.randomRead(d, r, 0, disk);
        } else if (k < 85) {
          m.randomDiscard(d, r, 0, disk);
        } else if (k < 92) {
          d.flush();
        } else if (k < 96) {
          if (!m.options.backgroundThreads()) {
            d.runWritebackCycle();
          }
        } else {
          d.close();
          if (r.nextBoolean()) {
            try (PloopDisk ro = PloopDisk.open(m.stack(), m.options.readOnly(true))) {
              m.verifyAll(ro);
            }
          }
          d = m.open();
        }
      }
      m.verifyAll(d);
    } finally {
      d.close();
    }
    assertThat(m.top.size())
        .as(m.where() + " file ends at the last used cluster")
        .isLessThanOrEqualTo(lastUsedEnd(m));
    try (PloopDisk ro = PloopDisk.open(m.stack(), m.options.readOnly(true))) {
      m.verifyAll(ro);
    }
  }

  /** Computes the end of the highest cluster the top's on-disk BAT references. */
  static long lastUsedEnd(DiskModel m) throws IOException {
    try (PloopDisk ro = PloopDisk.open(m.stack(), m.options.readOnly(true))) {
      long max = -1;
      long clusters = (m.diskBytes + m.clusterBytes - 1) / m.clusterBytes;
      int topLevel = m.lowers.size();
      for (long c = 0; c < clusters; c++) {
        long e = ro.mapping(c);
        if ((e & 0xFFFFFFFFL) != 0 && (e >>> 32) == topLevel) {
          max = Math.max(max, e & 0xFFFFFFFFL);
        }
      }
      long header = org.jploop.io.ImageReader.readHeader(m.top).firstBlockOffset() * 512;
      return Math.max(header, (max + 1) * m.clusterBytes);
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void multiThreaded(long seed) throws Exception {
    Random r = new Random(seed * 31 + 7);
    long disk = 16L << 20;
    EngineOptions o =
        EngineOptions.defaults().preallocSize(1 << 20).mdSubmitDelayMs(r.nextBoolean() ? 0 : 2);
    DiskModel m = new DiskModel(seed, disk, CLUSTER, o);
    if (seed % 3 == 0) {
      m.addLayer(r, 40);
    }
    int threads = 4;
    ExecutorService ex =
        Executors.newFixedThreadPool(threads, task -> new Thread(task, "model-writer"));
    try (PloopDisk d = m.open()) {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        // Region borders fall inside clusters, so neighbours share a cluster.
        long from = t * disk / threads + (t == 0 ? 0 : 1000);
        long end = t == threads - 1 ? disk : (t + 1) * disk / threads + 1000;
        long start = from;
        long tseed = seed * 1000 + t;
        fs.add(
            ex.submit(
                () -> {
                  Random tr = new Random(tseed);
                  for (int op = 0; op < 150; op++) {
                    int k = tr.nextInt(100);
                    if (k < 50) {
                      m.randomWrite(d, tr, start, end);
                    } else if (k < 70) {
                      m.randomRead(d, tr, start, end);
                    } else if (k < 92) {
                      m.randomDiscard(d, tr, start, end);
                    } else {
                      d.flush();
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : fs) {
        f.get(60, TimeUnit.SECONDS);
      }
      m.verifyAll(d);
    } finally {
      ex.shutdownNow();
    }
    try (PloopDisk ro = PloopDisk.open(m.stack(), m.options.readOnly(true))) {
      m.verifyAll(ro);
    }
  }
}
