package org.jploop.format.stream;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.jploop.format.DirtyBitmap;

/**
 * The payload of a DATA_CBT packet: the kernel's {@code struct blk_user_cbt_info} (56 bytes: uuid
 * 16 raw bytes, ci_start u64, ci_length u64, ci_blksize u32, ci_flags u32, ci_mapped_extents u32,
 * ci_extent_count u32, ci_reserved u32, 4 bytes padding) followed by {@code ci_mapped_extents}
 * extents {@code {u64 ce_physical, u64 ce_length, u64 reserved}} in bytes from the disk start. The
 * packet's pos must equal ci_start. Immutable.
 *
 * @param id the CBT's UUID
 * @param start ci_start: where this batch's scan began, in bytes
 * @param length ci_length: how far it covers, in bytes
 * @param blockSize ci_blksize, the CBT granularity in bytes
 * @param extents pairs {@code {physical, length}} in bytes
 */
public record CbtBatch(UUID id, long start, long length, int blockSize, List<long[]> extents) {
  /** Bytes of the struct before the extents. */
  public static final int HEADER_BYTES = 56;

  /** Bytes of one extent. */
  public static final int EXTENT_BYTES = 24;

  /** Extents per batch, as ploop's BLKCBTGET loop asks for. */
  public static final int MAX_EXTENTS = 512;

  /** The largest payload of a DATA_CBT packet. */
  public static final int MAX_BYTES = HEADER_BYTES + EXTENT_BYTES * MAX_EXTENTS;

  public CbtBatch {
    extents = List.copyOf(extents);
  }

  /** Encodes the payload. */
  public byte[] encode() {
    ByteBuffer b =
        ByteBuffer.allocate(HEADER_BYTES + EXTENT_BYTES * extents.size())
            .order(ByteOrder.LITTLE_ENDIAN);
    b.order(ByteOrder.BIG_ENDIAN)
        .putLong(id.getMostSignificantBits())
        .putLong(id.getLeastSignificantBits())
        .order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(start)
        .putLong(length)
        .putInt(blockSize)
        .putInt(0)
        .putInt(extents.size())
        .putInt(extents.size())
        .putInt(0)
        .putInt(0);
    for (long[] e : extents) {
      b.putLong(e[0]).putLong(e[1]).putLong(0);
    }
    return b.array();
  }

  /**
   * Decodes a payload.
   *
   * @throws IllegalArgumentException if it is shorter than its header or its extent count says, the
   *     block size is not a power of two, or an extent is negative
   */
  public static CbtBatch decode(byte[] payload) {
    if (payload.length < HEADER_BYTES) {
      throw new IllegalArgumentException(
          "CBT batch of "
              + payload.length
              + " bytes is shorter"
              + " than its "
              + HEADER_BYTES
              + "-byte header");
    }
    ByteBuffer b = ByteBuffer.wrap(payload).order(ByteOrder.BIG_ENDIAN);
    UUID id = new UUID(b.getLong(0), b.getLong(8));
    b.order(ByteOrder.LITTLE_ENDIAN);
    long start = b.getLong(16);
    long length = b.getLong(24);
    int blockSize = b.getInt(32);
    long count = b.getInt(40) & 0xFFFFFFFFL;
    if (blockSize < 512 || Integer.bitCount(blockSize) != 1) {
      throw new IllegalArgumentException(
          "CBT batch block size " + blockSize + " is not a power of two of at least 512");
    }
    if (count > (payload.length - HEADER_BYTES) / EXTENT_BYTES) {
      throw new IllegalArgumentException(
          "CBT batch says "
              + count
              + " extents but carries "
              + (payload.length - HEADER_BYTES) / EXTENT_BYTES);
    }
    List<long[]> extents = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long phys = b.getLong(HEADER_BYTES + i * EXTENT_BYTES);
      long len = b.getLong(HEADER_BYTES + i * EXTENT_BYTES + 8);
      if (phys < 0 || len <= 0 || phys + len < 0) {
        throw new IllegalArgumentException(
            "CBT batch extent " + i + " {" + phys + ", " + len + "} is out of range");
      }
      extents.add(new long[] {phys, len});
    }
    return new CbtBatch(id, start, length, blockSize, extents);
  }

  /**
   * Cuts {@code bitmap} into batches of at most {@link #MAX_EXTENTS} extents, one extent per run of
   * set bits, in order; an empty bitmap gives one batch with no extents (the receiver still starts
   * the CBT, as ploop's first batch at ci_start 0 does).
   */
  public static List<CbtBatch> of(DirtyBitmap bitmap) {
    long gran = bitmap.granularityBytes();
    long size = bitmap.sizeSectors() * 512;
    List<CbtBatch> out = new ArrayList<>();
    List<long[]> cur = new ArrayList<>();
    long batchStart = 0;
    long bit = bitmap.nextSetBit(0);
    while (bit >= 0) {
      long end = bit;
      while (end < bitmap.bits() && bitmap.get(end)) {
        end++;
      }
      cur.add(new long[] {bit * gran, Math.min(end * gran, size) - bit * gran});
      if (cur.size() == MAX_EXTENTS) {
        long next = Math.min(end * gran, size);
        out.add(new CbtBatch(bitmap.id(), batchStart, next - batchStart, (int) gran, cur));
        cur = new ArrayList<>();
        batchStart = next;
      }
      bit = end < bitmap.bits() ? bitmap.nextSetBit(end) : -1;
    }
    if (!cur.isEmpty() || out.isEmpty()) {
      out.add(new CbtBatch(bitmap.id(), batchStart, size - batchStart, (int) gran, cur));
    }
    return out;
  }
}
