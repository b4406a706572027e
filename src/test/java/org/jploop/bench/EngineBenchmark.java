package org.jploop.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.jploop.engine.DiskStats;
import org.jploop.engine.EngineOptions;
import org.jploop.engine.PloopDisk;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageWriter;
import org.jploop.testing.MemoryBlockFile;
import org.jploop.testing.TestImages;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * JMH benchmarks of the engine alone, no FUSE: one {@link PloopDisk} (v2, 1 MiB clusters, default
 * {@link EngineOptions}, so the writeback and preallocator threads run as in the daemon) over a
 * real image file or over the in-memory {@link MemoryBlockFile}. Four paths, each timed per request
 * of {@code ioSize} bytes:
 *
 * <ol>
 *   <li>{@code allocate}: a write to a fresh cluster (allocator, md page staging, data write);
 *   <li>{@code overwrite}: a write inside an allocated cluster (lookup, shared cluster lock);
 *   <li>{@code read}: a read of allocated data;
 *   <li>{@code punch}: a whole-cluster punch of an allocated cluster (exclusive lock, BAT update,
 *       free after writeback).
 * </ol>
 *
 * <p>{@code -p tracking=off,cbt,cbt+copy} runs each path without and with change tracking (CBT,
 * plus a copy sender's tracker), side by side, to show what marking costs a request.
 *
 * <p>allocate and punch change the state they measure, so they run as single shots of {@link
 * #BATCH} requests on a state rebuilt before every iteration; overwrite and read are timed
 * continuously on a disk whose first {@link #WORKING_SET} bytes are written. Offsets come from a
 * {@link SplittableRandom} with the fixed seed {@link #SEED}. The file backing lives in {@code
 * -Djploop.bench.dir} (default {@code java.io.tmpdir}): on tmpfs it isolates the engine's CPU cost,
 * on a disk it adds the host filesystem. Run with {@code src/bench/jmh.sh}. Not a unit test:
 * Surefire does not pick it up (no {@code Test} in the name) and no test depends on it.
 */
@State(Scope.Benchmark)
@Fork(1)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class EngineBenchmark {
  /** Requests per single shot of the state-changing benchmarks. */
  static final int BATCH = 1024;

  /** Bytes written up front (every byte) for overwrite and read: 64 clusters of 1 MiB. */
  static final long WORKING_SET = 64L << 20;

  /** Seed of the offset sequence; printed in the setup line so a run can be reproduced. */
  static final long SEED = 0x6a706c6f6f70L;

  private static final int CLUSTER = 1 << 20;

  /** Virtual size: room for every batch plus the working set. */
  private static final long DISK_BYTES = 8L << 30;

  /** Where the image lives: an image file on {@code jploop.bench.dir}, or memory. */
  @Param({"file", "memory"})
  public String backing;

  /** Bytes per request: 4 KiB (fio's random I/O) and 128 KiB (what libfuse2 delivers at most). */
  @Param({"4096", "131072"})
  public int ioSize;

  /**
   * Change tracking on the disk: {@code off}; {@code cbt}, a CBT (64 KiB granules) as after a mount
   * of a top with a Format Extension; {@code cbt+copy}, that plus a copy sender's tracker (1 MiB
   * granules). Only {@code off} by default; compare with {@code -p tracking=off,cbt,cbt+copy}.
   */
  @Param({"off"})
  public String tracking;

  private Path dir;
  private PloopDisk disk;

  /** What every write writes: ioSize non-zero bytes (zero writes would skip allocation). */
  private ByteBuffer buf;

  /** Where read() reads into; separate so that reads never change what writes write. */
  private ByteBuffer readBuf;

  /** One whole cluster of non-zero bytes, to fill the working set. */
  private ByteBuffer clusterBuf;

  private SplittableRandom random;
  private long nextCluster;

  /** DiskStats.mdPageWrites when the timed part of an iteration began. */
  private long pageWritesAtStart;

  @Setup(Level.Trial)
  public void setUpTrial() throws IOException {
    dir =
        Files.createTempDirectory(
            Path.of(System.getProperty("jploop.bench.dir", System.getProperty("java.io.tmpdir"))),
            "jploop-jmh");
    clusterBuf = ByteBuffer.allocateDirect(CLUSTER);
    SplittableRandom fill = new SplittableRandom(SEED);
    while (clusterBuf.hasRemaining()) {
      clusterBuf.put((byte) (1 + fill.nextInt(255)));
    }
    clusterBuf.clear();
    buf = clusterBuf.slice(0, ioSize);
    readBuf = ByteBuffer.allocateDirect(ioSize);
    System.out.printf(
        Locale.ROOT,
        "%nEngineBenchmark: backing=%s ioSize=%d dir=%s seed=%d%n",
        backing,
        ioSize,
        dir,
        SEED);
  }

  @TearDown(Level.Trial)
  public void tearDownTrial() throws IOException {
    closeDisk();
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.delete(p);
      }
    }
    Files.delete(dir);
  }

  /**
   * Before every iteration: a fresh, empty disk with the working set allocated; for punch, clusters
   * [0, BATCH) are allocated instead, so that every punch of the batch frees a cluster.
   */
  @Setup(Level.Iteration)
  public void setUpIteration(BenchmarkParams params) throws IOException {
    closeDisk();
    disk = PloopDisk.open(List.of(newImage()), EngineOptions.defaults());
    if (tracking.startsWith("cbt")) {
      disk.tracking().startCbt(java.util.UUID.nameUUIDFromBytes(new byte[] {1}), 65536);
    }
    if (tracking.endsWith("+copy")) {
      disk.tracking().startTracking(CLUSTER);
    }
    long allocated = params.getBenchmark().endsWith(".punch") ? BATCH : WORKING_SET / CLUSTER;
    for (long c = 0; c < allocated; c++) {
      if (c < WORKING_SET / CLUSTER) {
        clusterBuf.clear();
        disk.write(clusterBuf, c * CLUSTER);
      } else {
        writeAt(c * CLUSTER);
      }
    }
    nextCluster = allocated;
    // durable before timing: else a punch first waits for the host to write the cluster's dirty
    // pages back (ext4 punch_hole does), and that, not the engine, is what would be measured
    disk.flush();
    pageWritesAtStart = disk.stats().mdPageWrites();
    random = new SplittableRandom(SEED);
  }

  /** Checks that the iteration did what it claims, so that a broken setup cannot pass as fast. */
  @TearDown(Level.Iteration)
  public void tearDownIteration(BenchmarkParams params) throws IOException {
    long pageWritesBefore = disk.stats().mdPageWrites();
    disk.flush();
    DiskStats s = disk.stats();
    String name = params.getBenchmark();
    System.out.printf(
        Locale.ROOT,
        " [md page writes in the timed part: %d, at the closing flush: %d; %s]",
        pageWritesBefore - pageWritesAtStart,
        s.mdPageWrites() - pageWritesBefore,
        s);
    long expectedAllocated = name.endsWith(".punch") ? BATCH : nextCluster;
    if (s.clustersAllocated() != expectedAllocated) {
      throw new IllegalStateException(
          name + ": expected " + expectedAllocated + " clusters allocated, engine says " + s);
    }
    if (name.endsWith(".punch") && s.clustersFreed() != BATCH) {
      throw new IllegalStateException(
          name + ": expected " + BATCH + " clusters freed, engine says " + s);
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  @OperationsPerInvocation(BATCH)
  @Warmup(iterations = 3)
  @Measurement(iterations = 8)
  public void allocate() throws IOException {
    for (int i = 0; i < BATCH; i++) {
      writeAt(nextCluster++ * CLUSTER);
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @Warmup(iterations = 2, time = 1)
  @Measurement(iterations = 3, time = 2)
  public void overwrite() throws IOException {
    writeAt(randomOffset());
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @Warmup(iterations = 2, time = 1)
  @Measurement(iterations = 3, time = 2)
  public ByteBuffer read() throws IOException {
    readBuf.clear();
    disk.read(readBuf, randomOffset());
    return readBuf;
  }

  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  @OperationsPerInvocation(BATCH)
  @Warmup(iterations = 3)
  @Measurement(iterations = 8)
  public void punch() throws IOException {
    for (int i = 0; i < BATCH; i++) {
      disk.punchHole((long) i * CLUSTER, CLUSTER);
    }
  }

  private void writeAt(long offset) throws IOException {
    buf.clear();
    disk.write(buf, offset);
  }

  private long randomOffset() {
    return random.nextLong(WORKING_SET / ioSize) * ioSize;
  }

  private BlockFile newImage() throws IOException {
    ImageGeometry g = TestImages.geometry(DISK_BYTES, CLUSTER);
    if (backing.equals("memory")) {
      return TestImages.empty("bench.hds", FormatVersion.V2, g);
    }
    Path p = dir.resolve("root.hds");
    Files.deleteIfExists(p);
    ImageWriter.createEmpty(p, ImageHeader.create(FormatVersion.V2, g));
    return FileBlockFile.open(p, false);
  }

  private void closeDisk() throws IOException {
    if (disk != null) {
      disk.close();
      disk = null;
    }
  }
}
