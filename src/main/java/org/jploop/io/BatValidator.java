package org.jploop.io;

import java.nio.file.Path;
import java.util.BitSet;
import org.jploop.format.CorruptImageException;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;

/**
 * The rule every opener of an image applies to its BAT before trusting it (the engine, the offline
 * operations): each non-zero slot of the header clusters must be a real data cluster of this file.
 * The first violation is reported as a {@link CorruptImageException} naming the file and the slot's
 * byte offset, in ploop check's words, so the user knows to run {@code ploop check}. {@code ploop
 * check} itself reports and repairs slot by slot instead.
 */
public final class BatValidator {
  private BatValidator() {}

  /**
   * Checks the raw slots read by {@link ImageReader#readBatSlots}: slots past {@code m_Size} are 0,
   * v1 values are cluster aligned, no entry points into the header clusters or past the end of the
   * file, and no two entries share a cluster.
   *
   * @param file the image, named in errors
   * @param header its header
   * @param slots raw BAT values (unsigned), slot {@code i} = virtual cluster {@code i}
   * @param fileSize the file's length in bytes
   */
  public static void validate(Path file, ImageHeader header, int[] slots, long fileSize)
      throws CorruptImageException {
    int sectors = (int) header.clusterSectors();
    long clusterBytes = sectors * (long) ImageGeometry.SECTOR;
    long fileClusters = fileSize / clusterBytes;
    long headerClusters = header.firstBlockOffset() / sectors;
    BitSet seen = new BitSet();
    for (int i = 0; i < slots.length; i++) {
      long v = Integer.toUnsignedLong(slots[i]);
      if (v == 0) {
        continue;
      }
      long off = ImageGeometry.batEntryOffset(i);
      if (i >= header.batEntries()) {
        throw new CorruptImageException(
            file, off, "Data cluster (" + i + ") beyond block device size; run ploop check");
      }
      if (!header.version().isAligned(v, sectors)) {
        throw new CorruptImageException(
            file, off, "L2 slot (" + i + ") corrupted: " + v + " sectors is not cluster aligned");
      }
      long phys = header.version().toPhysicalCluster(v, sectors);
      if (phys < headerClusters) {
        throw new CorruptImageException(
            file, off, "BAT entry " + i + " points into the header (cluster " + phys + ")");
      }
      if (phys >= fileClusters) {
        throw new CorruptImageException(
            file,
            off,
            "Data cluster "
                + phys
                + " is beyond EOF, image size="
                + fileSize
                + "; run ploop check");
      }
      if (phys > Integer.MAX_VALUE - 1) {
        throw new CorruptImageException(
            file, off, "BAT entry " + i + " is too large: cluster " + phys);
      }
      if (seen.get((int) phys)) {
        throw new CorruptImageException(file, off, "Block " + phys + " is used more than once");
      }
      seen.set((int) phys);
    }
  }
}
