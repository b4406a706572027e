package org.jploop.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jploop.daemon.MountStatus;
import org.jploop.testing.ImageMutator;
import org.jploop.testing.LoopFs;
import org.jploop.testing.MountedDisk;
import org.jploop.testing.PatternWriter;
import org.jploop.testing.PloopProcess;
import org.junit.jupiter.api.Test;

/**
 * ENOSPC parking, as dm-ploop's users rely on: the image lives on a small real ext4 (a 300 MiB
 * loop-mounted file), a filler leaves only a little room, and a writer streams a seeded pattern
 * into disk.img past what the host can hold. The writer must block, not fail; the event must be
 * visible in {@code ploop info} and the daemon's log; once the filler is deleted every parked write
 * must complete, and every byte must read back, also from a {@code qemu-img convert} of the cleanly
 * unmounted image, which must pass {@code qemu-img check}.
 *
 * <p>The engine parks a write for {@code EngineOptions.enospcTimeoutMs} (default 300 s, what the
 * daemon uses) and retries every 5 s; this test frees space well within that.
 */
class EnospcIT {
  private static final long SEED = Long.getLong("enospc.seed", 28L);
  private static final long MIB = 1 << 20;

  /** What the writer writes: more than the host filesystem has left after the filler. */
  private static final long WRITE_BYTES = 160 * MIB;

  @Test
  void testHostFull_writesParkThenComplete_nothingLost() throws Exception {
    PloopProcess.assumeMountable("EnospcIT");
    Path work = Files.createTempDirectory(Path.of("/var/tmp"), "jploop-enospc-");
    long t0 = System.nanoTime();
    try (LoopFs host = LoopFs.create(work, 300)) {
      MountedDisk disk = MountedDisk.init(host.dir().resolve("disk"), "1G");
      try {
        MountStatus st = disk.mount(null);
        Path img = Path.of(st.diskImage());
        Path filler = host.dir().resolve("filler");
        long fillerBytes = host.fill(filler, 48 * MIB);
        long freeBefore = host.freeBytes();
        System.out.println(
            "enospc: host fs free "
                + freeBefore / MIB
                + " MiB after a "
                + fillerBytes / MIB
                + " MiB filler; writing "
                + WRITE_BYTES / MIB
                + " MiB");

        // The writer is a child process: this JVM must hold no descriptor of disk.img while
        // writes are parked, or the fork of every command it runs would block on closing it.
        AtomicLong written = new AtomicLong();
        AtomicLong lastProgress = new AtomicLong(System.nanoTime());
        AtomicReference<String> failed = new AtomicReference<>();
        Process writerProcess =
            new ProcessBuilder(
                    PloopProcess.javaBin(),
                    "-cp",
                    PloopProcess.testClasses().toString(),
                    "org.jploop.testing.PatternWriter",
                    img.toString(),
                    Long.toString(SEED),
                    Long.toString(WRITE_BYTES))
                .redirectErrorStream(true)
                .start();
        Thread writer =
            new Thread(
                () -> {
                  try (var in =
                      new java.io.BufferedReader(
                          new java.io.InputStreamReader(
                              writerProcess.getInputStream(),
                              java.nio.charset.StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                      if (line.startsWith("wrote ")) {
                        written.set(Long.parseLong(line.substring(6)));
                        lastProgress.set(System.nanoTime());
                      } else if (!line.equals("done")) {
                        failed.set(line);
                      }
                    }
                    if (writerProcess.waitFor() != 0 && failed.get() == null) {
                      failed.set("exit " + writerProcess.exitValue());
                    }
                  } catch (IOException | InterruptedException e) {
                    failed.set(e.toString());
                  }
                },
                "enospc-writer-output");
        writer.start();

        // 1. the host runs full: the writer stops making progress but does not fail
        long deadline = System.nanoTime() + 180_000_000_000L;
        MountStatus now = disk.status().orElseThrow();
        while (now.enospcEvents() == 0 && writer.isAlive() && System.nanoTime() < deadline) {
          Thread.sleep(250);
          now = disk.status().orElseThrow();
        }
        assertThat(failed.get()).as("the writer failed instead of parking").isNull();
        assertThat(writer.isAlive())
            .as("the writer finished: the host never ran full (wrote %d)", written.get())
            .isTrue();
        assertThat(now.enospcEvents()).as("no ENOSPC event in status.json").isPositive();
        System.out.println(
            "enospc: "
                + java.time.Instant.now()
                + " first event seen, written "
                + written.get() / MIB
                + " MiB, stats "
                + now.stats());
        long parkedAt = written.get();
        Thread.sleep(3000);
        assertThat(failed.get()).as("a parked write failed").isNull();
        long stalledMs = (System.nanoTime() - lastProgress.get()) / 1_000_000;
        assertThat(stalledMs).as("the writer should be parked").isGreaterThan(2000);
        assertThat(host.freeBytes()).isLessThan(8 * MIB);

        // 2. the event is visible in ploop info and in the daemon log
        PloopProcess.Result info = PloopProcess.ploop(60, "info", disk.xml().toString());
        assertThat(info.exit()).as("ploop info: %s", info.all()).isZero();
        assertThat(info.out())
            .as("ploop info shows no ENOSPC event: %s", info.out())
            .containsPattern("ENOSPC events:\\s+[1-9]");
        String log = Files.readString(Path.of(now.logFile()));
        assertThat(log).as("daemon log").contains("ENOSPC");

        // 3. free space: every parked write completes
        Files.delete(filler);
        System.out.println(
            "enospc: "
                + java.time.Instant.now()
                + " filler deleted after "
                + now.enospcEvents()
                + " events, "
                + parkedAt / MIB
                + " MiB written; host free "
                + host.freeBytes() / MIB
                + " MiB; status "
                + disk.status().orElseThrow().stats());
        writer.join(240_000);
        assertThat(writer.isAlive())
            .as("parked writes never completed (%d of %d bytes)", written.get(), WRITE_BYTES)
            .isFalse();
        assertThat(failed.get()).as("the writer failed after space was freed").isNull();
        assertThat(written.get()).isEqualTo(WRITE_BYTES);

        // 4. every byte is there, through disk.img and through qemu-img after a clean umount
        long verified = PatternWriter.verify(img, SEED, WRITE_BYTES);
        MountStatus end = disk.status().orElseThrow();
        PloopProcess.Result um = disk.umount();
        assertThat(um.exit()).as("umount: %s", um.all()).isZero();
        PloopProcess.Result q =
            PloopProcess.run(120, "qemu-img", "check", "-f", "parallels", disk.image().toString());
        assertThat(q.exit()).as("qemu-img check: %s", q.all()).isZero();
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
        verified += PatternWriter.verify(raw, SEED, WRITE_BYTES);
        long secs = (System.nanoTime() - t0) / 1_000_000_000L;
        System.out.println(
            "enospc: seed="
                + SEED
                + " host_fs=300MiB written="
                + WRITE_BYTES
                + " parked_at="
                + parkedAt
                + " enospc_events="
                + end.enospcEvents()
                + " parked_writes="
                + end.stats().parkedWrites()
                + " lost=0 bytes_verified="
                + verified
                + " time_s="
                + secs);
      } catch (AssertionError | Exception e) {
        throw new AssertionError(e.getMessage() + "\n" + disk.logTail(), e);
      } finally {
        if (Files.exists(host.dir().resolve("filler"))) {
          Files.delete(host.dir().resolve("filler")); // or umount waits for the parked writes
        }
        if (disk.status().isPresent()) {
          disk.umount();
        }
      }
    } finally {
      ImageMutator.deleteTree(work);
    }
  }

  /**
   * The same through the inner filesystem, as a container sees it: ext4 on the loop device over
   * disk.img ({@code ploop mount -m}), {@code dd conv=fsync} of a seeded 96 MiB file inside it
   * while the host has 32 MiB left. dd must block in fsync, not fail; after the filler is deleted
   * it must finish, and the file must read back identical after a remount; {@code qemu-img check}
   * must pass after the final umount.
   */
  @Test
  void testHostFull_throughInnerExt4_ddCompletes() throws Exception {
    PloopProcess.assumeMountable("EnospcIT");
    Path work = Files.createTempDirectory(Path.of("/var/tmp"), "jploop-enospc-fs-");
    long t0 = System.nanoTime();
    long bytes = 96 * MIB;
    Path source = work.resolve("source.bin");
    try (var out = Files.newOutputStream(source)) {
      for (long off = 0; off < bytes; off += PatternWriter.CHUNK) {
        out.write(PatternWriter.chunk(SEED + 1, off));
      }
    }
    Path mnt = work.resolve("mnt");
    Files.createDirectories(mnt);
    try (LoopFs host = LoopFs.create(work.resolve("host"), 300)) {
      MountedDisk disk = MountedDisk.init(host.dir().resolve("disk"), "1G");
      Path filler = host.dir().resolve("filler");
      try {
        MountStatus st = disk.mount(null);
        PloopProcess.must(
            300,
            "mkfs.ext4",
            "-q",
            "-F",
            "-E",
            "nodiscard",
            "-J",
            "size=4",
            "-b",
            "4096",
            st.diskImage());
        assertThat(disk.umount().exit()).isZero();
        disk.mount(mnt);
        host.fill(filler, 32 * MIB);
        Process dd =
            new ProcessBuilder(
                    "dd", "if=" + source, "of=" + mnt.resolve("big"), "bs=1M", "conv=fsync")
                .redirectErrorStream(true)
                .start();
        long deadline = System.nanoTime() + 180_000_000_000L;
        MountStatus now = disk.status().orElseThrow();
        while (now.enospcEvents() == 0 && dd.isAlive() && System.nanoTime() < deadline) {
          Thread.sleep(250);
          now = disk.status().orElseThrow();
        }
        assertThat(dd.isAlive())
            .as(
                "dd ended before the host ran full: %s",
                dd.isAlive()
                    ? ""
                    : new String(dd.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
            .isTrue();
        assertThat(now.enospcEvents()).as("no ENOSPC event in status.json").isPositive();
        Thread.sleep(2000);
        assertThat(dd.isAlive())
            .as(
                "dd failed instead of parking: %s",
                dd.isAlive()
                    ? ""
                    : new String(dd.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
            .isTrue();
        PloopProcess.Result info = PloopProcess.ploop(60, "info", disk.xml().toString());
        assertThat(info.out())
            .as("ploop info: %s", info.all())
            .containsPattern("ENOSPC events:\\s+[1-9]");
        Files.delete(filler);
        assertThat(dd.waitFor(240, java.util.concurrent.TimeUnit.SECONDS))
            .as("dd still parked 240 s after space was freed")
            .isTrue();
        String ddOut = new String(dd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(dd.exitValue()).as("dd: %s", ddOut).isZero();
        MountStatus end = disk.status().orElseThrow();
        assertThat(disk.umount().exit()).isZero();
        disk.mount(mnt);
        assertThat(PatternWriter.verify(mnt.resolve("big"), SEED + 1, bytes)).isEqualTo(bytes);
        PloopProcess.Result um = disk.umount();
        assertThat(um.exit()).as("umount: %s", um.all()).isZero();
        PloopProcess.Result q =
            PloopProcess.run(120, "qemu-img", "check", "-f", "parallels", disk.image().toString());
        assertThat(q.exit()).as("qemu-img check: %s", q.all()).isZero();
        System.out.println(
            "enospc-fs: seed="
                + SEED
                + " host_fs=300MiB dd_bytes="
                + bytes
                + " enospc_events="
                + end.enospcEvents()
                + " lost=0 bytes_verified="
                + bytes
                + " time_s="
                + (System.nanoTime() - t0) / 1_000_000_000L);
      } catch (AssertionError | Exception e) {
        throw new AssertionError(e.getMessage() + "\n" + disk.logTail(), e);
      } finally {
        Files.deleteIfExists(filler);
        if (disk.status().isPresent()) {
          disk.umount();
        }
      }
    } finally {
      ImageMutator.deleteTree(work);
    }
  }
}
