package org.jploop.format;

/**
 * Mapping between virtual clusters and the 4 KiB metadata pages ("md pages") the BAT is cached and
 * written in. The BAT is a u32 array starting at file offset 0 whose first 16 slots are the header,
 * so page 0 holds the header and entries 0..1007 and page {@code p > 0} holds entries {@code [1024p
 * - 16, 1024p + 1008)}.
 */
public final class BatLayout {
  /** Size of one md page in bytes (PAGE_SIZE). */
  public static final int PAGE_BYTES = 4096;

  /** u32 slots in one md page (4096 / 4). */
  public static final int ENTRIES_PER_PAGE = PAGE_BYTES / 4;

  /** BAT entries held by page 0 (1024 - 16 header slots). */
  public static final int PAGE0_ENTRIES = ENTRIES_PER_PAGE - ImageGeometry.MAP_OFFSET;

  private BatLayout() {}

  /** Returns the md page holding the entry of {@code virtualCluster}: (c + 16) / 1024. */
  public static int pageOf(long virtualCluster) {
    return (int) ((virtualCluster + ImageGeometry.MAP_OFFSET) / ENTRIES_PER_PAGE);
  }

  /** Returns the slot of {@code virtualCluster} inside its md page: (c + 16) % 1024. */
  public static int slotOf(long virtualCluster) {
    return (int) ((virtualCluster + ImageGeometry.MAP_OFFSET) % ENTRIES_PER_PAGE);
  }

  /**
   * Returns the virtual cluster stored at {@code slot} of {@code page}; negative for header slots.
   */
  public static long clusterAt(int page, int slot) {
    return (long) page * ENTRIES_PER_PAGE + slot - ImageGeometry.MAP_OFFSET;
  }

  /** Returns the byte offset of {@code page} in the image file. */
  public static long pageOffset(int page) {
    return (long) page * PAGE_BYTES;
  }
}
