package org.jploop.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** WriteBehind: which ranges of a sequential stream go to early writeback, and when. */
class WriteBehindTest {
  static final long SEED = 0x3417_EB1DL;
  static final long K = 1024;
  static final long M = 1024 * K;

  /** Records every hint as {pos, len}. */
  static final class Hints implements WriteBehind.Hint {
    final List<long[]> calls = new ArrayList<>();

    @Override
    public void startWriteback(long pos, long len) {
      calls.add(new long[] {pos, len});
    }
  }

  @Test
  void aSequentialStreamIsHandedOverInStepsWithoutGapsOrOverlap() {
    Hints h = new Hints();
    WriteBehind wb = new WriteBehind(h);
    long base = 7 * M + 4 * K;
    long pos = base;
    for (int i = 0; i < 1000; i++) { // 125 MiB in 128 KiB requests
      wb.onWrite(pos, 128 * K);
      pos += 128 * K;
    }
    long covered = base;
    for (long[] c : h.calls) {
      assertThat(c[0]).as("each range starts where the last ended").isEqualTo(covered);
      assertThat(c[1]).isEqualTo(WriteBehind.STEP_BYTES);
      covered += c[1];
    }
    assertThat(pos - covered)
        .as("at most one step is left to fsync and the kernel")
        .isLessThan(WriteBehind.STEP_BYTES);
  }

  @Test
  void writesCompletingOutOfOrderStillFormAStream() {
    Hints h = new Hints();
    WriteBehind wb = new WriteBehind(h);
    for (long p = 0; p < 64 * M; p += 2 * M) { // two 1 MiB requests in flight, second first
      wb.onWrite(p + M, M);
      wb.onWrite(p, M);
    }
    long total = 0;
    long covered = 0;
    for (long[] c : h.calls) {
      assertThat(c[0]).as("ranges follow each other").isEqualTo(covered);
      covered = c[0] + c[1];
      total += c[1];
    }
    assertThat(total).as("the whole stream went to writeback early").isEqualTo(64 * M);
  }

  @Test
  void randomWritesAreLeftToTheKernel() {
    Random r = new Random(SEED);
    Hints h = new Hints();
    WriteBehind wb = new WriteBehind(h);
    long next = -1;
    for (int i = 0; i < 100_000; i++) {
      long pos;
      do {
        pos = r.nextInt(1 << 18) * 4 * K;
      } while (pos == next);
      wb.onWrite(pos, 4 * K);
      next = pos + 4 * K;
    }
    assertThat(h.calls).as("seed %d", SEED).isEmpty();
  }

  @Test
  void aJumpStartsANewStream() {
    Hints h = new Hints();
    WriteBehind wb = new WriteBehind(h);
    wb.onWrite(0, WriteBehind.STEP_BYTES - 4 * K);
    wb.onWrite(50 * M, 4 * K);
    assertThat(h.calls).as("the bytes before the jump do not count for the new stream").isEmpty();
    wb.onWrite(50 * M + 4 * K, WriteBehind.STEP_BYTES - 4 * K);
    assertThat(h.calls).hasSize(1);
    assertThat(h.calls.get(0)).containsExactly(50 * M, WriteBehind.STEP_BYTES);
  }

  @Test
  void aFailingHintDoesNotFailTheWrite() {
    int[] calls = {0};
    WriteBehind wb =
        new WriteBehind(
            (pos, len) -> {
              calls[0]++;
              throw new IOException("sync_file_range refused");
            });
    for (long p = 0; p < 16 * M; p += 128 * K) {
      wb.onWrite(p, 128 * K);
    }
    assertThat(calls[0]).isEqualTo((int) (16 * M / WriteBehind.STEP_BYTES));
  }
}
