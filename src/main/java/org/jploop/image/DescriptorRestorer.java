package org.jploop.image;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;

/**
 * {@code ploop restore-descriptor [-f raw] [-b BLOCKSIZE] IMAGE_DIR BASE_DELTA}: writes {@code
 * IMAGE_DIR/DiskDescriptor.xml} for one lone base image, the descriptor {@code ploop init} would
 * have written for it ({TOPDELTA, parent NONE}, CHS from the size, path relative to IMAGE_DIR).
 *
 * <p>A ploop1 image gives size ({@code m_Size * m_Sectors}), cluster size and version from its
 * header; its in-use flag is allowed, as in ploop. A raw image gives size = file size / 512 and the
 * cluster size {@code -b} (the file must be a multiple of it) or the largest of 1 MiB ... 32 KiB
 * dividing the file size. jploop differs from ploop in one point: an image outside IMAGE_DIR is
 * refused instead of written as an absolute path, because jploop's descriptors only name images
 * inside their directory. Snapshots are not recovered (ploop does not either).
 */
public final class DescriptorRestorer {
  private final PrintWriter log;

  public DescriptorRestorer(PrintWriter log) {
    this.log = log;
  }

  /**
   * Writes the descriptor; returns its path.
   *
   * @param blocksize {@code -b} in sectors, or 0
   * @throws ImageOperationException OPEN for a missing or unreadable image, REFUSED (38) for bad
   *     sizes or an image outside IMAGE_DIR, BUSY (17) if the descriptor exists
   */
  public Path restore(Path imageDir, Path image, boolean raw, int blocksize) throws IOException {
    if (!Files.isDirectory(imageDir)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.OPEN,
          "Can't create "
              + imageDir.resolve(DiskDescriptor.FILE_NAME)
              + ": No such file or directory");
    }
    Path dir = imageDir.toRealPath();
    Path xml = dir.resolve(DiskDescriptor.FILE_NAME);
    if (!Files.exists(image)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.OPEN,
          (raw ? "stat " : "open ") + image + ": No such file or directory");
    }
    Path real = image.toRealPath();
    if (!real.startsWith(dir) || real.equals(dir)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Image "
              + real
              + " is not inside "
              + dir
              + ": jploop's DiskDescriptor.xml only names images inside its"
              + " own directory (ploop would store the absolute path); move the image there first");
    }
    long sizeSectors;
    int clusterSectors;
    if (raw) {
      long bytes = Files.size(real);
      clusterSectors = blocksize != 0 ? blocksize : bestBlocksize(bytes);
      if (bytes % ((long) clusterSectors * ImageGeometry.SECTOR) != 0) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Image size must be aligned to the blocksize specified");
      }
      if (!ImageGeometry.isValidClusterSectors(clusterSectors)) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Incorrect blocksize specified: " + clusterSectors);
      }
      sizeSectors = bytes / ImageGeometry.SECTOR;
      if (sizeSectors == 0) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED, "Image " + image + " is empty");
      }
    } else {
      log.println("Opening delta " + image);
      ImageHeader h;
      try (BlockFile f = FileBlockFile.open(real, true)) {
        h = ImageReader.readHeader(f);
      } catch (NoSuchFileException e) {
        throw new ImageOperationException(
            ImageOperationException.Kind.OPEN, "open " + image + ": No such file or directory");
      } catch (org.jploop.format.CorruptImageException e) {
        throw new ImageOperationException(ImageOperationException.Kind.OPEN, e.getMessage());
      }
      clusterSectors = (int) h.clusterSectors();
      sizeSectors = h.batEntries() * h.clusterSectors();
    }
    if (Files.exists(xml)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.BUSY, "Can't create " + xml + ": File exists");
    }
    ImageGeometry g = ImageGeometry.forSize(sizeSectors, clusterSectors);
    DiskDescriptor d = DiskDescriptor.forNewImage(g, dir.relativize(real).toString(), raw);
    log.println("Adding snapshot " + Guid.TOP_DELTA);
    log.println("Storing " + xml);
    ImageCreator.createDescriptor(xml, d);
    return xml;
  }

  /**
   * ploop's select_best_blocksize: the largest of 2048, 1024, 512, 256, 128, 64 sectors that
   * divides the file size.
   *
   * @throws ImageOperationException REFUSED if none does ("Image size must be aligned to 32K")
   */
  static int bestBlocksize(long bytes) throws ImageOperationException {
    for (int bs = ImageGeometry.DEFAULT_CLUSTER_SECTORS;
        bs >= ImageGeometry.MIN_CLUSTER_SECTORS;
        bs /= 2) {
      if (bytes % ((long) bs * ImageGeometry.SECTOR) == 0) {
        return bs;
      }
    }
    throw new ImageOperationException(
        ImageOperationException.Kind.REFUSED, "Image size must be aligned to 32K");
  }
}
