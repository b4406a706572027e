package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountTable;
import org.jploop.host.RunPaths;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.junit.jupiter.api.Test;

/**
 * The default front end (our own server of the kernel's FUSE protocol) against the real kernel,
 * with its faults: INIT negotiated and logged, {@code ls}/{@code stat} of the FUSE directory, more
 * than one request in flight; {@code mkfs.ext4}, fstrim and {@code e2fsck} through a loop device;
 * {@code ploop umount} while fio writes through the loop device (refused, fio's data verified);
 * readers signalled while their request waits; an abort through fusectl and an unmount of the FUSE
 * directory behind the daemon's back (the daemon stops cleanly and the image is clean). The kill -9
 * of the daemon under ext4 is CrashIT's and MountIT's.
 */
class KernelFrontendIT extends MountFixture {
  private static final Path FUSECTL = Path.of("/sys/fs/fuse/connections");
  private static final ObjectMapper JSON = new ObjectMapper();

  private String daemonLog(MountStatus st) throws Exception {
    return Files.readString(Path.of(st.logFile()));
  }

  /** The live status, straight from the daemon's control socket. */
  private JsonNode liveStatus() throws Exception {
    String reply = ControlServer.send(RunPaths.of(xml).controlSocket(), "status");
    assertThat(reply).startsWith("ok ");
    return JSON.readTree(reply.substring(3));
  }

  /** fusectl's directory of the connection serving {@code img}, mounting fusectl if needed. */
  private static Path connection(Path img) throws Exception {
    if (sh(10, "mountpoint", "-q", FUSECTL.toString()).exitCode() != 0) {
      // left mounted: other users of fusectl on this host may rely on it
      sh(30, "mount", "-t", "fusectl", "none", FUSECTL.toString()).ok();
    }
    String dev = sh(10, "stat", "-c", "%d", img.toString()).ok().out().strip();
    Path c = FUSECTL.resolve(dev);
    assertThat(c.resolve("waiting")).exists();
    return c;
  }

  @Test
  void testMkfsFstrimE2fsck_throughLoop_manyRequestsInFlight() throws Exception {
    ploop("init", "-s", "512M", "-t", "none", image.toString()).ok();
    Path img = Path.of(mount(xml.toString()).ok().out().strip());
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    assertThat(st.frontendName()).isEqualTo("kernel");
    assertThat(daemonLog(st))
        .containsPattern("FUSE protocol 7\\.\\d+ \\(kernel offers 7\\.\\d+")
        .contains("ASYNC_DIO", "MAX_PAGES");
    assertThat(sh(10, "ls", "-a", st.fuseDir()).ok().out().split("\\s+"))
        .containsExactlyInAnyOrder(".", "..", "disk.img");
    assertThat(sh(10, "findmnt", "-n", "-o", "FSTYPE", st.fuseDir()).ok().out().strip())
        .isEqualTo("fuse.jploop");
    String loop =
        sh(60, "losetup", "--find", "--show", "--direct-io=on", img.toString()).ok().out().strip();
    Path fs = dir.resolve("fs");
    Files.createDirectory(fs);
    try {
      assertThat(
              Files.readString(
                      Path.of("/sys/block", Path.of(loop).getFileName().toString(), "loop/dio"))
                  .strip())
          .isEqualTo("1");
      sh(
              120,
              "fio",
              "--name=qd16",
              "--filename=" + loop,
              "--rw=randread",
              "--bs=4k",
              "--iodepth=16",
              "--ioengine=libaio",
              "--direct=1",
              "--runtime=2",
              "--time_based",
              "--size=256M",
              "--norandommap")
          .ok();
      long inFlight = liveStatus().path("frontend").path("maxInFlight").asLong();
      System.out.println("kernel front end: " + liveStatus().path("frontend"));
      assertThat(inFlight)
          .as("requests in flight at fio QD16 through the loop device")
          .isGreaterThan(1);
      sh(300, "mkfs.ext4", "-q", "-F", loop).ok();
      long afterMkfs = du(dir);
      sh(30, "mount", loop, fs.toString()).ok();
      sh(120, "dd", "if=/dev/urandom", "of=" + fs.resolve("f"), "bs=1M", "count=96", "conv=fsync")
          .ok();
      long full = du(dir);
      Files.delete(fs.resolve("f"));
      sh(30, "sync", "-f", fs.toString()).ok();
      String trimmed = sh(120, "fstrim", "-v", fs.toString()).ok().out();
      sh(60, "umount", fs.toString()).ok();
      Run fsck = sh(300, "e2fsck", "-fn", loop);
      assertThat(fsck.exitCode()).as("e2fsck -fn: %s %s", fsck.out(), fsck.err()).isZero();
      long trimmedDu = du(dir);
      System.out.printf(
          Locale.ROOT,
          "mkfs/fstrim: du after mkfs %d, with 96 MiB %d, after fstrim %d (%s)%n",
          afterMkfs,
          full,
          trimmedDu,
          trimmed.strip());
      assertThat(full - afterMkfs).isGreaterThan(90L << 20);
      assertThat(trimmedDu)
          .as("fstrim punched the file's clusters")
          .isLessThan(afterMkfs + (8L << 20));
    } finally {
      sh(60, "umount", fs.toString());
      sh(60, "losetup", "-d", loop);
    }
    assertThat(liveStatus().path("frontend").path("errors").asLong()).isZero();
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
  }

  @Test
  void testUmountWhileFioRuns_refused_nothingLost() throws Exception {
    ploop("init", "-s", "256M", "-t", "none", image.toString()).ok();
    Path img = Path.of(mount(xml.toString()).ok().out().strip());
    String loop =
        sh(60, "losetup", "--find", "--show", "--direct-io=on", img.toString()).ok().out().strip();
    Process fio =
        new ProcessBuilder(
                "fio",
                "--name=busy",
                "--filename=" + loop,
                "--rw=randwrite",
                "--bsrange=4k-1m",
                "--iodepth=32",
                "--ioengine=libaio",
                "--direct=1",
                "--size=160M",
                "--rate=16m",
                "--verify=crc32c",
                "--verify_fatal=1",
                "--do_verify=1",
                "--randseed=12")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("fio.log").toFile())
            .start();
    try {
      Thread.sleep(1500);
      assertThat(fio.isAlive()).as("fio still running when umount is tried").isTrue();
      Run busy = ploop("umount", xml.toString());
      assertThat(busy.exitCode()).as("umount while fio runs: %s", busy.err()).isEqualTo(46);
      assertThat(busy.err()).contains(loop, "in use by", "(fio)");
      MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
      assertThat(st.state()).isEqualTo(MountStatus.READY);
      assertThat(st.daemonAlive()).isTrue();
      assertThat(MountTable.at(Path.of(st.fuseDir()))).isPresent();
      assertThat(fio.waitFor(300, TimeUnit.SECONDS)).isTrue();
      assertThat(fio.exitValue()).as(Files.readString(dir.resolve("fio.log"))).isZero();
      assertThat(Files.readString(dir.resolve("fio.log"))).contains("err= 0");
    } finally {
      fio.destroyForcibly().waitFor();
    }
    assertThat(LoopDevice.backedBy(img)).as("the loop device left alone").hasSize(1);
    ploop("umount", xml.toString()).ok();
    assertThat(LoopDevice.backedBy(img)).isEmpty();
    qemuCheckClean(image);
    ploop("check", "-c", image.toString()).ok();
  }

  /**
   * Starts a reader of {@code img} that opens it now and reads 2 x 64 KiB once the daemon is
   * stopped, and returns it once its first READ is queued in the kernel.
   */
  private Process queuedReader(Path img, MountStatus st, Path waiting) throws Exception {
    Process dd =
        new ProcessBuilder(
                "bash",
                "-c",
                "exec 3<" + img + "; sleep 2 3<&-; exec dd" + " of=/dev/null bs=64k count=2 <&3")
            .redirectErrorStream(true)
            .start();
    Path proc = Path.of("/proc", Long.toString(dd.pid()));
    long end = System.currentTimeMillis() + 10_000;
    // stop the daemon only once the sleep runs: its child closed fd 3 before exec'ing sleep, and
    // that close sends a FLUSH, which a stopped daemon would never answer
    while (!childRuns(proc, "sleep")) {
      assertThat(System.currentTimeMillis()).as("disk.img opened, sleep started").isLessThan(end);
      Thread.sleep(10);
    }
    sh(10, "kill", "-STOP", Long.toString(st.pid())).ok();
    while (!Files.readString(proc.resolve("comm")).strip().equals("dd")
        || Integer.parseInt(Files.readString(waiting).strip()) == 0) {
      assertThat(System.currentTimeMillis()).as("dd's READ is queued").isLessThan(end);
      Thread.sleep(10);
    }
    return dd;
  }

  /** Whether process {@code proc} has a child whose command is {@code comm}. */
  private static boolean childRuns(Path proc, String comm) throws IOException {
    Path children = proc.resolve("task").resolve(proc.getFileName()).resolve("children");
    if (!Files.exists(children)) {
      return false;
    }
    for (String pid : Files.readString(children).trim().split("\\s+")) {
      if (pid.isEmpty()) {
        continue;
      }
      try {
        if (Files.readString(Path.of("/proc", pid, "comm")).strip().equals(comm)) {
          return true;
        }
      } catch (IOException e) {
        // the child is gone already
      }
    }
    return false;
  }

  /**
   * Readers signalled while their READ waits in the kernel's queue (the daemon stopped): one with a
   * handler (SIGUSR1, dd prints its counts; not fatal, so the request stays and completes once the
   * daemon runs again), one killed (SIGKILL: the kernel withdraws the request it has not sent; the
   * reader's last close still waits for its FLUSH). The daemon goes on serving with no error. An
   * INTERRUPT for a request the daemon holds is EnospcIT's (a parked write).
   */
  @Test
  void testReadersSignalledWhileTheirRequestWaits() throws Exception {
    ploop("init", "-s", "64M", "-t", "none", image.toString()).ok();
    Path img = Path.of(mount(xml.toString()).ok().out().strip());
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    Path waiting = connection(img).resolve("waiting");
    Process handled = null;
    Process killed = null;
    try {
      handled = queuedReader(img, st, waiting);
      sh(10, "kill", "-USR1", Long.toString(handled.pid())).ok();
      Thread.sleep(200);
      assertThat(handled.isAlive()).as("the reader waits for its request").isTrue();
      sh(10, "kill", "-CONT", Long.toString(st.pid())).ok();
      assertThat(handled.waitFor(30, TimeUnit.SECONDS)).as("the reader ends").isTrue();
      String out = readAll(handled.getInputStream());
      assertThat(handled.exitValue()).as(out).isZero();
      assertThat(out.split("records in", -1))
          .as("dd's counts on SIGUSR1 and at the end: %s", out)
          .hasSize(3);
      assertThat(out).contains("2+0 records in");

      killed = queuedReader(img, st, waiting);
      sh(10, "kill", "-KILL", Long.toString(killed.pid())).ok();
      // the kernel withdraws the unsent READ; the dying reader's close still sends a FLUSH,
      // which cannot be interrupted and waits for the daemon
      sh(10, "kill", "-CONT", Long.toString(st.pid())).ok();
      assertThat(killed.waitFor(10, TimeUnit.SECONDS))
          .as("killed while its request is queued")
          .isTrue();
    } finally {
      sh(10, "kill", "-CONT", Long.toString(st.pid())).ok();
      for (Process p : new Process[] {handled, killed}) {
        if (p != null) {
          p.destroyForcibly();
        }
      }
    }
    assertThat(sh(30, "dd", "if=" + img, "of=/dev/null", "bs=64k", "count=16").exitCode())
        .as("the daemon still serves")
        .isZero();
    assertThat(liveStatus().path("frontend").path("errors").asLong()).isZero();
    ploop("umount", xml.toString()).ok();
  }

  @Test
  void testFusectlAbort_daemonStopsCleanly_imageCheckable() throws Exception {
    ploop("init", "-s", "256M", image.toString()).ok();
    mount("-m", mnt.toString(), xml.toString()).ok();
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    sh(120, "dd", "if=/dev/urandom", "of=" + mnt.resolve("f"), "bs=1M", "count=8", "conv=fsync")
        .ok();
    String sum = sha256(mnt.resolve("f"));
    Path abort = connection(Path.of(st.diskImage())).resolve("abort");
    Files.writeString(abort, "1");
    awaitExit(st.pid(), 60_000);
    assertThat(daemonLog(st)).contains("connection aborted", "stopped cleanly");
    assertThat(MountStatus.forDescriptor(xml)).as("status cleared").isEmpty();
    assertThat(MountTable.at(mnt.toRealPath())).as("ext4 unmounted").isEmpty();
    assertThat(LoopDevice.backedBy(Path.of(st.diskImage()))).as("loop detached").isEmpty();
    assertThat(MountTable.at(Path.of(st.fuseDir()))).as("FUSE unmounted").isEmpty();
    try (FileBlockFile f = FileBlockFile.open(image, true)) {
      assertThat(ImageReader.readHeader(f).inUse()).as("closed cleanly").isFalse();
    }
    qemuCheckClean(image);
    ploop("check", "-c", image.toString()).ok();
    mount("-m", mnt.toString(), xml.toString()).ok();
    assertThat(sha256(mnt.resolve("f"))).as("the file fsync'ed before the abort").isEqualTo(sum);
    ploop("umount", xml.toString()).ok();
  }

  @Test
  void testUnmountBehindOurBack_daemonStopsCleanly() throws Exception {
    ploop("init", "-s", "64M", "-t", "none", image.toString()).ok();
    mount(xml.toString()).ok();
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    sh(30, "umount", st.fuseDir()).ok();
    awaitExit(st.pid(), 30_000);
    assertThat(daemonLog(st)).contains("unmounted (ENODEV)", "stopped cleanly");
    assertThat(MountStatus.forDescriptor(xml)).isEmpty();
    assertThat(new File(st.fuseDir()).getParentFile()).as("run directory").doesNotExist();
    try (FileBlockFile f = FileBlockFile.open(image, true)) {
      assertThat(ImageReader.readHeader(f).inUse()).isFalse();
    }
    mount(xml.toString()).ok();
    ploop("umount", xml.toString()).ok();
  }
}
