package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.io.NoSpaceException;
import org.jploop.testing.CrashingBlockFile;
import org.jploop.testing.MemoryBlockFile;
import org.jploop.testing.ShortIoChannel;
import org.jploop.testing.TestImages;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scenarios of kernel-driver-behaviour.md §9 that apply to a synchronous engine, one named test
 * each (the number in the display name is the §9 item).
 */
class KernelScenarioTest {
  static final int CLUSTER = 64 * 1024;
  static final long MIB = 1 << 20;
  static final long MS = 1_000_000L;

  final AtomicLong clock = new AtomicLong(1_000 * MS);

  EngineOptions manual() {
    return EngineOptions.defaults()
        .backgroundThreads(false)
        .nanoClock(clock::get)
        .preallocSize(MIB);
  }

  static byte[] filled(int len, int seed) {
    byte[] b = new byte[len];
    new Random(seed).nextBytes(b);
    return b;
  }

  static byte[] read(PloopDisk d, long off, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(len);
    d.read(b, off);
    return b.array();
  }

  static long phys(PloopDisk d, long c) {
    return d.mapping(c) & 0xFFFFFFFFL;
  }

  /** Raw BAT value of virtual cluster {@code c} as stored in {@code f}. */
  static long onDisk(BlockFile f, long c) throws IOException {
    ImageHeader h = ImageReader.readHeader(f);
    return Integer.toUnsignedLong(ImageReader.readBatSlots(f, h)[(int) c]);
  }

  @Test
  @DisplayName(
      "1: allocation and discard on one md page both land; freed cluster reusable only after durable")
  void allocateAndDiscardOnOnePage() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 32 * MIB, CLUSTER);
    PloopDisk d = PloopDisk.open(List.of(top), manual());
    d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 0);
    d.flush();
    long p0 = phys(d, 0);
    CyclicBarrier go = new CyclicBarrier(2);
    CompletableFuture<Void> a =
        CompletableFuture.runAsync(
            () -> {
              try {
                go.await();
                d.write(ByteBuffer.wrap(filled(CLUSTER, 2)), 5L * CLUSTER);
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    CompletableFuture<Void> b =
        CompletableFuture.runAsync(
            () -> {
              try {
                go.await();
                d.punchHole(0, CLUSTER);
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    a.get(10, TimeUnit.SECONDS);
    b.get(10, TimeUnit.SECONDS);
    assertThat(phys(d, 0)).isZero();
    assertThat(phys(d, 5)).isNotZero();
    assertThat(d.isClusterFree(p0)).as("not reusable before the zeroed entry is durable").isFalse();
    assertThat(d.page(0).test(MdPage.HIGHPRIO)).isTrue();
    assertThat(d.runWritebackCycle()).as("HIGHPRIO page written at once").isEqualTo(1);
    assertThat(d.isClusterFree(p0)).isTrue();
    assertThat(onDisk(top, 0)).isZero();
    assertThat(onDisk(top, 5)).isEqualTo(phys(d, 5));
    d.write(ByteBuffer.wrap(filled(100, 3)), 9L * CLUSTER);
    assertThat(phys(d, 9)).as("the hole is reused first").isEqualTo(p0);
    assertThat(d.stats().holesReused()).isEqualTo(1);
    d.close();
  }

  @Test
  @DisplayName("2: two writes to one new cluster allocate exactly one cluster")
  void twoWritesOneNewCluster() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 32 * MIB, CLUSTER);
    try (PloopDisk d = PloopDisk.open(List.of(top), manual())) {
      for (int round = 0; round < 20; round++) {
        long c = 3 + round;
        byte[] lo = filled(CLUSTER / 2, round);
        byte[] hi = filled(CLUSTER / 2, round + 100);
        CyclicBarrier go = new CyclicBarrier(2);
        CompletableFuture<Void> a =
            CompletableFuture.runAsync(
                () -> {
                  try {
                    go.await();
                    d.write(ByteBuffer.wrap(lo), c * CLUSTER);
                  } catch (Exception e) {
                    throw new RuntimeException(e);
                  }
                });
        go.await();
        d.write(ByteBuffer.wrap(hi), c * CLUSTER + CLUSTER / 2);
        a.get(10, TimeUnit.SECONDS);
        byte[] got = read(d, c * CLUSTER, CLUSTER);
        assertThat(Arrays.copyOfRange(got, 0, CLUSTER / 2)).isEqualTo(lo);
        assertThat(Arrays.copyOfRange(got, CLUSTER / 2, CLUSTER)).isEqualTo(hi);
      }
      assertThat(d.stats().clustersAllocated()).isEqualTo(20);
      d.flush();
      for (int round = 0; round < 20; round++) {
        assertThat(onDisk(top, 3 + round)).isEqualTo(phys(d, 3 + round));
      }
    }
  }

  @Test
  @DisplayName("3: update while the page is under writeback waits and goes into the next batch")
  void updateWhilePageUnderWriteback() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 32 * MIB, CLUSTER);
    long dataOffset = top.size();
    PloopDisk d = PloopDisk.open(List.of(top), manual().mdSubmitDelayMs(0));
    d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 0);
    CountDownLatch inWrite = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean block = new AtomicBoolean(true);
    top.setFault(
        (op, pos, len) -> {
          if (op.equals("write") && pos < dataOffset && block.getAndSet(false)) {
            inWrite.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              throw new IOException(e);
            }
          }
          return null;
        });
    CompletableFuture<Integer> cycle =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return d.runWritebackCycle();
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    assertThat(inWrite.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(d.page(0).test(MdPage.WRITEBACK)).isTrue();
    CompletableFuture<Void> w =
        CompletableFuture.runAsync(
            () -> {
              try {
                d.write(ByteBuffer.wrap(filled(CLUSTER, 2)), 1L * CLUSTER);
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    Thread.sleep(200);
    assertThat(w).as("staging waits while the page is under writeback").isNotDone();
    release.countDown();
    assertThat(cycle.get(5, TimeUnit.SECONDS)).isEqualTo(1);
    w.get(5, TimeUnit.SECONDS);
    assertThat(onDisk(top, 0)).isEqualTo(phys(d, 0));
    assertThat(onDisk(top, 1)).as("not in the batch that was in flight").isZero();
    assertThat(d.page(0).test(MdPage.DIRTY)).isTrue();
    assertThat(d.runWritebackCycle()).isEqualTo(1);
    assertThat(onDisk(top, 1)).isEqualTo(phys(d, 1));
    assertThat(read(d, CLUSTER, CLUSTER)).isEqualTo(filled(CLUSTER, 2));
    d.close();
  }

  @Test
  @DisplayName("4: BAT write failure surfaces at flush, nothing is lost, page not stuck")
  void batWriteFailure() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 32 * MIB, CLUSTER);
    long dataOffset = top.size();
    PloopDisk d = PloopDisk.open(List.of(top), manual());
    d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 0);
    d.flush();
    long p0 = phys(d, 0);
    AtomicBoolean fail = new AtomicBoolean(true);
    top.setFault(
        (op, pos, len) ->
            op.equals("write") && pos < dataOffset && fail.get()
                ? new IOException("injected BAT write error")
                : null);
    d.write(ByteBuffer.wrap(filled(CLUSTER, 2)), 7L * CLUSTER);
    d.punchHole(0, CLUSTER);
    assertThatThrownBy(d::flush).isInstanceOf(IOException.class).hasMessageContaining("injected");
    MdPage pg = d.page(0);
    assertThat(pg.test(MdPage.WRITEBACK) || pg.test(MdPage.UPDATING)).isFalse();
    assertThat(pg.test(MdPage.DIRTY)).isTrue();
    assertThat(d.isClusterFree(p0)).as("no free before the zeroed entry is durable").isFalse();
    assertThat(read(d, 7L * CLUSTER, CLUSTER)).isEqualTo(filled(CLUSTER, 2));
    d.write(ByteBuffer.wrap(filled(CLUSTER, 3)), 8L * CLUSTER); // page still usable
    fail.set(false);
    d.flush();
    assertThat(d.isClusterFree(p0)).isTrue();
    d.close();
    try (PloopDisk r = PloopDisk.open(List.of(top), manual().readOnly(true))) {
      assertThat(read(r, 7L * CLUSTER, CLUSTER)).isEqualTo(filled(CLUSTER, 2));
      assertThat(read(r, 8L * CLUSTER, CLUSTER)).isEqualTo(filled(CLUSTER, 3));
      assertThat(read(r, 0, CLUSTER)).isEqualTo(new byte[CLUSTER]);
    }
  }

  @Test
  @DisplayName("4b: a background writeback error is reported by the next flush")
  void backgroundWritebackErrorReportedByFlush() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 32 * MIB, CLUSTER);
    long dataOffset = top.size();
    AtomicInteger failures = new AtomicInteger();
    top.setFault(
        (op, pos, len) ->
            op.equals("write")
                    && pos < dataOffset
                    && len == 4096
                    && failures.get() == 0
                    && failures.incrementAndGet() == 1
                ? new IOException("injected BAT write error")
                : null);
    PloopDisk d = PloopDisk.open(List.of(top), EngineOptions.defaults().mdSubmitDelayMs(0));
    d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 0);
    long until = System.nanoTime() + 5_000 * MS;
    while (failures.get() == 0 && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    assertThat(failures).hasValue(1);
    assertThatThrownBy(d::flush).hasMessageContaining("injected");
    d.flush();
    d.close();
    try (PloopDisk r = PloopDisk.open(List.of(top), manual().readOnly(true))) {
      assertThat(read(r, 0, CLUSTER)).isEqualTo(filled(CLUSTER, 1));
    }
  }

  @Test
  @DisplayName("5: a staging failure breaks off only its own change (break_bat_update)")
  void stagingFailureBreaksOnlyOwnChange() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 32 * MIB, CLUSTER);
    try (PloopDisk d = PloopDisk.open(List.of(top), manual())) {
      d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 0);
      MdPage pg = d.page(0);
      MdPage.Update u = pg.beginUpdate();
      u.set(org.jploop.format.BatLayout.slotOf(0), 0, 0);
      u.set(org.jploop.format.BatLayout.slotOf(1), 77, 0);
      u.abort();
      assertThat(phys(d, 0)).as("the earlier staged mapping survives").isNotZero();
      assertThat(phys(d, 1)).isZero();
      assertThat(pg.test(MdPage.DIRTY)).isTrue();
      assertThat(pg.test(MdPage.UPDATING)).isFalse();
      d.flush();
      assertThat(onDisk(top, 0)).isEqualTo(phys(d, 0));
      assertThat(onDisk(top, 1)).isZero();
    }
  }

  @Test
  @DisplayName("6: crash before the BAT is durable: cluster reads as before, orphan harmless")
  void crashBeforeBatDurable() throws Exception {
    MemoryBlockFile base = TestImages.empty("base.hds", 8 * MIB, CLUSTER);
    try (PloopDisk d = PloopDisk.open(List.of(base), manual())) {
      d.write(ByteBuffer.wrap(filled(CLUSTER, 9)), 2L * CLUSTER);
    }
    CrashingBlockFile top = new CrashingBlockFile(TestImages.empty("t.hds", 8 * MIB, CLUSTER));
    PloopDisk d = PloopDisk.open(List.of(base.copy(true), top), manual());
    d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 0);
    d.write(ByteBuffer.wrap(filled(100, 2)), 2L * CLUSTER + 5); // COW
    MemoryBlockFile crashed = top.durableCopy();
    try (PloopDisk r =
        PloopDisk.open(List.of(base.copy(true), crashed), manual().allowDirty(true))) {
      assertThat(read(r, 0, CLUSTER)).isEqualTo(new byte[CLUSTER]);
      assertThat(read(r, 2L * CLUSTER, CLUSTER))
          .as("lower data, as before the write")
          .isEqualTo(filled(CLUSTER, 9));
      r.write(ByteBuffer.wrap(filled(CLUSTER, 3)), 0);
      assertThat(read(r, 0, CLUSTER)).isEqualTo(filled(CLUSTER, 3));
    }
    d.close();
  }

  @Test
  @DisplayName("7: a reused hole never shows stale data, at any crash point of its reuse")
  void reusedHoleNeverShowsStaleData() throws Exception {
    CrashingBlockFile top = new CrashingBlockFile(TestImages.empty("t.hds", 8 * MIB, CLUSTER));
    PloopDisk d = PloopDisk.open(List.of(top), manual());
    d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 0);
    d.flush();
    long p0 = phys(d, 0);
    d.punchHole(0, CLUSTER);
    d.flush();
    byte[] part = filled(512, 2);
    d.write(ByteBuffer.wrap(part), 3L * CLUSTER);
    assertThat(phys(d, 3)).isEqualTo(p0);
    Random r = new Random(7);
    List<MemoryBlockFile> crashes = new ArrayList<>();
    top.setFault(
        (op, pos, len) -> {
          if (op.equals("write") && pos < 4096) {
            for (int i = 0; i < 20; i++) {
              crashes.add(top.crash(r));
            }
          }
          return null;
        });
    d.flush();
    for (int i = 0; i < 20; i++) {
      crashes.add(top.crash(r));
    }
    top.setFault(null);
    byte[] expect = new byte[CLUSTER];
    System.arraycopy(part, 0, expect, 0, 512);
    for (MemoryBlockFile img : crashes) {
      try (PloopDisk v = PloopDisk.open(List.of(img), manual().allowDirty(true).readOnly(true))) {
        byte[] got = read(v, 3L * CLUSTER, CLUSTER);
        assertThat(Arrays.equals(got, expect) || Arrays.equals(got, new byte[CLUSTER]))
            .as("cluster 3 is either unmapped or the new data, never cluster 0's old data")
            .isTrue();
        assertThat(read(v, 0, CLUSTER)).isEqualTo(new byte[CLUSTER]);
      }
    }
    d.close();
  }

  @Test
  @DisplayName("8: a read racing an allocating write sees old or new content, never partial")
  void readRacingAllocatingWrite() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 8 * MIB, CLUSTER);
    long dataOffset = top.size();
    top.setFault(
        (op, pos, len) -> {
          if (op.equals("write") && pos >= dataOffset) {
            try {
              Thread.sleep(20);
            } catch (InterruptedException e) {
              throw new IOException(e);
            }
          }
          return null;
        });
    try (PloopDisk d = PloopDisk.open(List.of(top), manual())) {
      for (int c = 0; c < 5; c++) {
        byte[] data = filled(CLUSTER, c + 10);
        long off = (long) c * CLUSTER;
        CompletableFuture<Void> w =
            CompletableFuture.runAsync(
                () -> {
                  try {
                    d.write(ByteBuffer.wrap(data), off);
                  } catch (IOException e) {
                    throw new RuntimeException(e);
                  }
                });
        while (!w.isDone()) {
          byte[] got = read(d, off, CLUSTER);
          assertThat(Arrays.equals(got, data) || Arrays.equals(got, new byte[CLUSTER])).isTrue();
        }
        w.get();
        assertThat(read(d, off, CLUSTER)).isEqualTo(data);
      }
    }
  }

  @Test
  @DisplayName("9: zero writes to unmapped clusters allocate nothing")
  void zeroWritesAllocateNothing() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 8 * MIB, CLUSTER);
    long len = top.size();
    try (PloopDisk d = PloopDisk.open(List.of(top), manual())) {
      d.write(ByteBuffer.allocate(3 * CLUSTER), 100);
      d.flush();
      assertThat(d.stats().clustersAllocated()).isZero();
      assertThat(top.size()).isEqualTo(len);
      assertThat(d.page(0).test(MdPage.DIRTY)).isFalse();
    }
    assertThat(top.size()).isEqualTo(len);
  }

  @Test
  @DisplayName("10: discard edge cases: partial, lower-only, multi-delta keeps mapping")
  void discardEdgeCases() throws Exception {
    MemoryBlockFile base = TestImages.empty("base.hds", 8 * MIB, CLUSTER);
    try (PloopDisk d = PloopDisk.open(List.of(base), manual())) {
      d.write(ByteBuffer.wrap(filled(4 * CLUSTER, 1)), 0);
    }
    MemoryBlockFile top = TestImages.empty("t.hds", 8 * MIB, CLUSTER);
    try (PloopDisk d = PloopDisk.open(List.of(base.copy(true), top), manual())) {
      d.write(ByteBuffer.wrap(filled(CLUSTER, 2)), 0); // COW: top owns 0
      long p0 = phys(d, 0);
      d.punchHole(0, CLUSTER);
      assertThat(phys(d, 0)).as("multi-delta: mapping kept").isEqualTo(p0);
      assertThat(read(d, 0, CLUSTER)).as("zeros, not lower data").isEqualTo(new byte[CLUSTER]);
      d.punchHole(CLUSTER, CLUSTER); // lower-only, whole
      assertThat(read(d, CLUSTER, CLUSTER)).isEqualTo(new byte[CLUSTER]);
      assertThat(d.mapping(1) >>> 32).as("fresh empty top cluster mapped").isEqualTo(1);
      d.zeroRange(2L * CLUSTER + 100, 1000); // lower-only, partial: COW + zero
      byte[] want = filled(4 * CLUSTER, 1);
      Arrays.fill(want, 2 * CLUSTER + 100, 2 * CLUSTER + 1100, (byte) 0);
      assertThat(read(d, 2L * CLUSTER, CLUSTER))
          .isEqualTo(Arrays.copyOfRange(want, 2 * CLUSTER, 3 * CLUSTER));
      d.punchHole(5L * CLUSTER + 10, 10); // unmapped partial: nothing
      assertThat(phys(d, 5)).isZero();
      d.flush();
    }
    try (PloopDisk r = PloopDisk.open(List.of(base.copy(true), top), manual().readOnly(true))) {
      assertThat(read(r, 0, 2 * CLUSTER)).isEqualTo(new byte[2 * CLUSTER]);
      assertThat(read(r, 3L * CLUSTER, CLUSTER))
          .isEqualTo(Arrays.copyOfRange(filled(4 * CLUSTER, 1), 3 * CLUSTER, 4 * CLUSTER));
    }
    MemoryBlockFile single = TestImages.empty("s.hds", 8 * MIB, CLUSTER);
    try (PloopDisk d = PloopDisk.open(List.of(single), manual())) {
      d.write(ByteBuffer.wrap(filled(CLUSTER, 4)), 0);
      d.punchHole(10, 20); // partial, top-owned: sub-range punched, mapping stays
      byte[] want = filled(CLUSTER, 4);
      Arrays.fill(want, 10, 30, (byte) 0);
      assertThat(read(d, 0, CLUSTER)).isEqualTo(want);
      assertThat(phys(d, 0)).isNotZero();
      assertThat(d.stats().clustersFreed()).isZero();
    }
  }

  @Test
  @DisplayName("11: discard racing writes to the same cluster loses no write")
  void discardRacingWrite() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 8 * MIB, CLUSTER);
    try (PloopDisk d = PloopDisk.open(List.of(top), EngineOptions.defaults().mdSubmitDelayMs(0))) {
      CompletableFuture<Void> puncher =
          CompletableFuture.runAsync(
              () -> {
                try {
                  for (int i = 0; i < 200; i++) {
                    d.punchHole(0, CLUSTER);
                  }
                } catch (IOException e) {
                  throw new RuntimeException(e);
                }
              });
      for (int i = 0; i < 200; i++) {
        d.write(ByteBuffer.wrap(filled(CLUSTER, i)), 0);
        byte[] got = read(d, 0, CLUSTER);
        assertThat(Arrays.equals(got, filled(CLUSTER, i)) || Arrays.equals(got, new byte[CLUSTER]))
            .isTrue();
      }
      puncher.get(30, TimeUnit.SECONDS);
      d.write(ByteBuffer.wrap(filled(CLUSTER, 999)), 0);
      d.write(ByteBuffer.wrap(filled(CLUSTER, 998)), CLUSTER);
      d.flush();
      assertThat(read(d, 0, CLUSTER)).isEqualTo(filled(CLUSTER, 999));
    }
    try (PloopDisk r = PloopDisk.open(List.of(top), manual().readOnly(true))) {
      assertThat(read(r, 0, CLUSTER)).isEqualTo(filled(CLUSTER, 999));
      assertThat(read(r, CLUSTER, CLUSTER)).isEqualTo(filled(CLUSTER, 998));
    }
  }

  @Test
  @DisplayName("12: COW under concurrency copies exactly once and never writes the lower delta")
  void cowUnderConcurrency() throws Exception {
    MemoryBlockFile base = TestImages.empty("base.hds", 8 * MIB, CLUSTER);
    try (PloopDisk d = PloopDisk.open(List.of(base), manual())) {
      d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 4L * CLUSTER);
    }
    MemoryBlockFile lower = base.copy(true); // read-only: any write would throw
    MemoryBlockFile top = TestImages.empty("t.hds", 8 * MIB, CLUSTER);
    try (PloopDisk d = PloopDisk.open(List.of(lower, top), manual())) {
      int n = 8;
      CyclicBarrier go = new CyclicBarrier(n);
      List<CompletableFuture<Void>> fs = new ArrayList<>();
      for (int t = 0; t < n; t++) {
        int tt = t;
        fs.add(
            CompletableFuture.runAsync(
                () -> {
                  try {
                    go.await();
                    d.write(ByteBuffer.wrap(filled(1024, 50 + tt)), 4L * CLUSTER + tt * 4096L);
                  } catch (Exception e) {
                    throw new RuntimeException(e);
                  }
                }));
      }
      for (CompletableFuture<Void> f : fs) {
        f.get(10, TimeUnit.SECONDS);
      }
      assertThat(d.stats().cowCopies()).isEqualTo(1);
      assertThat(d.stats().clustersAllocated()).isEqualTo(1);
      byte[] want = filled(CLUSTER, 1);
      for (int t = 0; t < n; t++) {
        System.arraycopy(filled(1024, 50 + t), 0, want, t * 4096, 1024);
      }
      assertThat(read(d, 4L * CLUSTER, CLUSTER)).isEqualTo(want);
      assertThat(lower.writes.get()).isZero();
    }
  }

  @Test
  @DisplayName("13: ENOSPC parks the write, raises the event (never lost), retries and succeeds")
  void enospcDelayRetryEventNotLost() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 8 * MIB, CLUSTER);
    long dataOffset = top.size();
    AtomicBoolean full = new AtomicBoolean(true);
    top.setFault(
        (op, pos, len) ->
            op.equals("write") && pos >= dataOffset && full.get()
                ? new NoSpaceException(top.path(), op, pos, len)
                : null);
    try (PloopDisk d =
        PloopDisk.open(List.of(top), manual().enospcRetryMs(20).enospcTimeoutMs(20_000))) {
      assertThat(d.takeEnospcEvent()).isFalse();
      CompletableFuture<Void> w =
          CompletableFuture.runAsync(
              () -> {
                try {
                  d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 0);
                } catch (IOException e) {
                  throw new RuntimeException(e);
                }
              });
      waitFor(() -> d.stats().parkedWrites() == 1);
      assertThat(d.takeEnospcEvent()).isTrue();
      // retried and failed again after the event was taken (on a loaded machine several retries
      // may have failed before the take, so count from the take, not from the start)
      long taken = d.stats().enospcEvents();
      waitFor(() -> d.stats().enospcEvents() > taken);
      // the retry counts its ENOSPC just before it raises the event: poll the event, which an
      // ENOSPC after the take must raise again (10 s, else "condition not reached")
      waitFor(d::takeEnospcEvent);
      assertThat(w).isNotDone();
      full.set(false);
      w.get(10, TimeUnit.SECONDS);
      assertThat(read(d, 0, CLUSTER)).isEqualTo(filled(CLUSTER, 1));
      assertThat(d.stats().parkedWrites()).isZero();
      assertThat(d.isClusterFree(phys(d, 0))).isFalse();
      assertThat(d.stats().clustersAllocated())
          .as("failed attempts returned their cluster")
          .isGreaterThanOrEqualTo(1);
      d.flush();
    }
  }

  @Test
  @DisplayName("13b: a punch wakes parked writes early; timeout 0 fails at once")
  void enospcEarlyRetryAndTimeout() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 8 * MIB, CLUSTER);
    long dataOffset = top.size();
    AtomicBoolean full = new AtomicBoolean(false);
    top.setFault(
        (op, pos, len) ->
            op.equals("write") && pos >= dataOffset && full.get()
                ? new NoSpaceException(top.path(), op, pos, len)
                : null);
    try (PloopDisk d =
        PloopDisk.open(List.of(top), manual().enospcRetryMs(60_000).enospcTimeoutMs(120_000))) {
      d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 0);
      full.set(true);
      long t0 = System.nanoTime();
      CompletableFuture<Void> w =
          CompletableFuture.runAsync(
              () -> {
                try {
                  d.write(ByteBuffer.wrap(filled(CLUSTER, 2)), 3L * CLUSTER);
                } catch (IOException e) {
                  throw new RuntimeException(e);
                }
              });
      waitFor(() -> d.stats().parkedWrites() == 1);
      full.set(false);
      d.punchHole(0, CLUSTER);
      w.get(10, TimeUnit.SECONDS);
      assertThat(System.nanoTime() - t0).isLessThan(10_000 * MS);
    }
    try (PloopDisk d = PloopDisk.open(List.of(top), manual().enospcTimeoutMs(0))) {
      full.set(true);
      assertThatThrownBy(() -> d.write(ByteBuffer.wrap(filled(CLUSTER, 3)), 5L * CLUSTER))
          .isInstanceOf(NoSpaceException.class);
      assertThat(d.takeEnospcEvent()).isFalse();
      full.set(false);
    }
  }

  @Test
  @DisplayName("14: ENOSPC then close: parked writes fail, close does not hang")
  void enospcThenCloseFailsParkedWrites() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 8 * MIB, CLUSTER);
    long dataOffset = top.size();
    top.setFault(
        (op, pos, len) ->
            op.equals("write") && pos >= dataOffset
                ? new NoSpaceException(top.path(), op, pos, len)
                : null);
    PloopDisk d = PloopDisk.open(List.of(top), manual().enospcRetryMs(60_000));
    CompletableFuture<Void> w =
        CompletableFuture.runAsync(
            () -> {
              try {
                d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 0);
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    waitFor(() -> d.stats().parkedWrites() == 1);
    long t0 = System.nanoTime();
    d.close();
    assertThat(System.nanoTime() - t0).isLessThan(5_000 * MS);
    assertThatThrownBy(() -> w.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(RuntimeException.class)
        .hasRootCauseInstanceOf(NoSpaceException.class);
    top.setFault(null);
    try (PloopDisk r = PloopDisk.open(List.of(top), manual().readOnly(true))) {
      assertThat(read(r, 0, CLUSTER)).isEqualTo(new byte[CLUSTER]);
    }
  }

  @Test
  @DisplayName("16: split requests: both parts handled, an error in one fails the request")
  void splitRequests() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 8 * MIB, CLUSTER);
    long dataOffset = top.size();
    try (PloopDisk d = PloopDisk.open(List.of(top), manual())) {
      d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 0);
      byte[] span = filled(CLUSTER, 2);
      d.write(ByteBuffer.wrap(span), CLUSTER / 2); // half mapped, half new
      byte[] want = filled(2 * CLUSTER, 0);
      System.arraycopy(filled(CLUSTER, 1), 0, want, 0, CLUSTER);
      System.arraycopy(span, 0, want, CLUSTER / 2, CLUSTER);
      Arrays.fill(want, CLUSTER / 2 + CLUSTER, 2 * CLUSTER, (byte) 0);
      assertThat(read(d, 0, 2 * CLUSTER)).isEqualTo(want);
      top.setFault(
          (op, pos, len) ->
              op.equals("write") && pos >= dataOffset + 2L * CLUSTER
                  ? new IOException("injected data write error")
                  : null);
      ByteBuffer src = ByteBuffer.wrap(filled(CLUSTER, 3));
      assertThatThrownBy(() -> d.write(src, CLUSTER + CLUSTER / 2))
          .hasMessageContaining("injected");
      top.setFault(null);
      assertThat(d.stats().clustersAllocated())
          .as("third one handed out, then returned")
          .isEqualTo(3);
      assertThat(phys(d, 2)).isZero();
      assertThat(d.isClusterFree(phys(d, 1) + 1)).as("failed allocation returned").isTrue();
    }
  }

  @Test
  @DisplayName("17: per-page delayed writeback: deadline, re-dirty extends, independent pages, cap")
  void perPageDelayedWriteback() throws Exception {
    // 2048 clusters -> 3 md pages
    MemoryBlockFile top = TestImages.empty("t.hds", 2048L * CLUSTER, CLUSTER);
    PloopDisk d = PloopDisk.open(List.of(top), manual());
    long t0 = clock.get();
    d.write(ByteBuffer.wrap(filled(512, 1)), 0); // page 0 dirtied at t0
    clock.set(t0 + 999 * MS);
    assertThat(d.runWritebackCycle()).isZero();
    clock.set(t0 + 1000 * MS);
    assertThat(d.runWritebackCycle()).as("written at t0 + delay").isEqualTo(1);
    assertThat(onDisk(top, 0)).isNotZero();

    long t1 = clock.get();
    d.write(ByteBuffer.wrap(filled(512, 2)), CLUSTER); // page 0 again
    clock.set(t1 + 500 * MS);
    d.write(ByteBuffer.wrap(filled(512, 3)), 2L * CLUSTER); // re-dirty: extends
    clock.set(t1 + 800 * MS);
    d.write(ByteBuffer.wrap(filled(512, 4)), 1500L * CLUSTER); // page 1 dirtied later
    clock.set(t1 + 1000 * MS);
    assertThat(d.runWritebackCycle()).as("deadline was extended").isZero();
    clock.set(t1 + 1500 * MS);
    assertThat(d.runWritebackCycle()).as("page 0 only; page 1 has its own timer").isEqualTo(1);
    assertThat(onDisk(top, 1500)).isZero();
    clock.set(t1 + 1800 * MS);
    assertThat(d.runWritebackCycle()).isEqualTo(1);
    assertThat(onDisk(top, 1500)).isNotZero();

    long t2 = clock.get();
    for (long t = 0; t <= 11_000; t += 500) {
      clock.set(t2 + t * MS);
      d.write(ByteBuffer.wrap(filled(512, 5)), 3L * CLUSTER); // hot page
      if (d.runWritebackCycle() == 1) {
        assertThat(t).as("capped at mdMaxDelay").isLessThanOrEqualTo(10_000);
        break;
      }
      assertThat(t).isLessThan(10_000);
    }

    long before = d.stats().mdPageWrites();
    d.write(ByteBuffer.wrap(filled(512, 6)), 4L * CLUSTER);
    d.write(ByteBuffer.wrap(filled(512, 7)), 1600L * CLUSTER);
    d.flush();
    assertThat(d.stats().mdPageWrites() - before).as("flush forces every dirty page").isEqualTo(2);

    d.punchHole(0, CLUSTER);
    assertThat(d.runWritebackCycle()).as("HIGHPRIO ignores the delay").isEqualTo(1);
    d.close();
  }

  @Test
  @DisplayName("18: flush makes acknowledged writes and their BAT pages durable")
  void flushDurability() throws Exception {
    CrashingBlockFile top = new CrashingBlockFile(TestImages.empty("t.hds", 8 * MIB, CLUSTER));
    PloopDisk d = PloopDisk.open(List.of(top), manual());
    for (int c = 0; c < 20; c++) {
      d.write(ByteBuffer.wrap(filled(CLUSTER / 2, c)), (long) c * CLUSTER + 1000);
    }
    d.punchHole(3L * CLUSTER, CLUSTER);
    d.flush();
    assertThat(top.unsyncedOps()).isZero();
    try (PloopDisk r =
        PloopDisk.open(List.of(top.durableCopy()), manual().allowDirty(true).readOnly(true))) {
      for (int c = 0; c < 20; c++) {
        byte[] want = new byte[CLUSTER];
        if (c != 3) {
          System.arraycopy(filled(CLUSTER / 2, c), 0, want, 1000, CLUSTER / 2);
        }
        assertThat(read(r, (long) c * CLUSTER, CLUSTER)).isEqualTo(want);
      }
    }
    d.close();
  }

  @Test
  @DisplayName(
      "20: preallocation failure: ENOSPC path, or EIO; file_size not advanced; retry works")
  void preallocationFailure() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 8 * MIB, CLUSTER);
    long len = top.size();
    AtomicBoolean nospc = new AtomicBoolean(true);
    AtomicBoolean eio = new AtomicBoolean(false);
    top.setFault(
        (op, pos, l) -> {
          if (op.equals("truncate") && nospc.get()) {
            return new NoSpaceException(top.path(), op, pos, l);
          }
          return op.equals("truncate") && eio.get() ? new IOException("injected EIO") : null;
        });
    try (PloopDisk d =
        PloopDisk.open(
            List.of(top), EngineOptions.defaults().enospcRetryMs(20).preallocSize(MIB))) {
      CompletableFuture<Void> w =
          CompletableFuture.runAsync(
              () -> {
                try {
                  d.write(ByteBuffer.wrap(filled(CLUSTER, 1)), 0);
                } catch (IOException e) {
                  throw new RuntimeException(e);
                }
              });
      waitFor(() -> d.stats().parkedWrites() == 1);
      assertThat(d.stats().fileSize()).isEqualTo(len);
      assertThat(d.takeEnospcEvent()).isTrue();
      nospc.set(false);
      w.get(10, TimeUnit.SECONDS);
      assertThat(d.stats().fileSize()).isEqualTo(len + MIB);
      eio.set(true);
      for (int c = 1; c < 16; c++) {
        d.write(ByteBuffer.wrap(filled(CLUSTER, c)), (long) c * CLUSTER);
      }
      long fs = d.stats().fileSize();
      assertThatThrownBy(() -> d.write(ByteBuffer.wrap(filled(CLUSTER, 99)), 16L * CLUSTER))
          .isInstanceOf(IOException.class)
          .isNotInstanceOf(NoSpaceException.class);
      assertThat(d.stats().fileSize()).isEqualTo(fs);
      eio.set(false);
      d.write(ByteBuffer.wrap(filled(CLUSTER, 99)), 16L * CLUSTER);
      assertThat(read(d, 16L * CLUSTER, CLUSTER)).isEqualTo(filled(CLUSTER, 99));
    }
  }

  @Test
  @DisplayName("24: out-of-range I/O is refused with EOFException and the engine goes on")
  void outOfRangeIo() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 8 * MIB, CLUSTER);
    try (PloopDisk d = PloopDisk.open(List.of(top), manual())) {
      long size = d.size();
      assertThat(size).isEqualTo(8 * MIB);
      assertThatThrownBy(() -> d.read(ByteBuffer.allocate(2), size - 1))
          .isInstanceOf(EOFException.class);
      assertThatThrownBy(() -> d.write(ByteBuffer.allocate(1), size))
          .isInstanceOf(EOFException.class);
      assertThatThrownBy(() -> d.punchHole(-1, 1)).isInstanceOf(EOFException.class);
      assertThatThrownBy(() -> d.zeroRange(0, Long.MAX_VALUE)).isInstanceOf(EOFException.class);
      d.write(ByteBuffer.wrap(new byte[] {1}), size - 1);
      assertThat(read(d, size - 1, 1)).containsExactly(1);
      assertThat(d.stats().clustersAllocated()).isEqualTo(1);
    }
  }

  static void waitFor(java.util.function.BooleanSupplier cond) throws InterruptedException {
    long until = System.nanoTime() + 10_000 * MS;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > until) {
        throw new AssertionError("condition not reached in 10 s");
      }
      Thread.sleep(2);
    }
  }

  @Test
  @DisplayName("15. short I/O from the backing file: the engine completes every piece")
  void shortIoIsCompleted(@TempDir Path dir) throws Exception {
    long seed = 15L;
    Path img = dir.resolve("root.hds");
    java.nio.file.Files.createFile(img);
    try (FileBlockFile f = FileBlockFile.open(img, false)) {
      TestImages.format(
          f, org.jploop.format.FormatVersion.V2, TestImages.geometry(16 * MIB, CLUSTER));
    }
    Random r = new Random(seed);
    byte[] model = new byte[(int) (16 * MIB)];
    ShortIoChannel ch =
        new ShortIoChannel(
            FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE),
            new Random(seed));
    try (PloopDisk d = PloopDisk.open(List.of(FileBlockFile.over(img, false, ch)), manual())) {
      for (int i = 0; i < 300; i++) {
        int len = 1 + r.nextInt(3 * CLUSTER);
        int off = r.nextInt(model.length - len);
        if (r.nextInt(5) == 0) {
          d.punchHole(off, len);
          d.read(ByteBuffer.allocate(1), off); // a read between, through short reads too
          Arrays.fill(model, off, off + len, (byte) 0);
        } else {
          byte[] data = filled(len, r.nextInt());
          d.write(ByteBuffer.wrap(data), off);
          System.arraycopy(data, 0, model, off, len);
        }
        if (r.nextInt(20) == 0) {
          d.flush();
        }
      }
      assertThat(read(d, 0, model.length))
          .as("seed %d: read through short I/O", seed)
          .isEqualTo(model);
    }
    assertThat(ch.shortCalls()).as("the channel really cut requests").isGreaterThan(100);
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), manual())) {
      assertThat(read(d, 0, model.length))
          .as("seed %d: reopened without short I/O", seed)
          .isEqualTo(model);
    }
  }
}
