package org.jploop.image;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Path;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.ImageGeometry;
import org.jploop.format.descriptor.DiskDescriptor;

/**
 * {@code ploop resize} offline: grows the top delta ({@link DeltaGrower}) and the descriptor's
 * {@code Disk_size}; lower deltas keep their smaller size, as in ploop (reads past a lower delta's
 * BAT fall through to zeros). The new descriptor is staged before the delta grows and committed
 * after, so a crash leaves either the old size everywhere or a bigger top delta under the old
 * descriptor, which mount accepts. The top's CBT is kept and grows with clean granules (ploop
 * resizes on a mounted device, where the kernel's bitmap grows with it).
 *
 * <p>Shrinking is refused: ploop never shrinks the image, only the filesystem inside it, and that
 * needs the filesystem mounted.
 */
public final class DiskResizer {
  /** ploop's largest disk when a filesystem is involved: 50 TiB in sectors. */
  public static final long MAX_FS_SIZE_SECTORS = 50L << 31;

  private final OfflineDisk disk;
  private final StepHook hook;
  private final PrintWriter log;

  public DiskResizer(OfflineDisk disk, StepHook hook) {
    this(disk, hook, new PrintWriter(Writer.nullWriter()));
  }

  /** Like {@link #DiskResizer(OfflineDisk, StepHook)}; warnings (a dropped bad CBT) go to log. */
  public DiskResizer(OfflineDisk disk, StepHook hook, PrintWriter log) {
    this.disk = disk;
    this.hook = hook;
    this.log = log;
  }

  /**
   * {@code ploop grow}: like {@link #resize} but, as in ploop, the size must be a whole number of
   * clusters (check_blockdev_size; resize rounds up instead) and a smaller size is an error of its
   * own ("new size is less than the old size") rather than a refused filesystem shrink.
   */
  public long grow(long sizeSectors) throws IOException {
    DiskDescriptor d = disk.descriptor();
    requireAligned(sizeSectors, d.blocksize());
    long rounded = ImageGeometry.forSize(sizeSectors, d.blocksize()).sizeSectors();
    if (rounded < d.diskSizeSectors()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Error: new size " + rounded + " is less than the old size " + d.diskSizeSectors());
    }
    return resize(sizeSectors);
  }

  /**
   * Refuses a size that is not a whole number of clusters, with ploop's message (exit 38).
   *
   * @throws ImageOperationException REFUSED
   */
  public static void requireAligned(long sizeSectors, int clusterSectors)
      throws ImageOperationException {
    if (sizeSectors % clusterSectors != 0) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "An incorrect block device size is specified: "
              + sizeSectors
              + " sectors. The block"
              + " device size must be aligned to the cluster block size "
              + clusterSectors);
    }
  }

  /**
   * Resizes the disk to {@code sizeSectors} (rounded up to the blocksize); returns the new size.
   */
  public long resize(long sizeSectors) throws IOException {
    DiskDescriptor d = disk.descriptor();
    long rounded = ImageGeometry.forSize(sizeSectors, d.blocksize()).sizeSectors();
    if (rounded <= 4L * d.blocksize()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to change image size to " + rounded + " sectors");
    }
    if (rounded > MAX_FS_SIZE_SECTORS) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "An incorrect block device size is specified: "
              + rounded
              + " sectors. The maximum allowed size is "
              + MAX_FS_SIZE_SECTORS
              + " sectors");
    }
    if (rounded < d.diskSizeSectors()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to shrink: the disk is not mounted and jploop cannot shrink the filesystem "
              + "inside it offline; ploop never shrinks the image itself (current size "
              + d.diskSizeSectors()
              + " sectors, requested "
              + rounded
              + ")");
    }
    if (rounded == d.diskSizeSectors()) {
      return rounded;
    }
    if (d.raw() && d.images().size() == 1) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Resizing a raw image is not supported; convert it with ploop convert -f ploop1");
    }
    disk.requireClean();
    DiskDescriptor next = d.withSize(rounded);
    Path top = disk.fileOf(d.topGuid());
    try (DeltaFile delta = DeltaFile.open(top, false)) {
      DeltaGrower.validate(delta, rounded);
      DirtyBitmap cbt = CbtCarrier.read(delta, log);
      DescriptorTransaction tx = new DescriptorTransaction(disk.xml());
      tx.stage(next);
      hook.reached("resize: descriptor staged");
      CbtCarrier.detach(delta);
      new DeltaGrower(hook).grow(delta, rounded);
      CbtCarrier.attach(delta, cbt);
    }
    DescriptorTransaction tx = new DescriptorTransaction(disk.xml());
    tx.commit();
    disk.update(next);
    hook.reached("resize: descriptor committed");
    return rounded;
  }
}
