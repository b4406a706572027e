package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.jploop.format.ImageGeometry;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.host.BalloonFile;
import org.jploop.host.EventLog;
import org.jploop.host.FilesystemGrower;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountException;

/**
 * {@code ploop resize -s SIZE} of a disk a mount daemon serves, run in the {@code ploop} process as
 * ploop's ploop_resize_image runs in userspace while the kernel serves the device: everything that
 * does I/O through the disk (balloon, FIEMAP, punching through {@code disk.img}, fsck, resize2fs,
 * sgdisk) happens here, and the daemon is asked only for engine steps under its suspend gate:
 * {@code resize sectors=N} (grow the image) and {@code compact} ({@link OnlineCompaction}). The
 * daemon must never do that I/O itself ({@link org.jploop.host.ServingProcess}).
 *
 * <ul>
 *   <li>A size above the disk's: the balloon is deflated (ploop does it first), the daemon grows
 *       the image, then {@link FilesystemGrower} grows loop device, partition 1 and the filesystem;
 *       an ext4 that may not grow online (no CAP_SYS_RESOURCE) fails with exit 26 and the exact
 *       command that finishes the job offline.
 *   <li>A size up to the disk's changes only the filesystem ({@code Disk_size} stays, as in ploop):
 *       mounted, {@link FilesystemResize#online} through the balloon, the clusters under it punched
 *       out and the image compacted; not mounted, {@link FilesystemResize#offline} on the loop
 *       device (one attached for the time of it when there is none), then a compaction.
 * </ul>
 *
 * Stateless apart from its output sink and log.
 */
public final class MountedResize {
  private final Consumer<String> out;
  private final EventLog log;

  /** Prints ploop's lines on {@code out}, logs the steps to {@code log}. */
  public MountedResize(Consumer<String> out, EventLog log) {
    this.out = out;
    this.log = log;
  }

  /** Resizes the disk {@code st} describes to {@code sectors}. */
  public OfflineResizer.Result resize(MountStatus st, long sectors) throws IOException {
    Path xml = Path.of(st.descriptor());
    DiskDescriptor d = DiskDescriptor.read(xml);
    long rounded = ImageGeometry.forSize(sectors, d.blocksize()).sizeSectors();
    if (st.readOnly()) {
      throw new MountException(
          MountException.Reason.REFUSED,
          "The disk is mounted read-only; online resize needs a read-write mount");
    }
    if (rounded > d.diskSizeSectors()) {
      return grow(st, xml, sectors, d);
    }
    if (d.raw()) {
      throw new MountException(
          MountException.Reason.REFUSED,
          "Online resize is not supported"
              + " for a disk with a raw (Plain) image; unmount it first");
    }
    long target = FilesystemResize.target(rounded, d.blocksize());
    if (target <= 0) {
      throw new MountException(
          MountException.Reason.REFUSED, "Unable to change image size to " + rounded + " sectors");
    }
    DiskAttachment a = DiskAttachment.of(st);
    FilesystemResize fr = new FilesystemResize(out, log);
    if (a.mountPoint() != null) {
      try {
        fr.online(
            a,
            rounded,
            extents -> {
              BalloonRelease r = new BalloonRelease(a);
              return r.releaseOnline(r.clusters(extents), out);
            });
      } catch (MountException e) {
        throw withOfflineHint(e, xml, rounded);
      }
    } else {
      LoopDevice own = a.loop() == null ? LoopDevice.attach(a.diskImage(), false) : null;
      try {
        fr.offline(own == null ? a : DiskAttachment.of(st), rounded, false);
      } finally {
        if (own != null) {
          own.detach();
        }
      }
      long cut = OnlineCompaction.of(a).truncatedBytes();
      if (cut > 0) {
        out.accept("TRUNCATED: " + cut / a.clusterBytes() + " cluster-blocks (" + cut + " bytes)");
      }
    }
    return new OfflineResizer.Result(d.diskSizeSectors(), target, false);
  }

  private OfflineResizer.Result grow(MountStatus st, Path xml, long sectors, DiskDescriptor d)
      throws IOException {
    DiskAttachment a = DiskAttachment.of(st);
    if (a.mountPoint() != null) {
      try (BalloonFile b = BalloonFile.open(a.mountPoint(), BalloonFile.Lock.EXCLUSIVE)) {
        if (b.size() > 0) {
          b.change(0, out);
        }
      }
    }
    long now =
        Long.parseLong(
            DiskMounter.requestOk(st, "resize sectors=" + sectors).strip().split(" ")[0]);
    String inner;
    try {
      inner = new FilesystemGrower(log).grow(a.diskImage(), now, d.blocksize());
    } catch (MountException e) {
      throw withOfflineHint(e, xml, now);
    }
    return new OfflineResizer.Result(now, FilesystemResize.target(now, d.blocksize()), true, inner);
  }

  /**
   * After the image grew but ext4 could not grow online for lack of CAP_SYS_RESOURCE: the exact
   * command that finishes the job offline.
   */
  static MountException withOfflineHint(MountException e, Path xml, long sectors) {
    if (e.reason() != MountException.Reason.RESIZE_FS || FilesystemGrower.hasSysResource()) {
      return e;
    }
    return new MountException(
        e.reason(),
        e.getMessage()
            + "; to grow it offline run: ploop"
            + " umount "
            + xml
            + " && ploop resize -s "
            + sectors
            + " "
            + xml,
        e);
  }
}
