package org.jploop.daemon;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.frontend.FrontendOptions;
import org.jploop.host.DeviceName;
import org.jploop.host.EventLog;
import org.jploop.host.HostCommand;
import org.jploop.host.InnerMount;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountException;
import org.jploop.host.MountTable;
import org.jploop.host.RunPaths;
import org.jploop.image.ImageOperationException;

/**
 * The command side of {@code ploop mount} and {@code ploop umount}: starts the {@link MountDaemon}
 * as a detached child JVM ({@code setsid java -jar jploop.jar daemon ...}, stdin from /dev/null,
 * output appended to its log), waits until its status says ready, and with a mount point attaches
 * a loop device and mounts the inner filesystem. Unmounting asks the daemon to {@code stop} over
 * its control socket and waits for it to exit; if the daemon is dead (killed), it cleans up the
 * leftovers itself. Stateless; every call reads the status files afresh.
 */
public final class DiskMounter {
  private static final long READY_TIMEOUT_MS = 60_000;
  /** Environment variable with extra JVM options for the daemon (e.g. -XX:StartFlightRecording). */
  static final String DAEMON_JAVA_OPTS_ENV = "JPLOOP_DAEMON_JAVA_OPTS";
  private static final long STOP_TIMEOUT_MS = 180_000;

  private final Path jar;
  private final EventLog log;

  /** Uses {@code jar} to start daemons; {@code log} receives progress lines. */
  public DiskMounter(Path jar, EventLog log) {
    this.jar = jar;
    this.log = log;
  }

  /**
   * Returns the jar this code runs from, or the system property {@code jploop.jar} (tests), or
   * throws if neither is a jar file.
   */
  public static Path ownJar() throws IOException {
    String prop = System.getProperty("jploop.jar");
    if (prop != null && !prop.isEmpty()) {
      return Path.of(prop);
    }
    try {
      Path p = Path.of(DiskMounter.class.getProtectionDomain().getCodeSource().getLocation()
          .toURI());
      if (Files.isRegularFile(p)) {
        return p;
      }
      throw new IOException("jploop is not running from a jar (" + p + "); set -Djploop.jar");
    } catch (URISyntaxException e) {
      throw new IOException("cannot locate the jploop jar", e);
    }
  }

  /**
   * Mounts {@code xml}: starts the daemon and, if {@code mountPoint} is given, attaches a loop
   * device and mounts the filesystem there. Returns the daemon's status.
   */
  public MountStatus mount(Path xml, Path mountPoint, Path fuseDir, boolean readOnly)
      throws IOException {
    return mount(xml, mountPoint, fuseDir, readOnly, InnerMount.DEFAULT, null);
  }

  /**
   * Like {@link #mount(Path, Path, Path, boolean)}, mounting the filesystem as {@code inner} says
   * (type, options, fsck first) and serving the disk as of snapshot {@code snapshotGuid} (null:
   * the top; checked by the caller).
   */
  public MountStatus mount(Path xml, Path mountPoint, Path fuseDir, boolean readOnly,
      InnerMount inner, String snapshotGuid) throws IOException {
    return mount(xml, mountPoint, fuseDir, readOnly, inner, snapshotGuid,
        FrontendOptions.DEFAULT, null);
  }

  /**
   * Like {@link #mount(Path, Path, Path, boolean, InnerMount, String)}, with the daemon serving
   * {@code disk.img} through the front end {@code frontend} says; with a mount point or a
   * {@code device} (ploop's {@code -d}, e.g. {@code /dev/ploop0}) a loop device is attached and
   * given that ploop name, or a free one ({@link DeviceName#linkFree}) without {@code -d}; with
   * neither only {@code disk.img} is served. The name is linked before the filesystem is mounted
   * and removed again if the mount fails.
   */
  public MountStatus mount(Path xml, Path mountPoint, Path fuseDir, boolean readOnly,
      InnerMount inner, String snapshotGuid, FrontendOptions frontend, DeviceName device)
      throws IOException {
    return mount(xml, mountPoint, fuseDir, readOnly, inner, snapshotGuid, frontend, device, null);
  }

  /**
   * Like {@link #mount(Path, Path, Path, boolean, InnerMount, String, FrontendOptions,
   * DeviceName)} as component {@code component} (null: the plain mount): a second daemon beside
   * the plain one, always read-only ({@link MountDaemon}); mounted under that component already →
   * ploop's "Image %s already used by device %s".
   */
  public MountStatus mount(Path xml, Path mountPoint, Path fuseDir, boolean readOnly,
      InnerMount inner, String snapshotGuid, FrontendOptions frontend, DeviceName device,
      String component) throws IOException {
    if (!Files.isRegularFile(xml)) {
      throw new java.nio.file.NoSuchFileException(xml.toString(), null, "No such file");
    }
    readOnly = readOnly || component != null;
    Optional<MountStatus> existing = MountStatus.forDescriptor(xml, component);
    if (existing.isPresent() && existing.get().daemonAlive() && component != null) {
      throw new MountException(MountException.Reason.ALREADY_MOUNTED, "Image " + xml.toRealPath()
          + " already used by device " + deviceOf(existing.get()));
    }
    ComponentGuard.refuseSharedTop(xml, readOnly, snapshotGuid, component);
    if (existing.isPresent() && existing.get().daemonAlive()) {
      throw new MountException(MountException.Reason.ALREADY_MOUNTED, "Image " + xml.toRealPath()
          + " is already mounted (pid " + existing.get().pid() + ", " + existing.get().diskImage()
          + ")");
    }
    if (mountPoint != null) {
      checkMountPoint(mountPoint);
    }
    if (device != null && device.exists()) {
      throw new MountException(MountException.Reason.DEVICE, "Failed to create ploop device "
          + device.path() + ": File exists");
    }
    MountStatus st = startDaemon(xml, fuseDir, readOnly, snapshotGuid, frontend, component);
    if (mountPoint == null && device == null) {
      return st;
    }
    LoopDevice loop = null;
    try {
      loop = LoopDevice.attach(Path.of(st.diskImage()), readOnly);
      String dev = loop.filesystemDevice();
      String part = dev.equals(loop.device()) ? null : dev;
      DeviceName name = device == null ? DeviceName.linkFree(loop, part) : device;
      if (device != null) {
        device.link(loop, part);
      }
      log.info("device " + name.path() + " -> " + loop.device());
      if (mountPoint == null) {
        control(st, "attach loop=" + loop.device());
        return st.withAttachment(loop.device(), null);
      }
      if (inner.fsck()) {
        fsck(inner.fsckCommand(dev, readOnly));
      }
      List<String> argv = inner.mountCommand(dev,
          mountPoint.toAbsolutePath().normalize().toString(), readOnly);
      HostCommand c = HostCommand.run(300, argv.toArray(String[]::new));
      if (!c.ok()) {
        throw new MountException(MountException.Reason.MOUNT_FAILED, c.describeFailure());
      }
      String mnt = mountPoint.toRealPath().toString();
      control(st, "attach loop=" + loop.device() + " mnt=" + mnt);
      return st.withAttachment(loop.device(), mnt);
    } catch (IOException | RuntimeException e) {
      try {
        if (loop != null) {
          DeviceName.unlinkAll(loop);
          loop.detach();
        }
        stop(st);
      } catch (IOException e2) {
        e.addSuppressed(e2);
      }
      throw e;
    }
  }

  static String deviceOf(MountStatus st) {
    return st.loopDevice() == null ? st.diskImage() : st.loopDevice();
  }

  /** What {@link #withDiskImage} runs on the served {@code disk.img}. */
  @FunctionalInterface
  public interface ImageAction {
    /** Works on {@code diskImage}, the served {@code disk.img}. */
    void run(Path diskImage) throws IOException;
  }

  /**
   * Serves the disk of {@code xml} with no mount point (read-write), runs {@code action} on its
   * {@code disk.img} and unmounts again, also when {@code action} fails; the image is left closed
   * cleanly. For offline work through the block layer: partitioning and mkfs at init.
   */
  public void withDiskImage(Path xml, ImageAction action) throws IOException {
    MountStatus st = mount(xml, null, null, false);
    IOException failure = null;
    try {
      action.run(Path.of(st.diskImage()));
    } catch (IOException e) {
      failure = e;
    } finally {
      try {
        umount(st);
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * Runs fsck; exit 0 (clean), 1 (errors fixed) and 2 (fixed, reboot advised: not for a
   * filesystem that is not mounted) let the mount go on, anything else refuses it.
   */
  private void fsck(List<String> argv) throws IOException {
    HostCommand c = HostCommand.run(3600, argv.toArray(String[]::new));
    if (c.exitCode() == 1 || c.exitCode() == 2) {
      log.info(String.join(" ", argv) + ": errors were corrected");
    } else if (!c.ok()) {
      throw new MountException(MountException.Reason.FSCK_FAILED, c.describeFailure());
    }
  }

  /** Refuses a mount point that is missing, not a directory, or already a mount point. */
  static void checkMountPoint(Path mnt) throws IOException {
    if (!Files.isDirectory(mnt)) {
      throw new MountException(MountException.Reason.BAD_MOUNT_POINT,
          "Mount point " + mnt + " not a directory");
    }
    Optional<MountTable.Entry> e = MountTable.at(mnt.toRealPath());
    if (e.isPresent()) {
      throw new MountException(MountException.Reason.BAD_MOUNT_POINT, "Mount point " + mnt
          + " is busy: " + e.get().source() + " (" + e.get().fsType() + ") is mounted there");
    }
  }

  private MountStatus startDaemon(Path xml, Path fuseDir, boolean readOnly, String snapshotGuid,
      FrontendOptions frontend, String component) throws IOException {
    RunPaths paths = RunPaths.of(xml, component);
    paths.createDirs();
    Path logFile = paths.logFile();
    long logStart = Files.exists(logFile) ? Files.size(logFile) : 0;
    List<String> argv = new ArrayList<>();
    argv.add("setsid");
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String prop : List.of("jploop.run.dir", "jploop.log.dir")) {
      if (System.getProperty(prop) != null) {
        argv.add("-D" + prop + "=" + System.getProperty(prop));
      }
    }
    argv.addAll(archiveOptions(jar));
    argv.addAll(daemonHeapOptions(DiskDescriptor.read(paths.descriptor())));
    // extra JVM options for the daemon only (profiling: JFR, GC logs), split at whitespace; they
    // come after the defaults, so an -Xmx here wins
    String daemonOpts = System.getenv(DAEMON_JAVA_OPTS_ENV);
    if (daemonOpts != null && !daemonOpts.isBlank()) {
      argv.addAll(List.of(daemonOpts.trim().split("\\s+")));
    }
    argv.addAll(List.of("-jar", jar.toString(), "daemon"));
    argv.addAll(frontend.daemonArgs());
    if (fuseDir != null) {
      argv.addAll(List.of("--fuse-dir", fuseDir.toAbsolutePath().toString()));
    }
    if (readOnly) {
      argv.add("-r");
    }
    if (snapshotGuid != null) {
      argv.addAll(List.of("-u", snapshotGuid));
    }
    if (component != null) {
      argv.addAll(List.of("-c", component));
    }
    argv.add(paths.descriptor().toString());
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    Process p = pb.start();
    log.info("started mount daemon pid " + p.pid() + ", log " + logFile);
    return awaitReady(p, paths, logFile, logStart);
  }

  /**
   * Waits until the daemon {@code p} publishes a ready status, woken by the events themselves:
   * an inotify watch on the run directory (the status file is renamed into place) and the exit
   * of the child; the 250 ms timeout only bounds the wait if an event were missed (the watch
   * queue overflowing, say).
   */
  private static MountStatus awaitReady(Process p, RunPaths paths, Path logFile, long logStart)
      throws IOException {
    long deadline = System.currentTimeMillis() + READY_TIMEOUT_MS;
    try (WatchService ws = paths.statusFile().getFileSystem().newWatchService()) {
      paths.runDir().register(ws, StandardWatchEventKinds.ENTRY_CREATE,
          StandardWatchEventKinds.ENTRY_MODIFY);
      // an exit wakes the wait at once: closing the service ends a poll in progress
      // nothing to wait for: the callback only ends the poll below
      var unused = p.onExit().thenRun(() -> {
        try {
          ws.close();
        } catch (IOException e) {
          // the wait below finds the exit on its next round
        }
      });
      while (true) {
        Optional<MountStatus> st = MountStatus.read(paths.statusFile());
        if (st.isPresent() && st.get().pid() == p.pid()
            && MountStatus.READY.equals(st.get().state())) {
          return st.get();
        }
        if (!p.isAlive()) {
          throw new DaemonExitException(p.exitValue(), lastLine(logFile, logStart));
        }
        if (System.currentTimeMillis() > deadline) {
          p.destroy();
          throw new MountException(MountException.Reason.MOUNT_FAILED, "The mount daemon (pid "
              + p.pid() + ") was not ready within " + READY_TIMEOUT_MS / 1000 + " s; see "
              + logFile);
        }
        try {
          WatchKey key = ws.poll(250, TimeUnit.MILLISECONDS);
          if (key != null) {
            key.pollEvents();
            key.reset();
          }
        } catch (ClosedWatchServiceException e) {
          // the daemon exited: the next round reports it
          try {
            p.waitFor();
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for the mount daemon", ie);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted waiting for the mount daemon", e);
        }
      }
    }
  }

  /**
   * JVM options that bound the daemon's memory: the serial collector (the FUSE threads allocate
   * little, so there is no need for a parallel one, and it returns memory) and a heap sized from the disk: 48 MiB of base, the
   * merged BAT (about 5 bytes per cluster in md pages) plus each delta's raw BAT read at open (4
   * bytes per cluster per delta), and four clusters of copy buffers (COW). A 1 TiB disk with 1 MiB
   * clusters and one delta gets 64 MiB.
   */
  static List<String> daemonHeapOptions(DiskDescriptor d) {
    long clusters = (d.diskSizeSectors() + d.blocksize() - 1) / d.blocksize();
    long clusterBytes = d.blocksize() * 512L;
    long bytes = (48L << 20) + clusters * (8 + 4L * d.images().size()) + 4 * clusterBytes;
    long mib = (bytes + (1 << 20) - 1) >> 20;
    return List.of("-XX:+UseSerialGC", "-Xmx" + mib + "m");
  }

  /**
   * JVM options that map the class-data-sharing archive built with {@code jar} ({@code
   * jploop.jsa} beside it, see {@code StartupTraining}) when it exists and is not older than the
   * jar (a static archive the JVM rejects leaves it with no archive at all, not even the JDK's);
   * {@code -Xshare:auto} makes the JVM ignore one that is mismatched or corrupt, and the log
   * tags keep that out of the daemon's log. The JVM's default relocation of the archive (a random
   * address, which patches its pages into private memory: 75 instead of 62 MiB of PSS a daemon
   * measured with {@code src/bench/disks.sh}) is kept: the daemon is a root process serving the
   * kernel, and address randomisation is worth more than 13 MiB. No options without an archive. The daemon otherwise keeps the JVM's compilers: it serves I/O for as
   * long as the disk is mounted.
   */
  static List<String> archiveOptions(Path jar) {
    String name = jar.getFileName().toString();
    Path jsa = jar.resolveSibling((name.endsWith(".jar") ? name.substring(0, name.length() - 4)
        : name) + ".jsa");
    try {
      if (!Files.isRegularFile(jsa) || Files.getLastModifiedTime(jar)
          .compareTo(Files.getLastModifiedTime(jsa)) > 0) {
        return List.of();
      }
    } catch (IOException e) {
      return List.of();
    }
    return List.of("-Xshare:auto", "-XX:SharedArchiveFile=" + jsa, "-Xlog:cds=off",
        "-Xlog:cds+dynamic=off");
  }

  /** Returns the last non-empty line written to {@code log} after {@code from}. */
  static String lastLine(Path log, long from) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
      long len = f.length();
      long start = Math.max(from, len - 64 * 1024);
      byte[] b = new byte[(int) (len - start)];
      f.seek(start);
      f.readFully(b);
      String text = new String(b, StandardCharsets.UTF_8);
      return text.lines().filter(l -> !l.isBlank()).reduce((a, c) -> c)
          .orElse("the mount daemon exited; see " + log);
    }
  }

  private static String control(MountStatus st, String request) throws IOException {
    String reply = ControlServer.send(socketOf(st), request);
    if (reply.startsWith("error")) {
      String[] w = reply.split(" ", 3);
      MountException.Reason reason = MountException.Reason.UMOUNT_FAILED;
      String msg = reply.substring(5).strip();
      if (w.length == 3) {
        try {
          reason = MountException.Reason.valueOf(w[1]);
          msg = w[2];
        } catch (IllegalArgumentException e) {
          // an error without a reason word
        }
      }
      throw new MountException(reason, msg);
    }
    if (!reply.startsWith("ok")) {
      throw new MountException(MountException.Reason.UMOUNT_FAILED,
          "The mount daemon (pid " + st.pid() + ") gave no answer to '" + request + "'");
    }
    return reply;
  }

  /**
   * Sends {@code request} to the daemon serving {@code st} (an online operation) and returns its
   * reply line as is: {@code ok [text]} or {@code error [REASON] text}. Waits as long as it takes.
   */
  public static String request(MountStatus st, String request) throws IOException {
    return ControlServer.send(socketOf(st), request);
  }

  /**
   * Like {@link #request} for an online operation: returns the text after {@code ok}, or throws
   * the failure the daemon reports ({@link MountException} with its reason, {@link
   * ImageOperationException} with its kind, else an IOException with the text).
   */
  public static String requestOk(MountStatus st, String request) throws IOException {
    String reply = request(st, request);
    if (reply.equals("ok") || reply.startsWith("ok ")) {
      return reply.substring(2).strip();
    }
    if (!reply.startsWith("error")) {
      throw new IOException("The mount daemon (pid " + st.pid() + ") gave no answer to '"
          + request + "'; see " + st.logFile());
    }
    String[] w = reply.split(" ", 3);
    if (w.length == 3) {
      for (ImageOperationException.Kind k : ImageOperationException.Kind.values()) {
        if (k.name().equals(w[1])) {
          throw new ImageOperationException(k, w[2]);
        }
      }
      for (MountException.Reason r : MountException.Reason.values()) {
        if (r.name().equals(w[1])) {
          throw new MountException(r, w[2]);
        }
      }
    }
    throw new IOException(reply.substring(5).strip());
  }

  private static Path socketOf(MountStatus st) throws IOException {
    return st.runPaths().controlSocket();
  }

  /** Returns the status of the mount of {@code xml}, or throws NOT_MOUNTED. */
  public static MountStatus statusOf(Path xml) throws IOException {
    return statusOf(xml, null);
  }

  /** Returns the status of the mount of {@code xml} as {@code component}, or NOT_MOUNTED. */
  public static MountStatus statusOf(Path xml, String component) throws IOException {
    return MountStatus.forDescriptor(xml, component).orElseThrow(() -> new MountException(
        MountException.Reason.NOT_MOUNTED, "Image " + xml + " is not mounted"
        + (component == null ? "" : " as component " + component)));
  }

  /**
   * Returns the status of the mount whose inner filesystem is at {@code mnt}, or throws REFUSED
   * with ploop's "Unable to find ploop device by MNT" (exit 38).
   */
  public static MountStatus statusByMountPoint(Path mnt) throws IOException {
    String want = mnt.toAbsolutePath().normalize().toString();
    String real = Files.exists(mnt) ? mnt.toRealPath().toString() : want;
    for (MountStatus st : MountStatus.all()) {
      if (want.equals(st.mountPoint()) || real.equals(st.mountPoint())) {
        return st;
      }
    }
    throw new MountException(MountException.Reason.REFUSED,
        "Unable to find ploop device by " + mnt);
  }

  /**
   * Returns the status of the mount attached as {@code device} (a ploop name, {@code p1} allowed,
   * or its loop device), or throws DEV_NOT_MOUNTED naming it.
   */
  public static MountStatus statusByDevice(String device) throws IOException {
    return BalloonTarget.statusOfDevice(device).orElseThrow(() -> new MountException(
        MountException.Reason.NOT_MOUNTED, "Device " + device + " is not a mounted ploop device"));
  }

  /** Unmounts: asks the daemon to stop (or cleans up after a dead one) and waits for its exit. */
  public void umount(MountStatus st) throws IOException {
    if (st.daemonAlive()) {
      stop(st);
      return;
    }
    recoverDead(st);
  }

  private void stop(MountStatus st) throws IOException {
    control(st, "stop");
    long deadline = System.currentTimeMillis() + STOP_TIMEOUT_MS;
    while (MountStatus.running(st.pid())) {
      if (System.currentTimeMillis() > deadline) {
        throw new MountException(MountException.Reason.UMOUNT_FAILED, "The mount daemon (pid "
            + st.pid() + ") did not exit within " + STOP_TIMEOUT_MS / 1000 + " s; see "
            + st.logFile());
      }
      LoopDevice.sleep(5);
    }
  }

  /**
   * Cleans up after a daemon that died without stopping (kill -9): unmounts filesystems on loop
   * devices over its disk.img, detaches them, removes the dead FUSE mount, the status file, the
   * control socket and the run directory once empty. The image itself may be left dirty; the
   * caller tells the user to run {@code ploop check}.
   */
  private void recoverDead(MountStatus st) throws IOException {
    log.info("the mount daemon (pid " + st.pid() + ") is not running; cleaning up after it");
    Path img = Path.of(st.diskImage());
    for (LoopDevice loop : LoopDevice.backedBy(img)) {
      for (MountTable.Entry m : MountTable.fromDevice(loop.device())) {
        HostCommand c = HostCommand.run(120, "umount", m.mountPoint());
        if (!c.ok()) {
          throw new MountException(MountException.Reason.BUSY, c.describeFailure());
        }
      }
      DeviceName.unlinkAll(loop);
      loop.detach();
    }
    Path dir = Path.of(st.fuseDir());
    if (MountTable.at(dir).isPresent()) {
      HostCommand c = HostCommand.run(30, "umount", dir.toString());
      if (!c.ok()) {
        HostCommand.runChecked(30, "fusermount", "-u", "-z", dir.toString());
      }
    }
    RunPaths paths = st.runPaths();
    Files.deleteIfExists(paths.statusFile());
    Files.deleteIfExists(paths.controlSocket());
    try {
      paths.removeEmptyDirs(dir);
    } catch (IOException e) {
      log.info("run directory " + paths.runDir() + " left in place: " + e);
    }
  }
}
