package org.jploop.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.io.DiskLock;
import org.jploop.io.FileBlockFile;

/**
 * {@code ploop grow -s SIZE [-f raw] DELTA}: grows one image file given by path, with no descriptor
 * involved (ploop_grow_delta_offline, ploop_grow_raw_delta_offline). A ploop1 delta goes through
 * {@link DeltaGrower} (BAT clusters made room for, in-use flag set meanwhile); the size must be a
 * whole number of clusters. A raw image is extended with zeros (or sparsely) to the size rounded up
 * to 4 KiB. A smaller size is refused; the same size does nothing. The {@code DiskDescriptor.xml}
 * beside the file, if any, is locked meanwhile ({@link BareDelta#lockDisks}) but not changed, as in
 * ploop.
 */
public final class BareDeltaGrower {
  /** Raw images grow in chunks of this many bytes (ploop's DEF_CLUSTER). */
  private static final int CHUNK = 1 << 20;

  private final StepHook hook;

  public BareDeltaGrower(StepHook hook) {
    this.hook = hook;
  }

  /** Grows the ploop1 delta to {@code sizeSectors}; returns its size afterwards in sectors. */
  public long grow(Path delta, long sizeSectors) throws IOException {
    List<DiskLock> locks = BareDelta.lockDisks(List.of(delta), "grow");
    try (DeltaFile d = BareDelta.open(delta, false)) {
      DiskResizer.requireAligned(sizeSectors, d.clusterSectors());
      long old = d.header().sizeSectors();
      ImageGeometry g = ImageGeometry.forSize(sizeSectors, d.clusterSectors());
      if (g.sizeSectors() == old) {
        return old;
      }
      if (g.sizeSectors() < old) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Error: new size " + sizeSectors + " is less than the old size " + old);
      }
      if (d.version() == FormatVersion.V1 && g.sizeSectors() > 0xFFFFFFFFL) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Unable to grow "
                + delta
                + " to "
                + g.sizeSectors()
                + " sectors: a v1 image holds "
                + "at most 4294967295 sectors (convert it with ploop convert -v 2)");
      }
      new DeltaGrower(hook).grow(d, g.sizeSectors());
      return d.header().sizeSectors();
    } finally {
      BareDelta.unlock(locks);
    }
  }

  /**
   * Grows the raw image to {@code sizeSectors} rounded up to 4 KiB, writing zeros or, with {@code
   * sparse}, only moving the end of the file; returns the size afterwards in sectors.
   */
  public long growRaw(Path raw, long sizeSectors, boolean sparse) throws IOException {
    BareDelta.requireFile(raw);
    List<DiskLock> locks = BareDelta.lockDisks(List.of(raw), "grow");
    try (FileBlockFile f = FileBlockFile.open(raw, false)) {
      long oldSectors = f.size() / ImageGeometry.SECTOR;
      long newSectors = (sizeSectors + 7) & ~7L;
      if (newSectors == oldSectors) {
        return oldSectors;
      }
      if (newSectors < oldSectors) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Error: new size " + newSectors + " is less than the old size " + oldSectors);
      }
      long end = newSectors * ImageGeometry.SECTOR;
      long pos = f.size();
      if (sparse) {
        f.truncate(end);
      } else {
        ByteBuffer zeros = ByteBuffer.allocate(CHUNK);
        while (pos < end) {
          int n = (int) Math.min(CHUNK, end - pos);
          f.write(zeros.clear().limit(n), pos);
          pos += n;
        }
      }
      f.force();
      hook.reached("grow: raw image extended");
      return newSectors;
    } finally {
      BareDelta.unlock(locks);
    }
  }
}
