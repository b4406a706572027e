package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.jploop.format.ImageGeometry;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.host.EventLog;
import org.jploop.host.LoopDevice;
import org.jploop.image.DiskCompactor;
import org.jploop.image.DiskResizer;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import org.jploop.image.Progress;
import org.jploop.image.StepHook;

/**
 * {@code ploop resize -s SIZE} on a disk that is not mounted, with the filesystem inside it, as
 * ploop does by mounting the image itself (ploop_resize_image with {@code mounted} = 2). The {@link
 * FilesystemProbe} decides:
 *
 * <ul>
 *   <li>no filesystem ({@code -t none}): only the image grows ({@link DiskResizer}); a shrink is
 *       refused, there being no filesystem to shrink.
 *   <li>ext4: a bigger size grows the image under the disk lock, then the disk is served with a
 *       loop device and {@link FilesystemResize#offline} grows partition 1 and the filesystem
 *       ({@code fsck.ext4 -p -f}, {@code resize2fs}). A size up to the current one changes only the
 *       filesystem: grown to the target (what a second {@code ploop resize -s SAME} does after an
 *       online grow could not grow ext4) or shrunk, the freed tail discarded, and the image
 *       compacted so its file is cut as well. {@code Disk_size} never shrinks.
 *   <li>xfs (which cannot shrink offline), or {@code -o}: the filesystem is mounted on a temporary
 *       directory beside the image ({@code <image>.mnt}) and resized online from this process
 *       ({@link MountedResize}: balloon, {@code xfs_growfs}).
 * </ul>
 *
 * Holds no state between calls.
 */
public final class OfflineResizer {
  /** Gives the {@link DiskMounter} when a filesystem needs the disk served. */
  @FunctionalInterface
  public interface Mounter {
    DiskMounter get() throws IOException;
  }

  private final Mounter mounter;
  private final Consumer<String> out;
  private final EventLog log;

  /**
   * What the resize left.
   *
   * @param diskSectors the disk size ({@code Disk_size})
   * @param filesystemSectors the filesystem's target size, or -1 when the disk has none
   * @param imageGrown whether the image (and {@code Disk_size}) grew
   * @param grownInside after an online grow, what was grown on the disk (partition, filesystem),
   *     else empty
   */
  public record Result(
      long diskSectors, long filesystemSectors, boolean imageGrown, String grownInside) {
    /** A result with nothing grown inside the disk online. */
    public Result(long diskSectors, long filesystemSectors, boolean imageGrown) {
      this(diskSectors, filesystemSectors, imageGrown, "");
    }

    /** Returns ploop's last line: the disk's new size, or the filesystem's. */
    public String summary() {
      if (filesystemSectors < 0 || imageGrown) {
        return "Resized to "
            + diskSectors
            + " sectors"
            + (grownInside.isEmpty() ? "" : "; " + grownInside);
      }
      return "Resized the filesystem to "
          + filesystemSectors
          + " sectors; the disk keeps "
          + diskSectors
          + " sectors";
    }
  }

  /**
   * Serves disks with {@code mounter} (only asked for when the disk has a filesystem), prints
   * ploop's lines on {@code out}.
   */
  public OfflineResizer(Mounter mounter, Consumer<String> out, EventLog log) {
    this.mounter = mounter;
    this.out = out;
    this.log = log;
  }

  /**
   * Resizes the disk of {@code xml} to {@code sectors}; {@code online} ({@code -o}) resizes a
   * mounted filesystem even for ext4.
   */
  public Result resize(Path xml, long sectors, boolean online) throws IOException {
    DiskDescriptor d = DiskDescriptor.read(xml);
    int bs = d.blocksize();
    long rounded = ImageGeometry.forSize(sectors, bs).sizeSectors();
    long was = d.diskSizeSectors();
    FilesystemProbe.Found fs;
    try (OfflineDisk od = OfflineDisk.open(xml, "resize")) {
      od.requireClean();
      fs = FilesystemProbe.probe(xml);
      if (fs.kind() == FilesystemProbe.Kind.NONE) {
        long now = new DiskResizer(od, StepHook.NONE).resize(sectors);
        return new Result(now, -1, now > was);
      }
      if (rounded <= 4L * bs) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Unable to change image size to " + rounded + " sectors");
      }
      if (rounded > was && fs.kind() == FilesystemProbe.Kind.EXT && !online) {
        rounded = new DiskResizer(od, StepHook.NONE).resize(sectors);
      }
    }
    if (fs.kind() == FilesystemProbe.Kind.XFS || online) {
      return resizeMounted(xml, rounded);
    }
    boolean grown = rounded > was;
    long size = rounded;
    mounter
        .get()
        .withDiskImage(
            xml,
            img -> {
              LoopDevice loop = LoopDevice.attach(img, false);
              try {
                DiskAttachment a = DiskAttachment.of(DiskMounter.statusOf(xml));
                new FilesystemResize(out, log).offline(a, size, grown);
              } finally {
                loop.detach();
              }
            });
    if (!grown) {
      compact(xml);
    }
    return new Result(Math.max(rounded, was), FilesystemResize.target(rounded, bs), grown);
  }

  /**
   * Mounts the filesystem on {@code <image>.mnt}, resizes it online from this process ({@link
   * MountedResize}), unmounts it.
   */
  private Result resizeMounted(Path xml, long sectors) throws IOException {
    List<Path> files = DiskDescriptor.read(xml).topChainFiles(xml);
    Path mnt = Path.of(files.get(0) + ".mnt");
    boolean made = !Files.exists(mnt);
    Files.createDirectories(mnt);
    try {
      DiskMounter m = mounter.get();
      MountStatus st = m.mount(xml, mnt, null, false);
      try {
        return new MountedResize(out, log).resize(st, sectors);
      } finally {
        m.umount(DiskMounter.statusOf(xml));
      }
    } finally {
      if (made) {
        Files.deleteIfExists(mnt);
      }
    }
  }

  /** Compacts every delta offline, printing what was cut off the files. */
  private void compact(Path xml) throws IOException {
    try (OfflineDisk od = OfflineDisk.open(xml, "resize")) {
      long cut = 0;
      long cluster = od.descriptor().blocksize() * 512L;
      for (DiskCompactor.DeltaResult r :
          new DiskCompactor(od, p -> Progress.QUIET, StepHook.NONE).compactAll()) {
        cut += r.result().sizeBefore() - r.result().sizeAfter();
        log.info("resize: " + r.describe());
      }
      if (cut > 0) {
        out.accept("TRUNCATED: " + cut / cluster + " cluster-blocks (" + cut + " bytes)");
      }
    }
  }
}
