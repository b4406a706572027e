package org.jploop.bench;

import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.jploop.engine.ChangedBlockTracker;
import org.jploop.format.DirtyBitmap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH: what {@link ChangedBlockTracker#mark} adds to every completed write, punch and zero-range of
 * a disk with CBT (1 TiB disk, ploop's 64 KiB granules), next to {@code EngineBenchmark.overwrite}
 * for scale when run in the same invocation, e.g. {@code src/bench/jmh.sh -p backing=memory -p
 * ioSize=4096 -p tracking=off,cbt 'CbtMarkBenchmark|EngineBenchmark.overwrite'}.
 *
 * <ul>
 *   <li>{@code markDirty}: a 4 KiB write into a granule already dirty (the common case: a fence and
 *       a read);
 *   <li>{@code markClean}: a 4 KiB write into a clean granule each time (fence, read, atomic OR, a
 *       page allocation every 256 Ki granules);
 *   <li>{@code mark128k}: a 128 KiB write at a random place (two or three granules);
 *   <li>{@code takeAndClear}: a copy sender's take of a bitmap with 1% of the granules dirty.
 * </ul>
 *
 * <p>Offsets come from a {@link SplittableRandom} with a fixed seed. Not a unit test.
 */
@State(Scope.Thread)
@Fork(1)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@BenchmarkMode(Mode.AverageTime)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
public class CbtMarkBenchmark {
  private static final long DISK = 1L << 40;
  private static final long GRAN = 65536;
  private static final long SEED = 0xCB7L;

  private ChangedBlockTracker tracker;
  private ChangedBlockTracker sparse;
  private SplittableRandom random;
  private long next;

  @Setup(Level.Iteration)
  public void setUp() {
    tracker = new ChangedBlockTracker(UUID.nameUUIDFromBytes(new byte[] {1}), DISK, GRAN);
    tracker.mark(0, GRAN);
    sparse = new ChangedBlockTracker(null, DISK, GRAN);
    random = new SplittableRandom(SEED);
    next = GRAN;
  }

  @Benchmark
  public void markDirty() {
    tracker.mark(4096, 4096);
  }

  @Benchmark
  public void markClean() {
    tracker.mark(next, 4096);
    next += GRAN;
    if (next >= DISK) {
      next = GRAN;
    }
  }

  @Benchmark
  public void mark128k() {
    tracker.mark(random.nextLong(DISK / 4096 - 32) * 4096, 131072);
  }

  @Benchmark
  @Measurement(iterations = 5, time = 2)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public DirtyBitmap takeAndClear() {
    for (int i = 0; i < 167_772; i++) { // 1% of the 16 Mi granules
      sparse.mark(random.nextLong(DISK / GRAN) * GRAN, 1);
    }
    return sparse.takeAndClear();
  }
}
