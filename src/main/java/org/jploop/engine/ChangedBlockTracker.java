package org.jploop.engine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.ImageGeometry;

/**
 * The dirty bitmap of an open disk, the kernel's {@code struct cbt_info} (block/blk-cbt.c): one bit
 * per granule of {@link #granularityBytes()} (a power of two, ploop's default 64 KiB), set by every
 * write, punch and zero-range once it has completed, for backup tools (changed-block tracking,
 * ploop's CBT, named by a UUID and saved into the top delta at a clean close) and for a live-copy
 * sender (an unnamed tracker, like dm-tracking's bitmap).
 *
 * <p>Thread-safe without locks. Words live in pages of {@link DirtyBitmap#PAGE_WORDS} longs,
 * allocated on first use (a compare-and-set on the page slot). {@link #mark} issues a full fence,
 * so that the data it follows is visible before its bit may be seen, then reads the word and, only
 * if a bit is missing, ORs the bits in atomically ({@code getAndBitwiseOr}); repeated writes to a
 * dirty granule thus cost a fence and a read. {@link #takeAndClear} swaps each word with 0
 * atomically, so a bit set concurrently is either in the result or stays set for the next call:
 * nothing is lost, nothing reported twice. The name is volatile.
 */
public final class ChangedBlockTracker {
  private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
  private static final int PAGE = DirtyBitmap.PAGE_WORDS;

  private volatile UUID id;
  private final long sizeBytes;
  private final int granularitySectors;
  private final int shift;
  private final long bits;
  private final AtomicReferenceArray<long[]> pages;

  /**
   * Creates a clean tracker for a disk of {@code sizeBytes} (a multiple of 512).
   *
   * @param id the CBT UUID, or null for an unnamed tracker
   * @throws IllegalArgumentException for a granularity that is not a power of two of at least 512
   *     bytes
   */
  public ChangedBlockTracker(UUID id, long sizeBytes, long granularityBytes) {
    if (granularityBytes < ImageGeometry.SECTOR
        || Long.bitCount(granularityBytes) != 1
        || !DirtyBitmap.isValidGranularity(granularityBytes / ImageGeometry.SECTOR)) {
      throw new IllegalArgumentException(
          "CBT block size " + granularityBytes + " is not a power of two of at least 512 bytes");
    }
    if (sizeBytes <= 0 || sizeBytes % ImageGeometry.SECTOR != 0) {
      throw new IllegalArgumentException("disk size " + sizeBytes + " is not whole sectors");
    }
    this.id = id;
    this.sizeBytes = sizeBytes;
    this.granularitySectors = (int) (granularityBytes / ImageGeometry.SECTOR);
    this.shift = Long.numberOfTrailingZeros(granularityBytes);
    this.bits = DirtyBitmap.bitsFor(sizeBytes / ImageGeometry.SECTOR, granularitySectors);
    if (bits > DirtyBitmap.MAX_BITS) {
      throw new IllegalArgumentException(
          "a CBT of "
              + bits
              + " granules is too large (max "
              + DirtyBitmap.MAX_BITS
              + "); use a larger block size");
    }
    long words = (bits + 63) >>> 6;
    this.pages = new AtomicReferenceArray<>((int) ((words + PAGE - 1) / PAGE));
  }

  /**
   * Creates a tracker holding the bits, name and geometry of {@code b} (a CBT loaded from disk).
   */
  public static ChangedBlockTracker of(DirtyBitmap b) {
    ChangedBlockTracker t =
        new ChangedBlockTracker(
            b.id(), b.sizeSectors() * ImageGeometry.SECTOR, b.granularityBytes());
    t.set(b);
    return t;
  }

  /** Returns the CBT UUID, or null for an unnamed tracker. */
  public UUID id() {
    return id;
  }

  /** Renames the bitmap, keeping its bits (ploop's {@code BLKCBTSET} with {@code NEW_UUID}). */
  public void rename(UUID newId) {
    this.id = newId;
  }

  /** Returns the disk size covered, in bytes. */
  public long sizeBytes() {
    return sizeBytes;
  }

  /** Returns the granule size in bytes. */
  public long granularityBytes() {
    return 1L << shift;
  }

  /** Returns the number of granules. */
  public long bits() {
    return bits;
  }

  /**
   * Marks the granules that {@code [offset, offset+length)} touches as dirty; called after the
   * request has completed. Ranges outside the disk are clipped; an empty range marks nothing.
   */
  public void mark(long offset, long length) {
    if (length <= 0 || offset >= sizeBytes || offset < 0) {
      return;
    }
    long first = offset >>> shift;
    long last = (Math.min(sizeBytes, offset + length) - 1) >>> shift;
    VarHandle.fullFence();
    for (long w = first >>> 6; w <= last >>> 6; w++) {
      long lo = Math.max(first, w << 6) & 63;
      long hi = Math.min(last, (w << 6) + 63) & 63;
      long mask = (hi == 63 ? -1L : (1L << (hi + 1)) - 1) & (-1L << lo);
      long[] page = page(w);
      int i = (int) (w % PAGE);
      if (((long) WORDS.getVolatile(page, i) & mask) != mask) {
        WORDS.getAndBitwiseOr(page, i, mask);
      }
    }
  }

  private long[] page(long w) {
    int p = (int) (w / PAGE);
    long[] page = pages.get(p);
    if (page == null) {
      long[] fresh = new long[PAGE];
      page = pages.compareAndExchange(p, null, fresh);
      if (page == null) {
        page = fresh;
      }
    }
    return page;
  }

  /** Returns whether granule {@code bit} is dirty. */
  public boolean isDirty(long bit) {
    if (bit < 0 || bit >= bits) {
      return false;
    }
    long[] page = pages.get((int) ((bit >>> 6) / PAGE));
    return page != null
        && ((long) WORDS.getVolatile(page, (int) ((bit >>> 6) % PAGE)) & (1L << bit)) != 0;
  }

  /** Returns a copy of the bits (ploop's {@code BLKCBTGET}); the tracker keeps them. */
  public DirtyBitmap snapshot() {
    return copy(false);
  }

  /**
   * Returns the bits and clears them, word by word atomically ({@code BLKCBTGET} with {@code
   * CI_FLAG_ONCE}): what a copy sender re-sends next, what a backup epoch ends with.
   */
  public DirtyBitmap takeAndClear() {
    return copy(true);
  }

  private DirtyBitmap copy(boolean clear) {
    DirtyBitmap.Builder b =
        new DirtyBitmap.Builder(id, sizeBytes / ImageGeometry.SECTOR, granularitySectors);
    for (int p = 0; p < pages.length(); p++) {
      long[] page = pages.get(p);
      if (page == null) {
        continue;
      }
      for (int i = 0; i < PAGE; i++) {
        long v = clear ? (long) WORDS.getAndSet(page, i, 0L) : (long) WORDS.getVolatile(page, i);
        if (v != 0) {
          b.orWord((long) p * PAGE + i, v);
        }
      }
    }
    return b.build();
  }

  /**
   * ORs the bits of {@code b} in ({@code BLKCBTSET}).
   *
   * @throws IllegalArgumentException if {@code b} has another size or granularity
   */
  public void set(DirtyBitmap b) {
    if (b.sizeSectors() * ImageGeometry.SECTOR != sizeBytes
        || b.granularitySectors() != granularitySectors) {
      throw new IllegalArgumentException(
          "bitmap of "
              + b.sizeSectors()
              + " sectors, granularity "
              + b.granularitySectors()
              + " does not match the tracker's "
              + sizeBytes / 512
              + " sectors, granularity "
              + granularitySectors);
    }
    long words = (bits + 63) >>> 6;
    for (long w = 0; w < words; w++) {
      long v = b.word(w);
      if (v != 0) {
        WORDS.getAndBitwiseOr(page(w), (int) (w % PAGE), v);
      }
    }
  }

  @Override
  public String toString() {
    return "ChangedBlockTracker["
        + id
        + ", "
        + sizeBytes
        + " bytes, granule "
        + granularityBytes()
        + "]";
  }
}
