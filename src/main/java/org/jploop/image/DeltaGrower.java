package org.jploop.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.BitSet;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;

/**
 * ploop's {@code grow_delta}: makes a delta describe a bigger disk. When the bigger BAT needs more
 * header clusters, the data clusters sitting where the new BAT goes are first copied to the end of
 * the file (copy, fsync, then the BAT entry, fsync, one cluster at a time), the vacated area is
 * zeroed, and only then is the new header written. The delta carries the in-use flag throughout.
 *
 * <p>Every intermediate state is a valid image: before the header is rewritten the old header
 * describes the old size and every entry points at durable data; the new header only appears once
 * its BAT area is all zeros.
 */
public final class DeltaGrower {
  private final StepHook hook;

  public DeltaGrower(StepHook hook) {
    this.hook = hook;
  }

  /**
   * Grows {@code delta} to at least {@code newSizeSectors} (rounded up to clusters), marks it clean
   * at the end.
   */
  public void grow(DeltaFile delta, long newSizeSectors) throws IOException {
    if (!validate(delta, newSizeSectors)) {
      return;
    }
    delta.markInUse();
    hook.reached("grow: delta marked in use");
    growInUse(delta, newSizeSectors);
    delta.markClean();
    hook.reached("grow: delta marked clean");
  }

  /**
   * Grows a delta whose in-use flag the caller has already set (merge does this inside its own
   * window), leaving the flag set.
   *
   * @throws ImageOperationException REFUSED when the new size is smaller
   */
  public void growInUse(DeltaFile delta, long newSizeSectors) throws IOException {
    if (!validate(delta, newSizeSectors)) {
      return;
    }
    ImageGeometry ng = ImageGeometry.forSize(newSizeSectors, delta.clusterSectors());
    long oldHc = delta.headerClusters();
    long newHc = ng.headerClusters();
    long cb = delta.clusterBytes();
    if (newHc > oldHc) {
      relocate(delta, oldHc, newHc);
      ByteBuffer zeros = ByteBuffer.allocate((int) cb);
      for (long k = oldHc; k < newHc; k++) {
        delta.file().write(zeros.duplicate(), k * cb);
      }
      delta.force();
      hook.reached("grow: new BAT area zeroed");
    }
    delta.resizeSlots(ng);
    ImageHeader h = delta.header().withGeometry(ng);
    delta.writeHeader(h);
    hook.reached("grow: new header written");
  }

  /**
   * Checks that {@code delta} can grow to {@code newSizeSectors} without touching it; returns false
   * when it already has that size.
   *
   * @throws ImageOperationException REFUSED for a smaller size or a v1 image past 2 TiB
   */
  public static boolean validate(DeltaFile delta, long newSizeSectors)
      throws ImageOperationException {
    ImageGeometry ng = ImageGeometry.forSize(newSizeSectors, delta.clusterSectors());
    if (ng.batEntries() < delta.batEntries()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Error: new size "
              + ng.sizeSectors()
              + " is less than the old size "
              + delta.header().sizeSectors());
    }
    if (ng.batEntries() == delta.batEntries()) {
      return false;
    }
    if (delta.version() == FormatVersion.V1 && ng.sizeSectors() > 0xFFFFFFFFL) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to grow "
              + delta.path()
              + " to "
              + ng.sizeSectors()
              + " sectors: a v1 image "
              + "holds at most 4294967295 sectors (convert it with ploop convert -v 2)");
    }
    return true;
  }

  /** Moves every data cluster in [oldHc, newHc) to the end of the file. */
  private void relocate(DeltaFile delta, long oldHc, long newHc) throws IOException {
    long cb = delta.clusterBytes();
    long[] owner = new long[(int) (newHc - oldHc)];
    Arrays.fill(owner, -1);
    BitSet used = delta.usedClusters();
    for (long c = 0; c < delta.batEntries(); c++) {
      long p = delta.physicalOf(c);
      if (p >= oldHc && p < newHc) {
        owner[(int) (p - oldHc)] = c;
      }
    }
    long allocHead = Math.max(Math.max(used.length(), newHc), delta.fileClusters());
    if (delta.fileClusters() < newHc) {
      delta.file().truncate(newHc * cb);
      delta.force();
    }
    for (int i = 0; i < owner.length; i++) {
      if (owner[i] < 0) {
        continue;
      }
      ByteBuffer data = delta.readCluster(oldHc + i);
      delta.writeCluster(allocHead, data);
      delta.force();
      delta.map(owner[i], allocHead);
      delta.writeDirtyBatPages();
      delta.force();
      allocHead++;
      hook.reached("grow: cluster relocated");
    }
  }
}
