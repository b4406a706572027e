package org.jploop.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.jploop.host.DeviceName;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountException;
import org.jploop.host.MountTable;

/**
 * Finds the mounted disk a device-level verb names, the ploop way (tools/ploop-balloon.c
 * fill_opts): {@code -d DEVICE} (a ploop device name, {@code /dev/ploopN[p1]} or {@code
 * /dev/mapper/ploopN}, or the loop device itself), {@code -m MOUNT_POINT} (where the filesystem of
 * a jploop disk is mounted) or a {@code DiskDescriptor.xml}. Failures are REFUSED (exit 38) with
 * ploop's messages. Stateless.
 */
public final class BalloonTarget {
  private BalloonTarget() {}

  /**
   * Returns the attachment of the disk named by exactly one of the arguments (the others null).
   * With {@code needMountPoint} the disk's filesystem must be mounted.
   */
  public static DiskAttachment resolve(
      String device, Path mountPoint, Path xml, boolean needMountPoint) throws IOException {
    DiskAttachment a;
    String what;
    if (mountPoint != null) {
      a = byMountPoint(mountPoint);
      what = mountPoint.toString();
    } else if (device != null) {
      a = byDevice(device);
      what = device;
    } else if (xml != null) {
      Optional<MountStatus> st = MountStatus.forDescriptor(xml);
      if (st.isEmpty() || !st.get().daemonAlive()) {
        throw refused("The image is not mounted");
      }
      a = DiskAttachment.of(st.get());
      what = a.deviceLabel();
    } else {
      throw refused("Error: one of -d, -m or DiskDescriptor.xml argument is required");
    }
    if (needMountPoint && a.mountPoint() == null) {
      throw refused("Unable to find mount point for " + what);
    }
    return a;
  }

  /** Returns the disk whose filesystem is mounted at {@code mnt}. */
  public static DiskAttachment byMountPoint(Path mnt) throws IOException {
    String real = Files.isDirectory(mnt) ? mnt.toRealPath().toString() : "";
    Optional<MountTable.Entry> e = real.isEmpty() ? Optional.empty() : MountTable.at(Path.of(real));
    Optional<MountStatus> st = Optional.empty();
    if (e.isPresent()) {
      st = statusOfDevice(e.get().source()).filter(MountStatus::daemonAlive);
    }
    if (st.isEmpty()) {
      throw refused("Unable to find ploop device by " + mnt);
    }
    return DiskAttachment.of(st.get());
  }

  /** Returns the disk attached as {@code device}. */
  public static DiskAttachment byDevice(String device) throws IOException {
    Optional<MountStatus> st = statusOfDevice(device).filter(MountStatus::daemonAlive);
    if (st.isEmpty()) {
      throw refused("Unable to find mount point for " + device);
    }
    return DiskAttachment.of(st.get());
  }

  /**
   * Returns the status of the mount (its daemon alive or dead) whose disk {@code device} (a ploop
   * name, a loop device or a loop partition) is attached to.
   */
  public static Optional<MountStatus> statusOfDevice(String device) throws IOException {
    Optional<LoopDevice> loop = loopOf(device);
    if (loop.isEmpty()) {
      return Optional.empty();
    }
    String name = Path.of(loop.get().device()).getFileName().toString();
    Path bf = Path.of("/sys/block", name, "loop", "backing_file");
    if (!Files.exists(bf)) {
      return Optional.empty();
    }
    String backing =
        Files.readString(bf, StandardCharsets.UTF_8).strip().replaceFirst(" \\(deleted\\)$", "");
    for (MountStatus st : MountStatus.all()) {
      if (st.diskImage().equals(backing)) {
        return Optional.of(st);
      }
    }
    return Optional.empty();
  }

  /** Maps a ploop name, loop device or loop partition to its loop device. */
  static Optional<LoopDevice> loopOf(String device) {
    String d = device.replaceFirst("^(/dev/loop\\d+)p\\d+$", "$1");
    if (d.matches("/dev/loop\\d+")) {
      return Optional.of(new LoopDevice(d));
    }
    try {
      return DeviceName.parseDevice(device).loop();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static MountException refused(String message) {
    return new MountException(MountException.Reason.REFUSED, message);
  }
}
