package org.jploop.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * The Format Extension cluster of a ploop1 image carrying a dirty bitmap (include/ploop1_image.h,
 * lib/cbt.c; also read by QEMU's parallels driver), bytes to values and back. Little-endian, one
 * cluster, pointed at by the header's {@code m_FormatExtensionOffset} (in sectors) and valid only
 * while {@code m_DiskInUse} is {@link ImageHeader#CLOSED_V21}:
 *
 * <pre>
 * Extension --&gt; Magic u64 (0xAB234CEF23DCEA87), Md5[16] of bytes [24, cluster end),
 *               Feature*, Terminator (24 zero bytes)
 * Feature   --&gt; Magic u64 (0x20385FAE252CB34A = dirty bitmap), Flags u64 (0), DataSize u32,
 *               Unused u32, Data[DataSize]
 * Bitmap    --&gt; m_Size u64 (sectors), m_Id[16] (UUID, textual byte order), m_Granularity u32
 *               (sectors), m_L1Size u32, m_L1 u64[m_L1Size]
 * </pre>
 *
 * <p>An L1 entry is 0 (piece all clean), 1 (piece all dirty) or the sector offset of a cluster
 * holding the piece's bytes at its start. ploop writes exactly one feature, so the terminator sits
 * at {@code 80 + 8 * m_L1Size}. Decoding checks in ploop's order ({@code
 * delta_load_optional_header}) with ploop's messages; stateless.
 */
public final class FormatExtension {
  /** {@code FORMAT_EXTENSION_MAGIC}. */
  public static final long MAGIC = 0xAB234CEF23DCEA87L;

  /** {@code EXT_MAGIC_DIRTY_BITMAP}. */
  public static final long DIRTY_BITMAP_MAGIC = 0x20385FAE252CB34AL;

  /** Bytes of the block check (magic + MD5) that the MD5 does not cover. */
  public static final int CHECK_BYTES = 24;

  /** Bytes of a feature header. */
  public static final int FEATURE_HEADER_BYTES = 24;

  /** Bytes of the dirty bitmap feature before its L1 table. */
  public static final int BITMAP_HEADER_BYTES = 32;

  /** Offset of the first L1 entry in the cluster. */
  public static final int L1_OFFSET = CHECK_BYTES + FEATURE_HEADER_BYTES + BITMAP_HEADER_BYTES;

  /**
   * The dirty bitmap feature as stored: everything but the pieces.
   *
   * @param id {@code m_Id}
   * @param sizeSectors {@code m_Size}
   * @param granularitySectors {@code m_Granularity}
   * @param l1 {@code m_L1} ({@code m_L1Size} entries)
   */
  public record BitmapFeature(UUID id, long sizeSectors, int granularitySectors, long[] l1) {}

  private FormatExtension() {}

  /** Returns the most L1 entries a cluster of {@code clusterBytes} can hold with a terminator. */
  public static long maxL1Entries(long clusterBytes) {
    return (clusterBytes - L1_OFFSET - FEATURE_HEADER_BYTES) / 8;
  }

  /**
   * Encodes the extension cluster: block check with MD5, the bitmap feature (flags 0), zeros after
   * it (the terminator and the rest of the cluster).
   *
   * @throws IllegalArgumentException if the L1 table does not fit into one cluster
   */
  public static byte[] encode(BitmapFeature f, int clusterBytes) {
    if (f.l1().length > maxL1Entries(clusterBytes)) {
      throw new IllegalArgumentException(
          "L1 table of "
              + f.l1().length
              + " entries does not fit into a "
              + clusterBytes
              + "-byte extension cluster");
    }
    ByteBuffer b = ByteBuffer.allocate(clusterBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(0, MAGIC);
    int fh = CHECK_BYTES;
    b.putLong(fh, DIRTY_BITMAP_MAGIC);
    b.putLong(fh + 8, 0);
    b.putInt(fh + 16, BITMAP_HEADER_BYTES + 8 * f.l1().length);
    b.putInt(fh + 20, 0);
    int d = fh + FEATURE_HEADER_BYTES;
    b.putLong(d, f.sizeSectors());
    b.order(ByteOrder.BIG_ENDIAN);
    b.putLong(d + 8, f.id().getMostSignificantBits());
    b.putLong(d + 16, f.id().getLeastSignificantBits());
    b.order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(d + 24, f.granularitySectors());
    b.putInt(d + 28, f.l1().length);
    for (int i = 0; i < f.l1().length; i++) {
      b.putLong(L1_OFFSET + 8 * i, f.l1()[i]);
    }
    byte[] out = b.array();
    System.arraycopy(md5(out, CHECK_BYTES, clusterBytes - CHECK_BYTES), 0, out, 8, 16);
    return out;
  }

  /**
   * Decodes an extension cluster read at byte {@code extOffset} of {@code file}, as ploop does:
   * magic, MD5, then the feature walk (unknown features are skipped); a dirty bitmap must cover
   * exactly {@code imageSizeSectors} and its L1 table must fit its data size. Returns null when the
   * walk ends without a dirty bitmap; with several, the last one (as ploop).
   *
   * @throws BadExtensionException with ploop's message ("Wrong optional header magic", "Wrong
   *     optional header checksum", "Spoiled optional header", "Image size is not equal to
   *     dirty_bitmap size", "Spoiled bitmap extension data")
   */
  public static BitmapFeature decode(
      Path file, long extOffset, byte[] cluster, long imageSizeSectors)
      throws BadExtensionException {
    ByteBuffer b = ByteBuffer.wrap(cluster).order(ByteOrder.LITTLE_ENDIAN);
    if (cluster.length < CHECK_BYTES || b.getLong(0) != MAGIC) {
      throw new BadExtensionException(file, extOffset, "Wrong optional header magic");
    }
    byte[] want = md5(cluster, CHECK_BYTES, cluster.length - CHECK_BYTES);
    if (!MessageDigest.isEqual(want, java.util.Arrays.copyOfRange(cluster, 8, 24))) {
      throw new BadExtensionException(file, extOffset + 8, "Wrong optional header checksum");
    }
    BitmapFeature found = null;
    long h = CHECK_BYTES;
    while (true) {
      long data = h + FEATURE_HEADER_BYTES;
      if (data > cluster.length
          || data + Integer.toUnsignedLong(b.getInt((int) h + 16)) > cluster.length) {
        throw new BadExtensionException(file, extOffset + h, "Spoiled optional header");
      }
      long magic = b.getLong((int) h);
      long size = Integer.toUnsignedLong(b.getInt((int) h + 16));
      if (magic == 0) {
        break;
      }
      if (magic == DIRTY_BITMAP_MAGIC) {
        found = decodeBitmap(file, extOffset, b, (int) data, size, imageSizeSectors);
      }
      h = data + size;
    }
    return found;
  }

  private static BitmapFeature decodeBitmap(
      Path file, long extOffset, ByteBuffer b, int data, long size, long imageSizeSectors)
      throws BadExtensionException {
    if (size < BITMAP_HEADER_BYTES) {
      throw new BadExtensionException(
          file,
          extOffset + data,
          "Spoiled bitmap extension data: "
              + size
              + " bytes, less than the "
              + BITMAP_HEADER_BYTES
              + "-byte bitmap header");
    }
    long mSize = b.getLong(data);
    if (mSize != imageSizeSectors) {
      throw new BadExtensionException(
          file,
          extOffset + data,
          "Image size is not equal to dirty_bitmap size ("
              + Long.toUnsignedString(mSize)
              + " sectors, the image has "
              + imageSizeSectors
              + ")");
    }
    b.order(ByteOrder.BIG_ENDIAN);
    UUID id = new UUID(b.getLong(data + 8), b.getLong(data + 16));
    b.order(ByteOrder.LITTLE_ENDIAN);
    long gran = Integer.toUnsignedLong(b.getInt(data + 24));
    long l1Size = Integer.toUnsignedLong(b.getInt(data + 28));
    if (size < BITMAP_HEADER_BYTES + 8 * l1Size) {
      throw new BadExtensionException(
          file,
          extOffset + data + 28,
          "Spoiled bitmap extension data: m_L1Size "
              + l1Size
              + " needs "
              + (BITMAP_HEADER_BYTES + 8 * l1Size)
              + " bytes, the feature has "
              + size);
    }
    if (!DirtyBitmap.isValidGranularity(gran)) {
      throw new BadExtensionException(
          file,
          extOffset + data + 24,
          "Spoiled bitmap extension data: m_Granularity "
              + gran
              + " sectors is not a power of two");
    }
    long[] l1 = new long[(int) l1Size];
    for (int i = 0; i < l1.length; i++) {
      l1[i] = b.getLong(data + BITMAP_HEADER_BYTES + 8 * i);
    }
    return new BitmapFeature(id, mSize, (int) gran, l1);
  }

  /** Returns the MD5 of {@code len} bytes of {@code b} at {@code off}. */
  static byte[] md5(byte[] b, int off, int len) {
    try {
      MessageDigest md = MessageDigest.getInstance("MD5");
      md.update(b, off, len);
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no MD5", e);
    }
  }
}
