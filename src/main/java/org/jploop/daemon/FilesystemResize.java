package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.jploop.host.BalloonFile;
import org.jploop.host.EventLog;
import org.jploop.host.FilesystemGrower;
import org.jploop.host.HostCommand;
import org.jploop.host.InnerFilesystem;
import org.jploop.host.MountException;
import org.jploop.io.FileExtents;

/**
 * The filesystem side of {@code ploop resize} (lib/ploop.c ploop_resize_image, ploop-verbs-2.md §7)
 * on a served disk with a loop device attached. The filesystem target is always the new disk size
 * minus 4 clusters (ploop's alignment reserve); partition 1 is first enlarged if it is smaller than
 * the target. The disk size ({@code Disk_size}) is the caller's business: it never shrinks.
 *
 * <ul>
 *   <li>{@link #online}: the filesystem is mounted. A smaller target inflates the hidden balloon by
 *       the filesystem's share of the difference (refused, changing nothing, if the free space
 *       cannot hold it: "Unable to change image size to N sectors, minimal size is M"), sets the
 *       ext4 reserved blocks to 5 % of the target and hands the balloon's new extents to the {@link
 *       Release} (punched out of the image, then compaction). A larger target deflates the balloon
 *       and grows the filesystem ({@code resize2fs}, needing CAP_SYS_RESOURCE; {@code xfs_growfs}).
 *   <li>{@link #offline}: the filesystem is not mounted (ext only). A target below the blocks in
 *       use (the balloon's aside) is refused before anything is touched; then the balloon is
 *       deflated, {@code fsck.ext4 -p -f} runs, a target below {@code resize2fs -P}'s minimum is
 *       refused (the balloon stays deflated, as after ploop's failed resize2fs), {@code resize2fs
 *       -p PART <target>k} shrinks it, and the partition beyond the filesystem's new end is
 *       discarded, which punches those clusters out of the image.
 * </ul>
 *
 * Stateless apart from its output sink and log.
 */
public final class FilesystemResize {
  /** Releases what lies under new balloon extents; returns bytes the image file lost. */
  @FunctionalInterface
  public interface Release {
    long release(List<FileExtents.Extent> extents) throws IOException;
  }

  private final Consumer<String> out;
  private final EventLog log;

  /** Prints ploop's lines on {@code out}, logs the steps to {@code log}. */
  public FilesystemResize(Consumer<String> out, EventLog log) {
    this.out = out;
    this.log = log;
  }

  /** Returns ploop's filesystem target for a disk of {@code sectors}: 4 clusters less. */
  public static long target(long sectors, long blocksizeSectors) {
    return sectors - 4 * blocksizeSectors;
  }

  /**
   * Resizes the mounted filesystem of {@code a} to fit a disk of {@code sectors} (at most the disk
   * size); {@code release} gives back what lies under the balloon's new extents. An ext4 growth
   * this process may not do fails with RESIZE_FS (the caller names the offline command).
   */
  public void online(DiskAttachment a, long sectors, Release release) throws IOException {
    Path mnt = a.mountPoint();
    InnerFilesystem fs = InnerFilesystem.probe(a.fsDevice());
    long bs = a.descriptor().blocksize();
    long target = target(sectors, bs);
    ensurePartition(a, sectors, target);
    InnerFilesystem.Geometry g = fs.geometry();
    long blocks = g.sectors();
    try (BalloonFile balloon = BalloonFile.open(mnt, BalloonFile.Lock.EXCLUSIVE)) {
      long balloonSectors = balloon.size() / 512;
      long newBalloon = 0;
      if (target < blocks) {
        FileStore st = Files.getFileStore(mnt);
        long fsSectors = st.getTotalSpace() / 512;
        long free = st.getUnallocatedSpace() / 512;
        // ploop adds the balloon to f_blocks because the VZ kernel hides it from statfs; a stock
        // kernel counts its blocks in f_blocks already
        double ratio = (double) fsSectors / blocks;
        newBalloon = (long) ((blocks - target) * ratio);
        long available = balloonSectors + free;
        log.info(
            "online resize: newsize="
                + target
                + " blocks="
                + blocks
                + " balloonsize="
                + balloonSectors
                + " available="
                + available
                + " ratio="
                + ratio);
        if (available < newBalloon) {
          throw new MountException(
              MountException.Reason.REFUSED,
              "Unable to change image size"
                  + " to "
                  + target
                  + " sectors, minimal size is "
                  + (blocks - available));
        }
      }
      if (newBalloon != balloonSectors) {
        BalloonFile.Change c = balloon.change(newBalloon, out);
        long rsv = fs.setReservedBlocks(target, g.blockSize());
        if (rsv > 0) {
          out.accept("Setting reserved blocks count to " + rsv);
        }
        if (c.inflated()) {
          release.release(balloon.unwrittenExtents(c.oldBytes(), c.newBytes()));
        }
      }
    }
    if (target > blocks) {
      growMounted(a, fs, target);
    }
  }

  private void growMounted(DiskAttachment a, InnerFilesystem fs, long target) throws IOException {
    HostCommand c =
        fs.xfs()
            ? HostCommand.run(3600, "xfs_growfs", a.mountPoint().toString())
            : HostCommand.run(
                3600, "resize2fs", "-p", a.fsDevice(), ((target >> 3 << 3) >> 1) + "k");
    if (!c.ok()) {
      String hint =
          fs.ext() && !FilesystemGrower.hasSysResource()
              ? "; the kernel lets only a process with CAP_SYS_RESOURCE grow ext4 online and this one"
                  + " lacks it"
              : "";
      throw new MountException(
          MountException.Reason.RESIZE_FS,
          "The "
              + fs.type()
              + " filesystem on "
              + a.fsDevice()
              + " could not be grown: "
              + c.describeFailure()
              + hint);
    }
    log.info(
        "online resize: "
            + fs.type()
            + " on "
            + a.mountPoint()
            + " grown to "
            + target
            + " sectors");
  }

  /**
   * Resizes the unmounted ext filesystem on {@code a}'s loop device to fit a disk of {@code
   * sectors} ({@code grown}: the image has just grown past its old size, the filesystem fills the
   * enlarged partition, as ploop's grow does).
   */
  public void offline(DiskAttachment a, long sectors, boolean grown) throws IOException {
    InnerFilesystem fs = InnerFilesystem.probe(a.fsDevice());
    if (!fs.ext()) {
      throw new MountException(
          MountException.Reason.UNSUPPORTED,
          "Offline resize of "
              + fs.type()
              + " is not supported: mount the disk (ploop mount -m) and resize it online");
    }
    long bs = a.descriptor().blocksize();
    long target = target(sectors, bs);
    InnerFilesystem.Geometry g = fs.geometry();
    long balloon = fs.fileSizeOffline("/" + BalloonFile.NAME);
    long perBlock = g.blockSize() / 512;
    boolean shrink = target < g.sectors();
    if (shrink) {
      // before anything changes, ploop's online test: what is used, the balloon aside (it is
      // deflated first, as ploop does), must fit
      refuseBelow(target, (g.blockCount() - g.freeBlocks() - balloon / g.blockSize()) * perBlock);
    }
    if (balloon > 0) {
      deflateOffline(fs);
    }
    if (grown) {
      growPartitionToEnd(a, sectors);
    } else {
      ensurePartition(a, sectors, target);
    }
    fs.fsck();
    if (shrink) {
      // resize2fs's own minimum (data plus the metadata of the groups kept), known only now that
      // the balloon is gone and the filesystem checked; ploop would let resize2fs fail (26)
      refuseBelow(target, fs.minimumBlocks() * perBlock);
    }
    fs.resize(grown ? 0 : target);
    long fsEnd = fs.geometry().sectors();
    long partEnd = a.partitionBytes() / 512;
    if (fsEnd < g.sectors()) {
      out.accept(
          "Offline shrink  dev="
              + a.fsDevice()
              + " size="
              + partEnd
              + " new_size="
              + target
              + ", start="
              + fsEnd
              + ":"
              + partEnd);
    }
    log.info(
        "offline resize: "
            + fs.type()
            + " on "
            + a.fsDevice()
            + " now "
            + fsEnd
            + " sectors, partition "
            + partEnd);
    fs.discard(fsEnd * 512, partEnd * 512);
  }

  private static void refuseBelow(long target, long min) throws MountException {
    if (target < min) {
      throw new MountException(
          MountException.Reason.REFUSED,
          "Unable to change image size to " + target + " sectors, minimal size is " + min);
    }
  }

  /** Mounts the filesystem on a temporary directory to set its balloon to 0, unmounts it. */
  private void deflateOffline(InnerFilesystem fs) throws IOException {
    Path dir = Files.createTempDirectory("jploop-balloon");
    try {
      HostCommand.runChecked(120, "mount", "-t", fs.type(), fs.device(), dir.toString());
      try (BalloonFile b = BalloonFile.open(dir, BalloonFile.Lock.EXCLUSIVE)) {
        b.change(0, out);
      } finally {
        HostCommand.runChecked(120, "umount", dir.toString());
      }
    } finally {
      Files.deleteIfExists(dir);
    }
  }

  /** ploop's "sync gpt with new_size": enlarges partition 1 if it is smaller than the target. */
  private void ensurePartition(DiskAttachment a, long sectors, long target) throws IOException {
    if (a.fsDevice().equals(a.loop().device()) || a.partitionBytes() / 512 >= target) {
      return;
    }
    growPartitionToEnd(a, sectors);
  }

  private void growPartitionToEnd(DiskAttachment a, long sectors) throws IOException {
    String dev = a.loop().device();
    if (a.fsDevice().equals(dev)) {
      return;
    }
    String name = Path.of(dev).getFileName().toString();
    new FilesystemGrower(log)
        .growPartition(
            dev, Path.of("/sys/block", name, name + "p1"), sectors, a.descriptor().blocksize());
  }
}
