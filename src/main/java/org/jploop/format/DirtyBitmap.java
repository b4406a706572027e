package org.jploop.format;

import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * A changed-block-tracking bitmap as ploop keeps it (lib/cbt.c, {@code struct
 * ploop_pvd_dirty_bitmap_raw}): a name (the CBT UUID), the disk size it covers in sectors ({@code
 * m_Size}), the granularity in sectors ({@code m_Granularity}, a power of two; ploop's default is
 * 64 KiB = {@value #DEFAULT_GRANULARITY_SECTORS} sectors) and one bit per granule, set when the
 * granule was written since the bitmap started.
 *
 * <p>Bit {@code n} covers bytes {@code [n * granularity, (n + 1) * granularity)} of the disk and is
 * bit {@code n % 8} (least significant first) of byte {@code n / 8} of ploop's bitmap, which is cut
 * into cluster-sized pieces ({@link #pieceBytes}) for the Format Extension. Held as 64-bit words
 * (word {@code w} = bytes {@code 8w..8w+7}, little-endian) in pages of {@value #PAGE_WORDS} words;
 * a page that is all zeros is not allocated, so a clean bitmap of a large disk costs little. Bits
 * past {@link #bits()} are always 0.
 *
 * <p>Immutable; build one with {@link Builder}.
 */
public final class DirtyBitmap {
  /** ploop's {@code CBT_DEFAULT_BLKSIZE} (65536 bytes) in sectors. */
  public static final int DEFAULT_GRANULARITY_SECTORS = 128;

  /** Words per page of the sparse representation (32 KiB, 256 Ki granules). */
  public static final int PAGE_WORDS = 4096;

  /**
   * Most granules jploop tracks (256 MiB of bitmap): a 50 TiB disk, ploop's limit, has 2^30 at the
   * default granularity.
   */
  public static final long MAX_BITS = 1L << 31;

  private final UUID id;
  private final long sizeSectors;
  private final int granularitySectors;
  private final long bits;

  /** Pages of words; null = all zero. */
  private final long[][] pages;

  private DirtyBitmap(UUID id, long sizeSectors, int granularitySectors, long[][] pages) {
    this.id = id;
    this.sizeSectors = sizeSectors;
    this.granularitySectors = granularitySectors;
    this.bits = bitsFor(sizeSectors, granularitySectors);
    this.pages = pages;
  }

  /** Returns the number of granules (bits) a bitmap of {@code sizeSectors} covers. */
  public static long bitsFor(long sizeSectors, int granularitySectors) {
    return (sizeSectors + granularitySectors - 1) / granularitySectors;
  }

  /** Returns whether {@code sectors} is a usable granularity: a power of two, at least 1. */
  public static boolean isValidGranularity(long sectors) {
    return sectors > 0 && sectors <= (1L << 22) && Long.bitCount(sectors) == 1;
  }

  /** Returns an all-clean bitmap. */
  public static DirtyBitmap empty(UUID id, long sizeSectors, int granularitySectors) {
    return new Builder(id, sizeSectors, granularitySectors).build();
  }

  /** Returns the CBT UUID, or null for an unnamed tracker (a copy sender's). */
  public UUID id() {
    return id;
  }

  /** Returns {@code m_Size}: the disk size covered, in sectors. */
  public long sizeSectors() {
    return sizeSectors;
  }

  /** Returns {@code m_Granularity} in sectors. */
  public int granularitySectors() {
    return granularitySectors;
  }

  /** Returns the granularity in bytes. */
  public long granularityBytes() {
    return (long) granularitySectors * ImageGeometry.SECTOR;
  }

  /** Returns the number of bits: ceil(m_Size / m_Granularity). */
  public long bits() {
    return bits;
  }

  /** Returns ploop's bitmap length in bytes: ceil(bits / 8). */
  public long bytes() {
    return (bits + 7) >>> 3;
  }

  /** Returns the number of cluster-sized pieces ({@code m_L1Size} as ploop computes it). */
  public long pieceCount(long clusterBytes) {
    return (bytes() + clusterBytes - 1) / clusterBytes;
  }

  /** Returns the bytes of piece {@code index}: the cluster size, or less for the last piece. */
  public int pieceBytes(long index, long clusterBytes) {
    return (int) Math.min(clusterBytes, bytes() - index * clusterBytes);
  }

  /** Returns whether granule {@code bit} is dirty. */
  public boolean get(long bit) {
    if (bit < 0 || bit >= bits) {
      return false;
    }
    long w = word(bit >>> 6);
    return (w & (1L << bit)) != 0;
  }

  /** Returns the word {@code w} (bits {@code 64w..64w+63}); 0 past the end. */
  public long word(long w) {
    long[] page = pageOf(w);
    return page == null ? 0 : page[(int) (w % PAGE_WORDS)];
  }

  private long[] pageOf(long w) {
    long p = w / PAGE_WORDS;
    return w < 0 || p >= pages.length ? null : pages[(int) p];
  }

  /** Returns the number of words ({@code ceil(bits / 64)}). */
  public long words() {
    return (bits + 63) >>> 6;
  }

  /** Returns the number of dirty granules. */
  public long cardinality() {
    long n = 0;
    for (long[] p : pages) {
      if (p != null) {
        for (long w : p) {
          n += Long.bitCount(w);
        }
      }
    }
    return n;
  }

  /** Returns the first dirty granule at or after {@code from}, or -1. */
  public long nextSetBit(long from) {
    if (from < 0) {
      from = 0;
    }
    long w = from >>> 6;
    long mask = -1L << (from & 63);
    long words = words();
    while (w < words) {
      long[] page = pageOf(w);
      if (page == null) {
        w = (w / PAGE_WORDS + 1) * PAGE_WORDS;
        mask = -1L;
        continue;
      }
      long v = page[(int) (w % PAGE_WORDS)] & mask;
      if (v != 0) {
        return (w << 6) + Long.numberOfTrailingZeros(v);
      }
      w++;
      mask = -1L;
    }
    return -1;
  }

  /** Returns byte {@code i} of ploop's bitmap (bits {@code 8i..8i+7}, least significant first). */
  public int byteAt(long i) {
    return (int) (word(i >>> 3) >>> ((i & 7) * 8)) & 0xFF;
  }

  /** Returns piece {@code index} as ploop stores it: {@link #pieceBytes} bytes of the bitmap. */
  public byte[] piece(long index, long clusterBytes) {
    int n = pieceBytes(index, clusterBytes);
    byte[] out = new byte[n];
    long start = index * clusterBytes;
    for (int i = 0; i < n; i++) {
      out[i] = (byte) byteAt(start + i);
    }
    return out;
  }

  /** Returns a copy with another name (ploop's {@code BLKCBTSET} with {@code CI_FLAG_NEW_UUID}). */
  public DirtyBitmap withId(UUID newId) {
    return new DirtyBitmap(newId, sizeSectors, granularitySectors, pages);
  }

  /**
   * Returns a copy covering {@code newSizeSectors}: granules past the old end are clean, granules
   * past the new end are dropped (the kernel's {@code blk_cbt_update_size}).
   */
  public DirtyBitmap resized(long newSizeSectors) {
    Builder b = new Builder(id, newSizeSectors, granularitySectors);
    b.or(this);
    return b.build();
  }

  /** Returns whether both bitmaps have the same geometry (size and granularity). */
  public boolean sameGeometry(DirtyBitmap o) {
    return sizeSectors == o.sizeSectors && granularitySectors == o.granularitySectors;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof DirtyBitmap b) || !Objects.equals(id, b.id) || !sameGeometry(b)) {
      return false;
    }
    for (long w = 0; w < words(); w++) {
      if (word(w) != b.word(w)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int h = Objects.hash(id, sizeSectors, granularitySectors);
    for (long[] p : pages) {
      h = 31 * h + (p == null ? 0 : Arrays.hashCode(p));
    }
    return h;
  }

  @Override
  public String toString() {
    return "DirtyBitmap["
        + id
        + ", "
        + sizeSectors
        + " sectors, granularity "
        + granularitySectors
        + ", "
        + cardinality()
        + "/"
        + bits
        + " dirty]";
  }

  /** Builds a {@link DirtyBitmap}; not thread-safe. */
  public static final class Builder {
    private final UUID id;
    private final long sizeSectors;
    private final int granularitySectors;
    private final long bits;
    private final long[][] pages;

    /**
     * Starts an all-clean bitmap.
     *
     * @throws IllegalArgumentException for a size below 1 or a granularity that is not a power of
     *     two
     */
    public Builder(UUID id, long sizeSectors, int granularitySectors) {
      if (sizeSectors <= 0 || !isValidGranularity(granularitySectors)) {
        throw new IllegalArgumentException(
            "dirty bitmap of "
                + sizeSectors
                + " sectors with granularity "
                + granularitySectors
                + " sectors");
      }
      this.id = id;
      this.sizeSectors = sizeSectors;
      this.granularitySectors = granularitySectors;
      this.bits = bitsFor(sizeSectors, granularitySectors);
      if (bits > MAX_BITS) {
        throw new IllegalArgumentException(
            "dirty bitmap of " + bits + " bits is too large (max " + MAX_BITS + ")");
      }
      long words = (bits + 63) >>> 6;
      this.pages = new long[(int) ((words + PAGE_WORDS - 1) / PAGE_WORDS)][];
    }

    /** Returns the number of bits. */
    public long bits() {
      return bits;
    }

    private long[] page(long w) {
      int p = (int) (w / PAGE_WORDS);
      if (pages[p] == null) {
        pages[p] = new long[PAGE_WORDS];
      }
      return pages[p];
    }

    /** ORs {@code value} into word {@code w}; bits past the end are ignored. */
    public Builder orWord(long w, long value) {
      long words = (bits + 63) >>> 6;
      if (w < 0 || w >= words) {
        return this;
      }
      if (w == words - 1 && (bits & 63) != 0) {
        value &= (1L << (bits & 63)) - 1;
      }
      if (value != 0) {
        page(w)[(int) (w % PAGE_WORDS)] |= value;
      }
      return this;
    }

    /** Sets granule {@code bit}; bits past the end are ignored. */
    public Builder set(long bit) {
      if (bit >= 0 && bit < bits) {
        orWord(bit >>> 6, 1L << bit);
      }
      return this;
    }

    /** Sets granules {@code [from, to)}, clipped to the bitmap. */
    public Builder setRange(long from, long to) {
      from = Math.max(0, from);
      to = Math.min(bits, to);
      while (from < to) {
        long w = from >>> 6;
        int lo = (int) (from & 63);
        int n = (int) Math.min(64 - lo, to - from);
        long mask = n == 64 ? -1L : ((1L << n) - 1) << lo;
        orWord(w, mask);
        from += n;
      }
      return this;
    }

    /** ORs byte {@code i} of ploop's bitmap ({@code value}'s low 8 bits). */
    public Builder orByte(long i, int value) {
      return orWord(i >>> 3, (long) (value & 0xFF) << ((i & 7) * 8));
    }

    /** ORs every bit of {@code other} that lies inside this bitmap (same granularity). */
    public Builder or(DirtyBitmap other) {
      if (other.granularitySectors != granularitySectors) {
        throw new IllegalArgumentException(
            "granularity "
                + other.granularitySectors
                + " sectors differs from "
                + granularitySectors);
      }
      long words = Math.min(other.words(), (bits + 63) >>> 6);
      for (long w = 0; w < words; w++) {
        long v = other.word(w);
        if (v != 0) {
          orWord(w, v);
        }
      }
      return this;
    }

    /** Returns the bitmap built so far; the builder must not be used afterwards. */
    public DirtyBitmap build() {
      return new DirtyBitmap(id, sizeSectors, granularitySectors, pages);
    }
  }
}
