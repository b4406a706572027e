package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.BitSet;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.jploop.format.DirtyBitmap;
import org.junit.jupiter.api.Test;

class ChangedBlockTrackerTest {
  static final UUID ID = UUID.fromString("11111111-2222-3333-4444-555555555555");
  static final long G = 65536;

  @Test
  void testMark_granulesTouched() {
    ChangedBlockTracker t = new ChangedBlockTracker(ID, 100 * G, G);
    t.mark(0, 1);
    t.mark(G - 1, 2); // straddles granules 0 and 1
    t.mark(10 * G, G); // exactly granule 10
    t.mark(63 * G + 5, 2 * G); // 63, 64, 65: across a word boundary
    t.mark(99 * G, 5 * G); // clipped at the end of the disk
    t.mark(50 * G, 0); // empty: nothing
    t.mark(-5, 10);
    t.mark(100 * G, 10);
    DirtyBitmap b = t.snapshot();
    BitSet want = new BitSet();
    want.set(0, 2);
    want.set(10);
    want.set(63, 66);
    want.set(99);
    assertThat(bits(b)).isEqualTo(want);
    assertThat(b.id()).isEqualTo(ID);
    assertThat(b.granularitySectors()).isEqualTo(128);
    assertThat(b.sizeSectors()).isEqualTo(100 * G / 512);
    assertThat(t.isDirty(64)).isTrue();
    assertThat(t.isDirty(66)).isFalse();
  }

  @Test
  void testTakeAndClear_thenClean() {
    ChangedBlockTracker t = new ChangedBlockTracker(null, 10_000 * G, G);
    t.mark(5000 * G, 3 * G);
    assertThat(t.takeAndClear().cardinality()).isEqualTo(3);
    assertThat(t.snapshot().cardinality()).isZero();
    t.mark(0, 1);
    assertThat(t.takeAndClear().nextSetBit(0)).isZero();
  }

  @Test
  void testSetAndOf_roundTrip() {
    DirtyBitmap b = new DirtyBitmap.Builder(ID, 777 * 128, 128).set(3).set(776).build();
    ChangedBlockTracker t = ChangedBlockTracker.of(b);
    assertThat(t.snapshot()).isEqualTo(b);
    t.rename(UUID.fromString("00000000-0000-0000-0000-000000000001"));
    assertThat(t.snapshot().id()).isNotEqualTo(ID);
    assertThatThrownBy(() -> t.set(DirtyBitmap.empty(ID, 128, 128)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void testBadGranularity_refused() {
    assertThatThrownBy(() -> new ChangedBlockTracker(ID, 1 << 20, 1000))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ChangedBlockTracker(ID, 1 << 20, 256))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * Writers mark while a sender takes and clears: the union of all takes is exactly the union of
   * what was marked (nothing lost, nothing invented), and a granule marked once is taken once.
   */
  @Test
  void testConcurrentMarkAndTake_nothingLost() throws Exception {
    long seed = Long.getLong("jploop.seed", 0xCB7L);
    int granules = 4096;
    ChangedBlockTracker t = new ChangedBlockTracker(null, granules * G, G);
    int writers = 3;
    BitSet[] marked = new BitSet[writers];
    CountDownLatch done = new CountDownLatch(writers);
    for (int w = 0; w < writers; w++) {
      BitSet mine = new BitSet();
      marked[w] = mine;
      Random rnd = new Random(seed + w);
      Thread th =
          new Thread(
              () -> {
                for (int i = 0; i < 200_000; i++) {
                  int g = rnd.nextInt(granules);
                  int n = 1 + rnd.nextInt(3);
                  t.mark(g * G, n * G);
                  mine.set(g, Math.min(granules, g + n));
                }
                done.countDown();
              },
              "cbt-test-writer-" + w);
      th.start();
    }
    BitSet union = new BitSet();
    long takes = 0;
    while (done.getCount() > 0) {
      union.or(bits(t.takeAndClear()));
      takes++;
    }
    done.await();
    union.or(bits(t.takeAndClear()));
    BitSet all = new BitSet();
    for (BitSet m : marked) {
      all.or(m);
    }
    assertThat(union).as("seed %d, %d takes", seed, takes).isEqualTo(all);

    // one mark per granule, taken concurrently: each granule appears in exactly one take
    ChangedBlockTracker once = new ChangedBlockTracker(null, granules * G, G);
    int[] seen = new int[granules];
    Thread writer =
        new Thread(
            () -> {
              for (int g = 0; g < granules; g++) {
                once.mark(g * G, 1);
              }
            },
            "cbt-test-once");
    writer.start();
    while (writer.isAlive()) {
      count(once.takeAndClear(), seen);
    }
    writer.join();
    count(once.takeAndClear(), seen);
    assertThat(seen).containsOnly(1);
  }

  static void count(DirtyBitmap b, int[] seen) {
    for (long i = b.nextSetBit(0); i >= 0; i = b.nextSetBit(i + 1)) {
      seen[(int) i]++;
    }
  }

  static BitSet bits(DirtyBitmap b) {
    BitSet s = new BitSet();
    for (long i = b.nextSetBit(0); i >= 0; i = b.nextSetBit(i + 1)) {
      s.set((int) i);
    }
    return s;
  }
}
