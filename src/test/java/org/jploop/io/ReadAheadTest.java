package org.jploop.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** ReadAhead: when a stream counts as sequential, which ranges it asks for, and resets. */
class ReadAheadTest {
  static final long SEED = 0x4EAD_A4EAL;
  static final long K = 1024;
  static final long M = 1024 * K;

  /** Records every hint as {pos, len}. */
  static final class Hints implements ReadAhead.Hint {
    final List<long[]> calls = new ArrayList<>();

    @Override
    public void willNeed(long pos, long len) {
      calls.add(new long[] {pos, len});
    }
  }

  @Test
  void sequentialStreamIsReadAheadByAWindowInFewCalls() {
    Hints h = new Hints();
    ReadAhead ra = new ReadAhead(h);
    long base = 5 * M;
    long pos = base;
    long covered = -1;
    for (int i = 0; i < 1024; i++) { // 128 MiB in 128 KiB requests, like FUSE
      ra.onRead(pos, 128 * K);
      pos += 128 * K;
      if (pos - base < ReadAhead.TRIGGER_BYTES) {
        assertThat(h.calls)
            .as("no hint before %d sequential bytes", ReadAhead.TRIGGER_BYTES)
            .isEmpty();
        continue;
      }
      long[] last = h.calls.get(h.calls.size() - 1);
      if (covered < 0) {
        assertThat(last[0]).as("the first hint starts where the reader is").isEqualTo(pos);
      } else if (last[0] + last[1] != covered) {
        assertThat(last[0]).as("hints follow each other without gap or overlap").isEqualTo(covered);
      }
      covered = last[0] + last[1];
      assertThat(covered - pos)
          .as("the reader is never closer than half a window to the end")
          .isGreaterThanOrEqualTo(ReadAhead.WINDOW_BYTES / 2)
          .isLessThanOrEqualTo(ReadAhead.WINDOW_BYTES);
    }
    int expected = (int) (128 * M / (ReadAhead.WINDOW_BYTES / 2));
    assertThat(h.calls.size())
        .as("one call per half window, about")
        .isBetween(expected - 1, expected + 2);
  }

  @Test
  void smallSequentialReadsTriggerAfterTheSameNumberOfBytes() {
    Hints h = new Hints();
    ReadAhead ra = new ReadAhead(h);
    long n = ReadAhead.TRIGGER_BYTES / (4 * K);
    for (long i = 0; i < n - 1; i++) {
      ra.onRead(i * 4 * K, 4 * K);
    }
    assertThat(h.calls).isEmpty();
    ra.onRead((n - 1) * 4 * K, 4 * K);
    assertThat(h.calls).hasSize(1);
    assertThat(h.calls.get(0)).containsExactly(n * 4 * K, ReadAhead.WINDOW_BYTES);
  }

  @Test
  void randomReadsNeverAskForAnything() {
    Random r = new Random(SEED);
    Hints h = new Hints();
    ReadAhead ra = new ReadAhead(h);
    long pos = 0;
    for (int i = 0; i < 100_000; i++) {
      long next;
      do {
        next = (r.nextInt(1 << 18)) * 4 * K;
      } while (next == pos);
      ra.onRead(next, 4 * K);
      pos = next + 4 * K;
    }
    assertThat(h.calls).as("seed %d", SEED).isEmpty();
  }

  @Test
  void aJumpStartsANewStreamThatMustEarnItsReadAheadAgain() {
    Hints h = new Hints();
    ReadAhead ra = new ReadAhead(h);
    for (long p = 0; p < M; p += 128 * K) {
      ra.onRead(p, 128 * K);
    }
    assertThat(h.calls).hasSize(1);
    long jump = 100 * M;
    ra.onRead(jump, 128 * K);
    assertThat(h.calls).as("one read after a jump is not a stream").hasSize(1);
    ra.onRead(jump + 128 * K, 128 * K);
    assertThat(h.calls).hasSize(2);
    assertThat(h.calls.get(1))
        .as("the new stream is read ahead from where it is, not from the old")
        .containsExactly(jump + 256 * K, ReadAhead.WINDOW_BYTES);
  }

  @Test
  void aFailingHintDoesNotFailTheRead() {
    int[] calls = {0};
    ReadAhead ra =
        new ReadAhead(
            (pos, len) -> {
              calls[0]++;
              throw new IOException("fadvise refused");
            });
    for (long p = 0; p < 64 * M; p += 128 * K) {
      ra.onRead(p, 128 * K);
    }
    assertThat(calls[0]).as("the detector keeps going after a failure").isGreaterThan(1);
  }
}
