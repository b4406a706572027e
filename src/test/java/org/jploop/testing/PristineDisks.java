package org.jploop.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.ImageWriter;

/**
 * Builds small, valid ploop1 images with some data clusters, plus their DiskDescriptor.xml, without
 * the engine (header via {@link ImageWriter}, clusters and BAT entries written by hand). They are
 * the pristine inputs the {@link ImageMutator} corrupts.
 */
public final class PristineDisks {
  /** The image file name used in every generated directory. */
  public static final String IMAGE = "root.hds";

  /** Shape of a pristine image. */
  public record Spec(
      FormatVersion version,
      int clusterSectors,
      long sizeSectors,
      int allocatedClusters,
      boolean inUse) {
    @Override
    public String toString() {
      return version
          + "/"
          + (clusterSectors / 2)
          + "K/"
          + (sizeSectors / 2048)
          + "M/"
          + allocatedClusters
          + "alloc"
          + (inUse ? "/dirty" : "");
    }
  }

  /** Small shapes covering v1/v2, one and two header clusters, clean and dirty. */
  public static final Spec[] SHAPES = {
    new Spec(FormatVersion.V2, 64, 16L * 2048, 4, false), // 32 KiB clusters, 1 header cluster
    new Spec(FormatVersion.V2, 64, 320L * 2048, 3, false), // 2 header clusters
    new Spec(FormatVersion.V1, 64, 16L * 2048, 4, false),
    new Spec(FormatVersion.V2, 128, 32L * 2048, 5, true), // dirty (crashed) image
  };

  private PristineDisks() {}

  /**
   * Creates {@code dir/root.hds} and {@code dir/DiskDescriptor.xml}; virtual clusters are allocated
   * in a scrambled physical order and filled with a seeded pattern. Returns the XML path.
   */
  public static Path create(Path dir, Spec spec, long seed) throws IOException {
    Files.createDirectories(dir);
    ImageGeometry g = ImageGeometry.forSize(spec.sizeSectors(), spec.clusterSectors());
    ImageHeader h = ImageHeader.create(spec.version(), g);
    Path image = dir.resolve(IMAGE);
    ImageWriter.createEmpty(image, h);
    Random r = new Random(seed);
    int cluster = (int) g.clusterBytes();
    try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
      long physical = g.headerClusters();
      for (int i = 0; i < spec.allocatedClusters(); i++) {
        long virtual = (i * 7L + 3) % g.batEntries();
        byte[] data = new byte[cluster];
        r.nextBytes(data);
        ch.write(ByteBuffer.wrap(data), physical * cluster);
        ByteBuffer e = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        e.putInt(0, (int) spec.version().toBatValue(physical, spec.clusterSectors()));
        ch.write(e, ImageGeometry.batEntryOffset(virtual));
        physical++;
      }
      long flags = spec.allocatedClusters() > 0 ? 0 : ImageHeader.CIF_EMPTY;
      ImageHeader fin =
          h.withFlags(flags)
              .withDiskInUse(spec.inUse() ? ImageHeader.IN_USE : ImageHeader.CLOSED_V20);
      ch.write(ByteBuffer.wrap(fin.encode()), 0);
      ch.force(true);
    }
    Path xml = dir.resolve(DiskDescriptor.FILE_NAME);
    DiskDescriptor.forNewImage(g, IMAGE, false).write(xml);
    return xml;
  }
}
