package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import org.jploop.testing.MemoryBlockFile;
import org.jploop.testing.TestImages;
import org.junit.jupiter.api.Test;

/**
 * Measures md page writes for 1024 sequential cluster allocations with the per-page writeback delay
 * on (seed 001) and off; prints both numbers.
 */
class WritebackDelayMeasurementTest {
  static final int CLUSTER = 64 * 1024;
  static final int N = 1024;

  @Test
  void delayBatchesPageWrites() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", (long) N * CLUSTER, CLUSTER);
    long writes;
    try (PloopDisk d = PloopDisk.open(List.of(top), EngineOptions.defaults())) {
      byte[] data = new byte[4096];
      data[1] = 1;
      for (int i = 0; i < N; i++) {
        d.write(ByteBuffer.wrap(data), (long) i * CLUSTER);
      }
      d.flush();
      writes = d.stats().mdPageWrites();
    }
    System.out.println("md page writes for " + N + " allocations, delay 1000 ms: " + writes);
    assertThat(writes).isBetween(1L, 8L);
  }

  @Test
  void oneLargePunchWritesEachPageOnce() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", (long) N * CLUSTER, CLUSTER);
    long writes;
    long freed;
    try (PloopDisk d = PloopDisk.open(List.of(top), EngineOptions.defaults())) {
      byte[] data = new byte[4096];
      data[1] = 1;
      for (int i = 0; i < N; i++) {
        d.write(ByteBuffer.wrap(data), (long) i * CLUSTER);
      }
      d.flush();
      long before = d.stats().mdPageWrites();
      d.punchHole(0, (long) N * CLUSTER); // one request, as fstrim sends up to 128 MiB at once
      d.flush();
      writes = d.stats().mdPageWrites() - before;
      freed = d.stats().clustersFreed();
    }
    System.out.println("md page writes for one punch of " + N + " clusters: " + writes);
    assertThat(freed).isEqualTo(N);
    // 1024 entries span md pages 0 and 1: each written once, maybe twice if the thread raced.
    assertThat(writes).isBetween(1L, 4L);
  }

  @Test
  void noDelayAndFlushEveryWriteWritesEachTime() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", (long) N * CLUSTER, CLUSTER);
    long writes;
    try (PloopDisk d = PloopDisk.open(List.of(top), EngineOptions.defaults().mdSubmitDelayMs(0))) {
      byte[] data = new byte[4096];
      data[1] = 1;
      for (int i = 0; i < N; i++) {
        d.write(ByteBuffer.wrap(data), (long) i * CLUSTER);
        d.flush();
      }
      writes = d.stats().mdPageWrites();
    }
    System.out.println("md page writes for " + N + " allocations, delay 0 + flush each: " + writes);
    assertThat(writes).isGreaterThanOrEqualTo(N);
  }
}
