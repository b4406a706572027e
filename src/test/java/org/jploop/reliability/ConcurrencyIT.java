package org.jploop.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jploop.daemon.MountStatus;
import org.jploop.io.LibC;
import org.jploop.testing.Fsx;
import org.jploop.testing.ImageMutator;
import org.jploop.testing.MountedDisk;
import org.jploop.testing.PloopProcess;
import org.junit.jupiter.api.Test;

/**
 * Many writers and discarders on the same md pages at once: on a mounted 256 MiB disk (1 MiB
 * clusters, so all 192 MiB exercised sit in BAT page 0), threads own interleaved clusters (thread
 * {@code t} owns clusters {@code c % threads == t}) and run {@link Fsx} on them for a while, half
 * with reads and half as pure writers/punchers/zeroers, so allocations, frees and BAT updates of
 * neighbouring clusters race in one md page. Every read is checked during the run; at the end each
 * thread's clusters are verified on disk.img, and again on a qemu-img conversion of the cleanly
 * unmounted image, which must pass {@code qemu-img check} and {@code ploop check -c}.
 *
 * <p>System properties: {@code concurrency.seed}, {@code concurrency.seconds} (default 120), {@code
 * concurrency.threads} (default 6).
 */
class ConcurrencyIT {
  private static final long SEED = Long.getLong("concurrency.seed", 77L);
  private static final long SECONDS = Long.getLong("concurrency.seconds", 120);
  private static final int THREADS = Integer.getInteger("concurrency.threads", 6);
  private static final long REGION = 192L << 20;

  @Test
  void testWritersAndDiscardersOnSharedMdPages_fullVerify() throws Exception {
    PloopProcess.assumeMountable("ConcurrencyIT");
    Path work = Files.createTempDirectory(Path.of("/var/tmp"), "jploop-conc-");
    MountedDisk disk = MountedDisk.init(work.resolve("disk"), "256M");
    long t0 = System.nanoTime();
    try {
      MountStatus st = disk.mount(null);
      Path img = Path.of(st.diskImage());
      List<Fsx> runs = new ArrayList<>();
      List<Fsx.Result> results = new ArrayList<>();
      try (FileChannel ch =
          FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        int fd = Fsx.openFd(img);
        AtomicInteger n = new AtomicInteger();
        ExecutorService pool =
            Executors.newFixedThreadPool(
                THREADS, r -> new Thread(r, "concurrency-" + n.getAndIncrement()));
        try {
          List<Future<Fsx.Result>> futures = new ArrayList<>();
          for (int t = 0; t < THREADS; t++) {
            Fsx.Config c =
                Fsx.Config.of(SEED + t, 0, REGION)
                    .withStripe(THREADS, t)
                    .withDuration(SECONDS * 1000)
                    .withMaxOpBytes(256 << 10);
            if (t % 2 == 1) {
              c = c.withOps(EnumSet.of(Fsx.Op.WRITE, Fsx.Op.PUNCH, Fsx.Op.ZERO, Fsx.Op.FSYNC));
            }
            Fsx fsx = new Fsx(img.toString(), ch, fd, c);
            runs.add(fsx);
            futures.add(pool.submit((java.util.concurrent.Callable<Fsx.Result>) fsx::run));
          }
          for (Future<Fsx.Result> f : futures) {
            Fsx.Result r = f.get(SECONDS + 600, TimeUnit.SECONDS);
            results.add(r);
            System.out.println("concurrency: " + r.summary());
          }
        } finally {
          pool.shutdownNow();
          LibC.get().close(fd);
        }
      }
      PloopProcess.Result um = disk.umount();
      assertThat(um.exit()).as("umount: %s", um.all()).isZero();
      PloopProcess.Result q =
          PloopProcess.run(120, "qemu-img", "check", "-f", "parallels", disk.image().toString());
      assertThat(q.exit()).as("qemu-img check: %s", q.all()).isZero();
      PloopProcess.Result c = PloopProcess.ploop(120, "check", "-c", disk.image().toString());
      assertThat(c.exit()).as("ploop check -c: %s", c.all()).isZero();
      Path raw = work.resolve("converted.raw");
      PloopProcess.must(
          300,
          "qemu-img",
          "convert",
          "-f",
          "parallels",
          "-O",
          "raw",
          disk.image().toString(),
          raw.toString());
      try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ)) {
        for (Fsx f : runs) {
          f.verifyAllOn(ch);
        }
      }
      long ops = results.stream().mapToLong(Fsx.Result::ops).sum();
      long punches = results.stream().mapToLong(r -> r.punches() + r.zeroRanges()).sum();
      long verified = results.stream().mapToLong(Fsx.Result::bytesVerified).sum() + REGION;
      long secs = (System.nanoTime() - t0) / 1_000_000_000L;
      System.out.println(
          "concurrency: seed="
              + SEED
              + " threads="
              + THREADS
              + " seconds="
              + SECONDS
              + " operations_run="
              + ops
              + " punches_and_zeroranges="
              + punches
              + " bytes_verified="
              + verified
              + " time_s="
              + secs);
      assertThat(ops).isPositive();
    } catch (AssertionError | Exception e) {
      throw new AssertionError(e.getMessage() + "\n" + disk.logTail(), e);
    } finally {
      if (disk.status().isPresent()) {
        disk.umount();
      }
      ImageMutator.deleteTree(work);
    }
  }
}
