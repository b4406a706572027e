package org.jploop.daemon;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jploop.frontend.FrontendOptions;
import org.jploop.host.DeviceName;
import org.jploop.host.EventLog;
import org.jploop.host.HostCommand;
import org.jploop.host.InnerMount;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountException;
import org.jploop.host.MountTable;
import org.jploop.image.ImageOperationException;

/**
 * The command side of {@code ploop mount} and {@code ploop umount}: has the disk served, by the
 * {@link HostDaemon} ({@link HostClient}, which starts one if none runs) or, for the mounts a host
 * does not take ({@link #hosted}), by a {@link MountDaemon} process of its own ({@link
 * DaemonLauncher}); then, with a mount point, attaches a loop device and mounts the inner
 * filesystem. Unmounting asks the disk's daemon to {@code stop} over the disk's control socket; if
 * the daemon is dead (killed), it cleans up the leftovers itself ({@link DeadMount}). Also the
 * client of the per-disk control socket for the online verbs ({@link #request}). Stateless; every
 * call reads the status files afresh.
 */
public final class DiskMounter {
  private static final long STOP_TIMEOUT_MS = 180_000;

  private final DaemonLauncher launcher;
  private final EventLog log;

  /** Uses {@code jar} to start daemons; {@code log} receives progress lines. */
  public DiskMounter(Path jar, EventLog log) {
    this.launcher = new DaemonLauncher(jar, log);
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
      Path p =
          Path.of(DiskMounter.class.getProtectionDomain().getCodeSource().getLocation().toURI());
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
   * (type, options, fsck first) and serving the disk as of snapshot {@code snapshotGuid} (null: the
   * top; checked by the caller).
   */
  public MountStatus mount(
      Path xml,
      Path mountPoint,
      Path fuseDir,
      boolean readOnly,
      InnerMount inner,
      String snapshotGuid)
      throws IOException {
    return mount(
        xml, mountPoint, fuseDir, readOnly, inner, snapshotGuid, FrontendOptions.DEFAULT, null);
  }

  /**
   * Like {@link #mount(Path, Path, Path, boolean, InnerMount, String)}, with the daemon serving
   * {@code disk.img} through the front end {@code frontend} says; with a mount point or a {@code
   * device} (ploop's {@code -d}, e.g. {@code /dev/ploop0}) a loop device is attached and given that
   * ploop name, or a free one ({@link DeviceName#linkFree}) without {@code -d}; with neither only
   * {@code disk.img} is served. The name is linked before the filesystem is mounted and removed
   * again if the mount fails.
   */
  public MountStatus mount(
      Path xml,
      Path mountPoint,
      Path fuseDir,
      boolean readOnly,
      InnerMount inner,
      String snapshotGuid,
      FrontendOptions frontend,
      DeviceName device)
      throws IOException {
    return mount(xml, mountPoint, fuseDir, readOnly, inner, snapshotGuid, frontend, device, null);
  }

  /**
   * Like {@link #mount(Path, Path, Path, boolean, InnerMount, String, FrontendOptions, DeviceName)}
   * as component {@code component} (null: the plain mount): a second daemon beside the plain one,
   * always read-only ({@link MountDaemon}); mounted under that component already → ploop's "Image
   * %s already used by device %s".
   */
  public MountStatus mount(
      Path xml,
      Path mountPoint,
      Path fuseDir,
      boolean readOnly,
      InnerMount inner,
      String snapshotGuid,
      FrontendOptions frontend,
      DeviceName device,
      String component)
      throws IOException {
    if (!Files.isRegularFile(xml)) {
      throw new java.nio.file.NoSuchFileException(xml.toString(), null, "No such file");
    }
    readOnly = readOnly || component != null;
    Optional<MountStatus> existing = MountStatus.forDescriptor(xml, component);
    if (existing.isPresent() && existing.get().daemonAlive() && component != null) {
      throw new MountException(
          MountException.Reason.ALREADY_MOUNTED,
          "Image " + xml.toRealPath() + " already used by device " + deviceOf(existing.get()));
    }
    ComponentGuard.refuseSharedTop(xml, readOnly, snapshotGuid, component);
    if (existing.isPresent() && existing.get().daemonAlive()) {
      throw new MountException(
          MountException.Reason.ALREADY_MOUNTED,
          "Image "
              + xml.toRealPath()
              + " is already mounted (pid "
              + existing.get().pid()
              + ", "
              + existing.get().diskImage()
              + ")");
    }
    if (mountPoint != null) {
      checkMountPoint(mountPoint);
    }
    if (device != null && device.exists()) {
      throw new MountException(
          MountException.Reason.DEVICE,
          "Failed to create ploop device " + device.path() + ": File exists");
    }
    MountStatus st =
        hosted(frontend, component)
            ? new HostClient(launcher).mount(xml, fuseDir, readOnly, snapshotGuid, frontend)
            : launcher.startDiskDaemon(xml, fuseDir, readOnly, snapshotGuid, frontend, component);
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
      List<String> argv =
          inner.mountCommand(dev, mountPoint.toAbsolutePath().normalize().toString(), readOnly);
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

  /**
   * Whether the host daemon serves such a mount: the kernel front end's plain mounts. The jnr-fuse
   * front end keeps a process per disk (libfuse 2.9's high-level loop and its signal handlers are
   * one per process); a component mount ({@code -c}, {@code tsnapshot}) does too: it is
   * short-lived, and its own process keeps its lock file apart from the plain mount's.
   */
  static boolean hosted(FrontendOptions frontend, String component) {
    return component == null && frontend.name().equals(FrontendOptions.KERNEL);
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
   * Runs fsck; exit 0 (clean), 1 (errors fixed) and 2 (fixed, reboot advised: not for a filesystem
   * that is not mounted) let the mount go on, anything else refuses it.
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
      throw new MountException(
          MountException.Reason.BAD_MOUNT_POINT, "Mount point " + mnt + " not a directory");
    }
    Optional<MountTable.Entry> e = MountTable.at(mnt.toRealPath());
    if (e.isPresent()) {
      throw new MountException(
          MountException.Reason.BAD_MOUNT_POINT,
          "Mount point "
              + mnt
              + " is busy: "
              + e.get().source()
              + " ("
              + e.get().fsType()
              + ") is mounted there");
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
      throw new MountException(
          MountException.Reason.UMOUNT_FAILED,
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
   * Like {@link #request} for an online operation: returns the text after {@code ok}, or throws the
   * failure the daemon reports ({@link MountException} with its reason, {@link
   * ImageOperationException} with its kind, else an IOException with the text).
   */
  public static String requestOk(MountStatus st, String request) throws IOException {
    String reply = request(st, request);
    if (reply.equals("ok") || reply.startsWith("ok ")) {
      return reply.substring(2).strip();
    }
    if (!reply.startsWith("error")) {
      throw new IOException(
          "The mount daemon (pid "
              + st.pid()
              + ") gave no answer to '"
              + request
              + "'; see "
              + st.logFile());
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
    return MountStatus.forDescriptor(xml, component)
        .orElseThrow(
            () ->
                new MountException(
                    MountException.Reason.NOT_MOUNTED,
                    "Image "
                        + xml
                        + " is not mounted"
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
    throw new MountException(
        MountException.Reason.REFUSED, "Unable to find ploop device by " + mnt);
  }

  /**
   * Returns the status of the mount attached as {@code device} (a ploop name, {@code p1} allowed,
   * or its loop device), or throws DEV_NOT_MOUNTED naming it.
   */
  public static MountStatus statusByDevice(String device) throws IOException {
    return BalloonTarget.statusOfDevice(device)
        .orElseThrow(
            () ->
                new MountException(
                    MountException.Reason.NOT_MOUNTED,
                    "Device " + device + " is not a mounted ploop device"));
  }

  /** Unmounts: asks the daemon to stop (or cleans up after a dead one) and waits for its exit. */
  public void umount(MountStatus st) throws IOException {
    if (st.daemonAlive()) {
      stop(st);
      return;
    }
    DeadMount.clean(st, log);
  }

  /**
   * Asks the daemon to stop the disk; the reply comes once it is torn down (lock released, status
   * removed). A per-disk daemon then exits, which is waited for; a host daemon goes on serving its
   * other disks.
   */
  private void stop(MountStatus st) throws IOException {
    control(st, "stop");
    if (st.pid() == HostDaemon.runningPid()) {
      return;
    }
    long deadline = System.currentTimeMillis() + STOP_TIMEOUT_MS;
    while (MountStatus.running(st.pid())) {
      if (System.currentTimeMillis() > deadline) {
        throw new MountException(
            MountException.Reason.UMOUNT_FAILED,
            "The mount daemon (pid "
                + st.pid()
                + ") did not exit within "
                + STOP_TIMEOUT_MS / 1000
                + " s; see "
                + st.logFile());
      }
      LoopDevice.sleep(5);
    }
  }
}
