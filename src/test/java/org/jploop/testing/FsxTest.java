package org.jploop.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jploop.io.LibC;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tests for {@link Fsx} on plain sparse files: it runs, counts, and catches corruption. */
class FsxTest {
  /** Seed for every test here; printed in each summary and failure. */
  private static final long SEED = Long.getLong("fsx.seed", 20261123L);

  @TempDir Path dir;

  private Path sparseFile(long size) throws IOException {
    Path f = dir.resolve("target.img");
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength(size);
    }
    return f;
  }

  @Test
  void testRun_plainFile_allOpsVerified() throws IOException {
    Path f = sparseFile(16L << 20);
    Fsx.Result r = Fsx.run(f, Fsx.Config.of(SEED, 20_000, 16L << 20).withCluster(1 << 20));
    System.out.println(r.summary());
    assertThat(r.ops()).isEqualTo(20_000);
    assertThat(r.reads()).isPositive();
    assertThat(r.writes()).isPositive();
    assertThat(r.punches()).isPositive();
    assertThat(r.zeroRanges()).isPositive();
    assertThat(r.fsyncs()).isPositive();
    assertThat(r.unsupported()).isEmpty();
    // every read plus one full pass over the region
    assertThat(r.bytesVerified()).isGreaterThan(16L << 20);
    assertThat(r.summary()).startsWith("fsx: seed=" + SEED + " ops=20000 reads=");
    assertThat(f.toFile().length()).isEqualTo(16L << 20);
  }

  @Test
  void testRun_sameSeed_sameCounters() throws IOException {
    Path f = sparseFile(4L << 20);
    Fsx.Result a = Fsx.run(f, Fsx.Config.of(SEED, 2_000, 4L << 20).withCluster(64 << 10));
    Path g = dir.resolve("other.img");
    try (RandomAccessFile raf = new RandomAccessFile(g.toFile(), "rw")) {
      raf.setLength(4L << 20);
    }
    Fsx.Result b = Fsx.run(g, Fsx.Config.of(SEED, 2_000, 4L << 20).withCluster(64 << 10));
    assertThat(b).isEqualTo(a);
  }

  @Test
  void testRun_directIo_alignedOps() throws IOException {
    Path f = sparseFile(8L << 20);
    Fsx.Result r;
    try {
      r = Fsx.run(f, Fsx.Config.of(SEED, 3_000, 8L << 20).withDirectIo(true));
    } catch (IOException e) {
      if (String.valueOf(e.getMessage()).contains("Invalid argument")) {
        System.err.println("FsxTest: WARNING: O_DIRECT not supported on " + dir + ", skipped");
        return;
      }
      throw e;
    }
    System.out.println(r.summary());
    assertThat(r.ops()).isEqualTo(3_000);
    assertThat(r.writes()).isPositive();
  }

  @Test
  void testVerifyAll_foreignWrite_isReportedWithSeedAndOffset() throws IOException {
    Path f = sparseFile(2L << 20);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      int fd = Fsx.openFd(f);
      try {
        Fsx fsx =
            new Fsx(
                f.toString(),
                ch,
                fd,
                Fsx.Config.of(SEED, 0, 2L << 20).withOps(Set.of(Fsx.Op.WRITE)));
        for (int i = 0; i < 50; i++) {
          fsx.step();
        }
        fsx.verifyAll();
        // Someone else flips one byte behind the model's back.
        ByteBuffer one = ByteBuffer.allocate(1);
        ch.read(one, 777_777);
        byte b = one.get(0);
        ch.write(ByteBuffer.wrap(new byte[] {(byte) (b ^ 0x5a)}), 777_777);
        assertThatThrownBy(fsx::verifyAll)
            .isInstanceOf(AssertionError.class)
            .hasMessageContaining("seed=" + SEED)
            .hasMessageContaining("mismatch at offset 777777")
            .hasMessageContaining("last operations:")
            .hasMessageContaining("#50 write");
      } finally {
        LibC.get().close(fd);
      }
    }
  }

  @Test
  void testRun_punchIsNotApplied_isCaught() throws IOException {
    // A target that ignores punches must fail the run: simulate it by restoring the data after
    // fsx's punch, through a second channel, and checking that the next read catches it.
    Path f = sparseFile(1L << 20);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      int fd = Fsx.openFd(f);
      try {
        Fsx fsx =
            new Fsx(
                f.toString(),
                ch,
                fd,
                Fsx.Config.of(SEED, 0, 1L << 20).withOps(Set.of(Fsx.Op.WRITE)));
        for (int i = 0; i < 30; i++) {
          fsx.step();
        }
        byte[] before = new byte[1 << 20];
        ch.read(ByteBuffer.wrap(before), 0);
        Fsx punches =
            new Fsx(
                f.toString(),
                ch,
                fd,
                Fsx.Config.of(SEED + 1, 0, 1L << 20).withOps(Set.of(Fsx.Op.PUNCH)));
        for (int i = 0; i < 5; i++) {
          punches.step();
        }
        ch.write(ByteBuffer.wrap(before), 0);
        if (!ContentModel.allZero(before, 0, before.length)) {
          assertThatThrownBy(punches::verifyAll).hasMessageContaining("final verify mismatch");
        }
      } finally {
        LibC.get().close(fd);
      }
    }
  }

  @Test
  void testRun_stripes_concurrentThreadsOnSharedFile() throws Exception {
    long size = 8L << 20;
    int cluster = 64 << 10;
    Path f = sparseFile(size);
    int threads = 4;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      int fd = Fsx.openFd(f);
      java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
      ExecutorService pool =
          Executors.newFixedThreadPool(
              threads, r -> new Thread(r, "fsx-stripe-" + n.getAndIncrement()));
      try {
        List<Future<Fsx.Result>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          Fsx.Config c =
              Fsx.Config.of(SEED + t, 3_000, size).withCluster(cluster).withStripe(threads, t);
          futures.add(pool.submit(() -> new Fsx(f.toString(), ch, fd, c).run()));
        }
        long ops = 0;
        for (Future<Fsx.Result> fu : futures) {
          Fsx.Result r = fu.get();
          System.out.println(r.summary());
          ops += r.ops();
        }
        assertThat(ops).isEqualTo(threads * 3_000L);
      } finally {
        pool.shutdownNow();
        LibC.get().close(fd);
      }
    }
  }

  @Test
  void testContentModel_zeroAndWrite() {
    ContentModel m = new ContentModel();
    byte[] data = new byte[10_000];
    java.util.Arrays.fill(data, (byte) 7);
    m.write(4000, data, 0, data.length);
    m.zero(5000, 5000);
    byte[] out = new byte[14_000];
    m.read(0, out, 0, out.length);
    for (int i = 0; i < out.length; i++) {
      byte want = (i >= 4000 && i < 5000) || (i >= 10_000 && i < 14_000) ? (byte) 7 : 0;
      assertThat(out[i]).as("byte %d", i).isEqualTo(want);
    }
    m.zero(0, 20_000);
    assertThat(m.pageCount()).isZero();
  }
}
