package org.jploop.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jploop.daemon.MountStatus;
import org.jploop.io.LibC;
import org.jploop.testing.Fsx;
import org.jploop.testing.ImageMutator;
import org.jploop.testing.MountedDisk;
import org.jploop.testing.PloopProcess;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Randomized I/O through the real mount: {@link Fsx} straight on disk.img and through a loop device
 * with direct I/O on (at least 100,000 operations in all, each region checked against its model
 * during the run, again on disk.img after the loop device is gone, and finally on a {@code qemu-img
 * convert} of the unmounted image), plus {@code fio --verify=crc32c} at iodepth 32 with random
 * writes of 4 KiB to 1 MiB through the loop device with {@code --direct-io=on} and {@code off}. The
 * unmounted image must pass {@code qemu-img check} and {@code ploop check -c}. Runs once per front
 * end ({@code kernel}, {@code jnr-fuse}).
 *
 * <p>System properties: {@code fsx.seed}, {@code fsx.directOps} (55,000), {@code fsx.loopOps}
 * (50,000), {@code fsx.fioSize} (MiB, 48).
 */
class FsxIT {
  private static final long SEED = Long.getLong("fsx.seed", 4242L);
  private static final long DIRECT_OPS = Long.getLong("fsx.directOps", 55_000);
  private static final long LOOP_OPS = Long.getLong("fsx.loopOps", 50_000);
  private static final int FIO_MIB = Integer.getInteger("fsx.fioSize", 48);
  private static final long MIB = 1 << 20;

  /** Regions of the 256 MiB disk: fsx on disk.img, fsx through the loop device, fio. */
  private static final long DIRECT_START = 0;

  private static final long DIRECT_LEN = 96 * MIB;
  private static final long LOOP_START = 96 * MIB;
  private static final long LOOP_LEN = 96 * MIB;
  private static final long FIO_START = 192 * MIB;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"kernel", "jnr-fuse"})
  void testFsxAndFio_diskImgAndLoopDevice_everyByteVerified(String frontend) throws Exception {
    PloopProcess.assumeMountable("FsxIT");
    Path work = Files.createTempDirectory(Path.of("/var/tmp"), "jploop-fsx-");
    MountedDisk disk = MountedDisk.init(work.resolve("disk"), "256M");
    long t0 = System.nanoTime();
    String loop = null;
    try {
      MountStatus st = disk.mount(null, frontend);
      assertThat(st.frontendName()).isEqualTo(frontend);
      Path img = Path.of(st.diskImage());
      // 1. fsx straight on disk.img
      Fsx direct;
      Fsx.Result rd;
      try (FileChannel ch =
          FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        int fd = Fsx.openFd(img);
        try {
          direct =
              new Fsx(
                  img.toString(),
                  ch,
                  fd,
                  Fsx.Config.of(SEED, DIRECT_OPS, 0)
                      .withRegion(DIRECT_START, DIRECT_LEN)
                      .withMaxOpBytes(128 << 10));
          rd = direct.run();
        } finally {
          LibC.get().close(fd);
        }
      }
      System.out.println("fsx-direct: " + rd.summary());
      // 2. fsx through a loop device with direct I/O on (block-device fallocate needs 512 B)
      loop =
          PloopProcess.must(60, "losetup", "--find", "--show", "--direct-io=on", img.toString())
              .strip();
      Path dev = Path.of(loop);
      Fsx viaLoop;
      Fsx.Result rl;
      try (FileChannel ch =
          FileChannel.open(dev, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        int fd = Fsx.openFd(dev);
        try {
          viaLoop =
              new Fsx(
                  loop,
                  ch,
                  fd,
                  Fsx.Config.of(SEED + 1, LOOP_OPS, 0)
                      .withRegion(LOOP_START, LOOP_LEN)
                      .withAlignment(1, 512)
                      .withMaxOpBytes(128 << 10));
          rl = viaLoop.run();
        } finally {
          LibC.get().close(fd);
        }
      }
      System.out.println("fsx-loop: " + rl.summary());
      assertThat(rl.unsupported()).as("loop device refused fallocate modes").isEmpty();
      // 3. fio with crc32c verification, loop dio on, then off
      long fioBytes = fio(loop, "dio-on");
      PloopProcess.must(60, "losetup", "-d", loop);
      loop =
          PloopProcess.must(60, "losetup", "--find", "--show", "--direct-io=off", img.toString())
              .strip();
      fioBytes += fio(loop, "dio-off");
      PloopProcess.must(60, "losetup", "-d", loop);
      loop = null;
      // 4. what went through the loop device is in disk.img
      long verified = rd.bytesVerified() + rl.bytesVerified();
      try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
        direct.verifyAllOn(ch);
        viaLoop.verifyAllOn(ch);
        verified += DIRECT_LEN + LOOP_LEN;
      }
      PloopProcess.Result um = disk.umount();
      assertThat(um.exit()).as("umount: %s", um.all()).isZero();
      // 5. the unmounted image, judged by qemu-img and ploop check, and read back by qemu-img
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
        direct.verifyAllOn(ch);
        viaLoop.verifyAllOn(ch);
        verified += DIRECT_LEN + LOOP_LEN;
      }
      long secs = (System.nanoTime() - t0) / 1_000_000_000L;
      System.out.println(
          "fsx "
              + frontend
              + ": seed="
              + SEED
              + " operations_run="
              + (rd.ops() + rl.ops())
              + " (disk.img "
              + rd.ops()
              + ", loop dio=on "
              + rl.ops()
              + ") fio_bytes_verified="
              + fioBytes
              + " bytes_verified="
              + verified
              + " time_s="
              + secs);
      assertThat(rd.ops() + rl.ops()).isGreaterThanOrEqualTo(DIRECT_OPS + LOOP_OPS);
    } catch (AssertionError | Exception e) {
      throw new AssertionError(e.getMessage() + "\n" + disk.logTail(), e);
    } finally {
      if (loop != null) {
        PloopProcess.run(60, "losetup", "-d", loop);
      }
      if (disk.status().isPresent()) {
        disk.umount();
      }
      ImageMutator.deleteTree(work);
    }
  }

  /** Runs fio randwrite+verify at iodepth 32 on the fio region of {@code dev}; returns bytes. */
  private static long fio(String dev, String label) throws Exception {
    PloopProcess.Result r =
        PloopProcess.run(
            600,
            "fio",
            "--name=verify-" + label,
            "--filename=" + dev,
            "--rw=randwrite",
            "--bsrange=4k-1m",
            "--ioengine=libaio",
            "--iodepth=32",
            "--direct=1",
            "--offset=" + FIO_START,
            "--size=" + FIO_MIB + "M",
            "--verify=crc32c",
            "--verify_fatal=1",
            "--do_verify=1",
            "--randseed=" + SEED,
            "--verify_state_save=0",
            "--output-format=json");
    assertThat(r.exit()).as("fio %s: %s", label, r.all()).isZero();
    JsonNode job =
        new ObjectMapper().readTree(r.out().substring(r.out().indexOf('{'))).path("jobs").get(0);
    assertThat(job.path("error").asInt()).as("fio %s error: %s", label, r.out()).isZero();
    long written = job.path("write").path("io_bytes").asLong();
    long read = job.path("read").path("io_bytes").asLong();
    System.out.println(
        "fio-" + label + ": iodepth=32 bs=4k-1m written=" + written + " verified=" + read);
    assertThat(read).as("fio %s verified nothing", label).isPositive();
    return read;
  }
}
