package org.jploop.format;

/**
 * The size arithmetic of one ploop1 image: cluster size, virtual size, BAT entry count and the
 * header clusters that hold the 64-byte header plus the BAT.
 *
 * <p>Invariants: {@code clusterSectors} is a power of two in [64, 131072]; {@code sizeSectors ==
 * batEntries * clusterSectors}; {@code headerClusters == ceil((16 + batEntries) * 4 /
 * clusterBytes)}. dm-ploop refuses any image whose {@code m_FirstBlockOffset} differs from {@link
 * #firstBlockOffsetSectors()}.
 *
 * @param clusterSectors cluster size in 512-byte sectors ({@code m_Sectors})
 * @param batEntries number of BAT entries = virtual clusters ({@code m_Size})
 */
public record ImageGeometry(int clusterSectors, long batEntries) {
  /** Bytes in a sector. */
  public static final int SECTOR = 512;

  /** Smallest cluster ploop accepts, in sectors (32 KiB). */
  public static final int MIN_CLUSTER_SECTORS = 64;

  /** Largest cluster ploop accepts, in sectors (64 MiB). */
  public static final int MAX_CLUSTER_SECTORS = 131072;

  /** Default cluster, in sectors (1 MiB; PLOOP1_DEF_CLUSTER_LOG = 11). */
  public static final int DEFAULT_CLUSTER_SECTORS = 2048;

  /** u32 slots the header occupies at the start of the BAT array (PLOOP_MAP_OFFSET = 64 / 4). */
  public static final int MAP_OFFSET = 16;

  /** Largest raw BAT value; 0xFFFFFFFF is the kernel's "none" marker and never on disk. */
  public static final long MAX_BAT_VALUE = 0xFFFFFFFEL;

  public ImageGeometry {
    if (!isValidClusterSectors(clusterSectors)) {
      throw new IllegalArgumentException("Incorrect blocksize specified: " + clusterSectors);
    }
    if (batEntries < 0 || batEntries > 0xFFFFFFFFL) {
      throw new IllegalArgumentException("BAT entry count out of range: " + batEntries);
    }
  }

  /** Returns whether {@code sectors} is a power of two in [64, 131072], as is_valid_blocksize. */
  public static boolean isValidClusterSectors(long sectors) {
    return sectors >= MIN_CLUSTER_SECTORS
        && sectors <= MAX_CLUSTER_SECTORS
        && Long.bitCount(sectors) == 1;
  }

  /** Geometry for a disk of at least {@code sizeSectors}, rounded up to whole clusters. */
  public static ImageGeometry forSize(long sizeSectors, int clusterSectors) {
    if (sizeSectors <= 0) {
      throw new IllegalArgumentException("disk size must be positive: " + sizeSectors);
    }
    long entries = (sizeSectors + clusterSectors - 1) / clusterSectors;
    return new ImageGeometry(clusterSectors, entries);
  }

  /** Cluster size in bytes. */
  public long clusterBytes() {
    return (long) clusterSectors * SECTOR;
  }

  /** Virtual disk size in sectors ({@code m_SizeInSectors}). */
  public long sizeSectors() {
    return batEntries * clusterSectors;
  }

  /** Virtual disk size in bytes: the size of {@code disk.img}. */
  public long sizeBytes() {
    return sizeSectors() * SECTOR;
  }

  /** Clusters taken by header + BAT: ceil((16 + entries) * 4 / cluster bytes), at least 1. */
  public long headerClusters() {
    long bytes = (MAP_OFFSET + batEntries) * 4;
    return Math.max(1, (bytes + clusterBytes() - 1) / clusterBytes());
  }

  /** {@code m_FirstBlockOffset}: start of the data area in sectors. */
  public long firstBlockOffsetSectors() {
    return headerClusters() * clusterSectors;
  }

  /** Start of the data area in bytes; also the file size of an empty image. */
  public long dataOffsetBytes() {
    return headerClusters() * clusterBytes();
  }

  /** Number of 4 KiB md pages needed to hold header + BAT (the last one may be partial). */
  public int mdPageCount() {
    return (int)
        ((MAP_OFFSET + batEntries + BatLayout.ENTRIES_PER_PAGE - 1) / BatLayout.ENTRIES_PER_PAGE);
  }

  /** Byte offset of the virtual cluster's BAT entry in the file. */
  public static long batEntryOffset(long virtualCluster) {
    return (MAP_OFFSET + virtualCluster) * 4;
  }
}
