package org.jploop.engine;

import java.util.BitSet;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;

/**
 * The kernel's {@code holes_bitmap}: one bit per physical cluster of the top delta file, counted
 * from the start of the file; a set bit means free. It covers {@code headerClusters + batEntries}
 * clusters, the largest file with every virtual cluster allocated; clusters past that (possible
 * after an offline shrink) are never handed out.
 *
 * <p>Not thread-safe: guarded by the engine's {@code bat_lock} ({@link ClusterAllocator}).
 */
final class FreeClusterBitmap {
  private final BitSet free;
  private final int limit;

  /**
   * Creates a bitmap of {@code clusters} bits, all free except the first {@code headerClusters}.
   */
  FreeClusterBitmap(long clusters, long headerClusters) {
    if (clusters > Integer.MAX_VALUE || headerClusters > clusters) {
      throw new IllegalArgumentException(
          "bitmap of "
              + clusters
              + " clusters with "
              + headerClusters
              + " header clusters is not supported");
    }
    this.limit = (int) clusters;
    this.free = new BitSet(limit);
    free.set((int) headerClusters, limit);
  }

  /**
   * Creates the bitmap for the top delta whose header is {@code th}: {@code hb_nr} = header
   * clusters + BAT entries, but never a cluster whose BAT value would not fit in a u32 (v1 stores
   * sectors: the file must stay below 2 TiB).
   */
  static FreeClusterBitmap forTop(ImageHeader th) {
    long headerClusters = th.firstBlockOffset() / th.clusterSectors();
    long maxClusters =
        th.version().toPhysicalCluster(ImageGeometry.MAX_BAT_VALUE, (int) th.clusterSectors()) + 1;
    return new FreeClusterBitmap(
        Math.min(headerClusters + th.batEntries(), maxClusters), headerClusters);
  }

  /** Returns the number of clusters the bitmap covers. */
  long size() {
    return limit;
  }

  /** Returns the lowest free cluster, or -1 if none is left. */
  long firstFree() {
    int i = free.nextSetBit(0);
    return i < 0 || i >= limit ? -1 : i;
  }

  /** Returns whether {@code cluster} is free; clusters outside the bitmap are never free. */
  boolean isFree(long cluster) {
    return cluster >= 0 && cluster < limit && free.get((int) cluster);
  }

  /** Marks {@code cluster} used; clusters outside the bitmap are ignored. */
  void markUsed(long cluster) {
    if (cluster >= 0 && cluster < limit) {
      free.clear((int) cluster);
    }
  }

  /** Marks {@code cluster} free; clusters outside the bitmap are ignored. */
  void markFree(long cluster) {
    if (cluster >= 0 && cluster < limit) {
      free.set((int) cluster);
    }
  }

  /** Returns the highest used cluster, or -1 if every cluster is free. */
  long highestUsed() {
    int i = free.previousClearBit(limit - 1);
    return i;
  }

  /** Returns the number of free clusters. */
  long freeCount() {
    return free.cardinality();
  }
}
