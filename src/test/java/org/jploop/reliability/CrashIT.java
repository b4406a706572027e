package org.jploop.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jploop.daemon.MountStatus;
import org.jploop.testing.DurabilityLedger;
import org.jploop.testing.ImageMutator;
import org.jploop.testing.MountedDisk;
import org.jploop.testing.PloopProcess;
import org.junit.jupiter.api.Test;

/**
 * Crash consistency with real processes: a 1 GiB disk whose first 512 MiB hold an ext4 and whose
 * next 64 MiB are written raw. At each seeded crash point the disk is mounted with {@code ploop
 * mount -m}, everything fsync'ed so far is verified, a {@link org.jploop.testing.CrashWriter}
 * writes files inside the filesystem and another writes and punches disk.img directly, and the
 * mount daemon is killed with SIGKILL at a random moment. Then the leftovers are cleaned up ({@code
 * ploop umount}, else by hand), and on even points the image is repaired with {@code ploop check -f
 * -F -d root.hds} (even points) or {@code ploop check -F DiskDescriptor.xml} (odd points) and
 * judged by {@code qemu-img check}, and every {@code crash.fsckEvery} points by {@code e2fsck -fn}
 * (on a qemu-img conversion, after journal replay). At the end every fsync'ed byte is verified once
 * more after a clean unmount.
 *
 * <p>System properties: {@code crash.seed}, {@code crash.points} (default 50).
 */
class CrashIT {
  private static final long SEED = Long.getLong("crash.seed", 1123L);
  private static final int POINTS = Integer.getInteger("crash.points", 50);

  /** e2fsck (through a qemu-img conversion) runs at every this many points, and at the end. */
  private static final int FSCK_EVERY = Integer.getInteger("crash.fsckEvery", 5);

  /** The filesystem covers the first half of the disk; the raw writer owns the next 64 MiB. */
  private static final long FS_BYTES = 512L << 20;

  private static final long RAW_START = FS_BYTES;
  private static final long RAW_END = RAW_START + (64L << 20);

  @Test
  void testKill9AtRandomMoments_everyFsyncedByteSurvives() throws Exception {
    PloopProcess.assumeMountable("CrashIT");
    Path work = Files.createTempDirectory(Path.of("/var/tmp"), "jploop-crash-");
    Path mnt = work.resolve("mnt");
    Files.createDirectories(mnt);
    Path fsLog = work.resolve("fs-writer.log");
    Path rawLog = work.resolve("raw-writer.log");
    MountedDisk disk = MountedDisk.init(work.resolve("disk"), "1G");
    DurabilityLedger ledger = new DurabilityLedger();
    long t0 = System.nanoTime();
    int survived = 0;
    int manualCleanups = 0;
    int qemuChecks = 0;
    int fscks = 0;
    long mountMs = 0;
    long cleanupMs = 0;
    long repairMs = 0;
    long verifyMs = 0;
    MountStatus st = null;
    int currentPoint = -1;
    try {
      // mkfs on the first half of disk.img, straight through the FUSE file
      st = disk.mount(null);
      PloopProcess.must(
          300,
          "mkfs.ext4",
          "-q",
          "-F",
          "-E",
          "nodiscard",
          "-b",
          "4096",
          st.diskImage(),
          Long.toString(FS_BYTES / 4096));
      assertThat(disk.umount().exit()).isZero();
      Random rnd = new Random(SEED);
      for (int point = 0; point < POINTS; point++) {
        currentPoint = point;
        String where = "crash point " + point + " (seed " + SEED + ")";
        long tMount = System.nanoTime();
        st = disk.mount(mnt);
        mountMs += (System.nanoTime() - tMount) / 1_000_000;
        long tVerify = System.nanoTime();
        ledger.verifyFilesystem(mnt.resolve("data"), fsLog);
        ledger.verifyRaw(Path.of(st.diskImage()), rawLog, RAW_START, RAW_END);
        long pointVerifyMs = (System.nanoTime() - tVerify) / 1_000_000;
        verifyMs += pointVerifyMs;
        long writerSeed = SEED * 1000 + point;
        Process fsWriter = startWriter("fs", mnt.resolve("data").toString(), fsLog, writerSeed);
        Process rawWriter =
            startWriter(
                "raw",
                st.diskImage(),
                rawLog,
                writerSeed,
                Long.toString(RAW_START),
                Long.toString(RAW_END));
        // mostly while both writers are busy (their JVMs need ~1 s to start), sometimes earlier
        long delay = rnd.nextInt(10) == 0 ? rnd.nextInt(800) : 800 + rnd.nextInt(3000);
        Thread.sleep(delay);
        ProcessHandle daemon =
            ProcessHandle.of(st.pid())
                .orElseThrow(() -> new AssertionError(where + ": the daemon died before the kill"));
        daemon.destroyForcibly(); // SIGKILL
        daemon.onExit().get(30, TimeUnit.SECONDS);
        // the writers stop on their own once their I/O fails; the clean-up unblocks them
        long tClean = System.nanoTime();
        PloopProcess.Result um = disk.umount();
        if (MountedDisk.leftovers(mnt, st)) {
          manualCleanups += MountedDisk.cleanUpAfterCrash(mnt, st);
        }
        stopWriter(fsWriter);
        stopWriter(rawWriter);
        assertThat(MountedDisk.leftovers(mnt, st))
            .as("%s: leftovers after clean-up; umount said %s", where, um.all())
            .isFalse();
        cleanupMs += (System.nanoTime() - tClean) / 1_000_000;
        long tRepair = System.nanoTime();
        // jploop mount refuses a dirty image (ploop's mount would check it itself), so recover as
        // the message says: alternately the image form and the descriptor form of check.
        String[] repair =
            point % 2 == 0
                ? new String[] {"check", "-f", "-F", "-d", disk.image().toString()}
                : new String[] {"check", "-F", disk.xml().toString()};
        PloopProcess.Result chk = PloopProcess.ploop(300, repair);
        assertThat(chk.exit())
            .as("%s: ploop %s: %s", where, String.join(" ", repair), chk.all())
            .isZero();
        PloopProcess.Result q =
            PloopProcess.run(120, "qemu-img", "check", "-f", "parallels", disk.image().toString());
        assertThat(q.exit()).as("%s: qemu-img check after repair: %s", where, q.all()).isZero();
        qemuChecks++;
        if (point % FSCK_EVERY == 0) {
          fsckViaQemu(disk.image(), work, where);
          fscks++;
        }
        repairMs += (System.nanoTime() - tRepair) / 1_000_000;
        survived++;
        System.out.println(
            "crash: point "
                + point
                + " killed after "
                + delay
                + " ms; fs files "
                + ledger.filesVerified()
                + ", raw ops "
                + ledger.rawWritesLogged()
                + ", umount exit "
                + um.exit()
                + ", verified in "
                + pointVerifyMs
                + " ms");
      }
      st = disk.mount(mnt);
      ledger.verifyFilesystem(mnt.resolve("data"), fsLog);
      ledger.verifyRaw(Path.of(st.diskImage()), rawLog, RAW_START, RAW_END);
      PloopProcess.Result um = disk.umount();
      assertThat(um.exit()).as("final clean umount: %s", um.all()).isZero();
      PloopProcess.Result q =
          PloopProcess.run(120, "qemu-img", "check", "-f", "parallels", disk.image().toString());
      assertThat(q.exit()).as("qemu-img check after a clean umount: %s", q.all()).isZero();
      fsckViaQemu(disk.image(), work, "final");
      long secs = (System.nanoTime() - t0) / 1_000_000_000L;
      System.out.println(
          "crash: seed="
              + SEED
              + " crash_points="
              + POINTS
              + " crashes_survived="
              + survived
              + " qemu_checks="
              + (qemuChecks + 1)
              + " fscks="
              + (fscks + 1)
              + " manual_cleanups="
              + manualCleanups
              + " files_verified="
              + ledger.filesVerified()
              + " bytes_verified="
              + ledger.bytesVerified()
              + " time_s="
              + secs
              + " (mount "
              + mountMs / 1000
              + " s, verify "
              + verifyMs / 1000
              + " s, crash clean-up "
              + cleanupMs / 1000
              + " s, repair+judges "
              + repairMs / 1000
              + " s)");
    } catch (AssertionError | Exception e) {
      throw new AssertionError(
          "CrashIT seed="
              + SEED
              + " crash point "
              + currentPoint
              + ": "
              + e.getMessage()
              + "\n"
              + disk.logTail(),
          e);
    } finally {
      var last = disk.status();
      if (last.isPresent()) {
        disk.umount();
        if (MountedDisk.leftovers(mnt, last.get())) {
          MountedDisk.cleanUpAfterCrash(mnt, last.get());
        }
      }
      ImageMutator.deleteTree(work);
    }
  }

  private static Process startWriter(
      String mode, String target, Path log, long seed, String... extra) throws IOException {
    List<String> argv =
        new ArrayList<>(
            List.of(
                PloopProcess.javaBin(),
                "-cp",
                PloopProcess.testClasses().toString(),
                "org.jploop.testing.CrashWriter",
                mode,
                target,
                log.toString(),
                Long.toString(seed)));
    argv.addAll(List.of(extra));
    return new ProcessBuilder(argv)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  private static void stopWriter(Process p) throws InterruptedException {
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Converts the image to raw with qemu-img (the independent reader), replays the ext4 journal and
   * requires {@code e2fsck -fn} to find nothing.
   */
  private static void fsckViaQemu(Path image, Path work, String where) throws IOException {
    Path raw = work.resolve("fsck.raw");
    try {
      PloopProcess.must(
          300,
          "qemu-img",
          "convert",
          "-f",
          "parallels",
          "-O",
          "raw",
          image.toString(),
          raw.toString());
      PloopProcess.Result j =
          PloopProcess.run(300, "e2fsck", "-y", "-E", "journal_only", raw.toString());
      assertThat(j.exit()).as("%s: journal replay: %s", where, j.all()).isBetween(0, 1);
      PloopProcess.Result f = PloopProcess.run(300, "e2fsck", "-fn", raw.toString());
      assertThat(f.exit()).as("%s: e2fsck -fn: %s", where, f.all()).isZero();
    } finally {
      Files.deleteIfExists(raw);
    }
  }
}
