package org.jploop.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.BadExtensionException;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.FormatExtension;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;

/**
 * The dirty bitmap (CBT) kept in a delta's Format Extension, on a {@link BlockFile}: read it,
 * append it at the end of the file, cut it off again (lib/cbt.c {@code delta_load_optional_header},
 * {@code delta_save_optional_header}, {@code truncate_ext_blocks}).
 *
 * <p>Layout written, as ploop's: the pieces of the bitmap that are neither all clean nor all dirty,
 * one cluster each (bytes at the start, zeros after), then the extension cluster, all appended at
 * the cluster-aligned end of the file; the header then says {@link ImageHeader#CLOSED_V21} with
 * {@code m_FormatExtensionOffset} = the extension's sector. jploop forces pieces and extension
 * before it writes the header (ploop writes the header first, leaving a crash window in which the
 * header points at nothing).
 *
 * <p>Reading trusts nothing: besides ploop's checks the extension and every piece must be cluster
 * aligned, lie past the data clusters ({@code dataEnd}) and inside the file, pieces before the
 * extension, and {@code m_L1Size} may not exceed what the bitmap needs. Nothing is written by
 * {@link #read}. Stateless.
 */
public final class CbtStore {
  private CbtStore() {}

  /**
   * A dirty bitmap found in a delta.
   *
   * @param bitmap the bitmap
   * @param extensionOffset byte offset of the extension cluster
   * @param pieceOffsets byte offsets of the clusters holding pieces (L1 entries above 1)
   * @param l1 {@code m_L1} as stored: 0 clean piece, 1 dirty piece, else the piece's sector
   *     (ploop's empty CBT has none)
   * @param clusterBytes the image's cluster size, which is the size of a piece
   */
  public record Stored(
      DirtyBitmap bitmap, long extensionOffset, long[] pieceOffsets, long[] l1, int clusterBytes) {
    /** Returns the byte offsets of every cluster the extension occupies. */
    public List<Long> clusters() {
      List<Long> out = new ArrayList<>();
      out.add(extensionOffset);
      for (long p : pieceOffsets) {
        out.add(p);
      }
      return out;
    }
  }

  /**
   * Reads the dirty bitmap of the delta {@code f} whose header is {@code h}: null when there is
   * none ({@code m_FormatExtensionOffset} 0, or the image closed as v2.0, or an extension without a
   * dirty bitmap feature).
   *
   * @param dataEnd byte offset where the clusters the BAT references end (header included)
   * @throws BadExtensionException for an image that was not cleanly closed ("Can't load
   *     dirty_bitmap, because image was not successfully closed") or a bad extension, with ploop's
   *     message; nothing is modified
   */
  public static Stored read(BlockFile f, ImageHeader h, long dataEnd) throws IOException {
    if (h.formatExtensionOffset() == 0 || h.diskInUse() == ImageHeader.CLOSED_V20) {
      return null;
    }
    if (h.diskInUse() != ImageHeader.CLOSED_V21) {
      throw new BadExtensionException(
          f.path(),
          ImageHeader.OFFSET_DISK_IN_USE,
          "Can't load dirty_bitmap, because image was not successfully closed");
    }
    int cluster = (int) (h.clusterSectors() * ImageGeometry.SECTOR);
    long size = f.size();
    long ext = h.formatExtensionOffset();
    if (ext % h.clusterSectors() != 0) {
      throw new BadExtensionException(
          f.path(),
          ImageHeader.OFFSET_EXTENSION,
          "FormatExtensionOffset "
              + Long.toUnsignedString(ext)
              + " is not aligned to cluster "
              + h.clusterSectors());
    }
    if (Long.compareUnsigned(ext, Long.MAX_VALUE / ImageGeometry.SECTOR) > 0
        || ext * ImageGeometry.SECTOR + cluster > size) {
      throw new BadExtensionException(
          f.path(),
          ImageHeader.OFFSET_EXTENSION,
          "FormatExtensionOffset "
              + Long.toUnsignedString(ext)
              + " sectors beyond EOF ("
              + size
              + " bytes)");
    }
    long extBytes = ext * ImageGeometry.SECTOR;
    if (extBytes < dataEnd) {
      throw new BadExtensionException(
          f.path(),
          ImageHeader.OFFSET_EXTENSION,
          "FormatExtensionOffset "
              + ext
              + " lies inside the data clusters (they end at byte "
              + dataEnd
              + ")");
    }
    ByteBuffer buf = ByteBuffer.allocate(cluster);
    f.read(buf, extBytes);
    FormatExtension.BitmapFeature feature =
        FormatExtension.decode(f.path(), extBytes, buf.array(), h.sizeSectors());
    if (feature == null) {
      return null;
    }
    long granules = DirtyBitmap.bitsFor(feature.sizeSectors(), feature.granularitySectors());
    if (granules > DirtyBitmap.MAX_BITS) {
      throw new BadExtensionException(
          f.path(),
          extBytes + FormatExtension.L1_OFFSET - 8,
          "Spoiled bitmap extension data: "
              + granules
              + " granules of "
              + feature.granularitySectors()
              + " sectors, more than jploop tracks ("
              + DirtyBitmap.MAX_BITS
              + ")");
    }
    DirtyBitmap.Builder b =
        new DirtyBitmap.Builder(feature.id(), feature.sizeSectors(), feature.granularitySectors());
    long bytes = (b.bits() + 7) >>> 3;
    long pieces = (bytes + cluster - 1) / cluster;
    long[] l1 = feature.l1();
    if (l1.length > pieces) {
      throw new BadExtensionException(
          f.path(),
          extBytes + FormatExtension.L1_OFFSET - 4,
          "Spoiled bitmap extension data: m_L1Size "
              + l1.length
              + ", but a bitmap of "
              + feature.sizeSectors()
              + " sectors has "
              + pieces
              + " pieces");
    }
    List<Long> pieceOffsets = new ArrayList<>();
    for (int i = 0; i < l1.length; i++) {
      long entry = l1[i];
      long first = (long) i * cluster;
      int n = (int) Math.min(cluster, bytes - first);
      if (entry == 0) {
        continue;
      }
      if (entry == 1) {
        b.setRange(first * 8, (first + n) * 8);
        continue;
      }
      long at = extBytes + FormatExtension.L1_OFFSET + 8L * i;
      if (entry % h.clusterSectors() != 0) {
        throw new BadExtensionException(
            f.path(),
            at,
            "The L1 extension table pointer "
                + Long.toUnsignedString(entry)
                + " is not aligned to the cluster");
      }
      if (Long.compareUnsigned(entry, extBytes / ImageGeometry.SECTOR) >= 0
          || entry * ImageGeometry.SECTOR + cluster > extBytes
          || entry * ImageGeometry.SECTOR < dataEnd) {
        throw new BadExtensionException(
            f.path(),
            at,
            "The L1 extension table pointer "
                + Long.toUnsignedString(entry)
                + " corrupted, start: "
                + dataEnd / ImageGeometry.SECTOR
                + " end: "
                + ext);
      }
      ByteBuffer piece = ByteBuffer.allocate(n);
      f.read(piece, entry * ImageGeometry.SECTOR);
      byte[] p = piece.array();
      for (int k = 0; k < n; k++) {
        if (p[k] != 0) {
          b.orByte(first + k, p[k]);
        }
      }
      pieceOffsets.add(entry * ImageGeometry.SECTOR);
    }
    return new Stored(
        b.build(),
        extBytes,
        pieceOffsets.stream().mapToLong(Long::longValue).toArray(),
        l1,
        cluster);
  }

  /**
   * Returns where the file of {@code fileSize} bytes ends once the clusters of {@code s} that sit
   * contiguously at its end are cut off (ploop's {@code truncate_ext_blocks}); a file size that is
   * not a multiple of the cluster is left alone, as ploop does.
   */
  public static long trimmedEnd(Stored s, long fileSize, long clusterBytes) {
    if (fileSize % clusterBytes != 0) {
      return fileSize;
    }
    List<Long> left = new ArrayList<>(s.clusters());
    long end = fileSize;
    while (left.remove(Long.valueOf(end - clusterBytes))) {
      end -= clusterBytes;
    }
    return end;
  }

  /**
   * Appends {@code bitmap} to the delta {@code f} (header {@code h}, whose in-use marker and flags
   * are kept until the end) and makes it valid: pieces and extension written and forced, then the
   * header with {@link ImageHeader#CLOSED_V21} and the extension offset written and forced. Returns
   * the header written.
   *
   * @throws IllegalArgumentException if the bitmap has no name or does not cover the image size
   */
  public static ImageHeader write(BlockFile f, ImageHeader h, DirtyBitmap bitmap)
      throws IOException {
    if (bitmap.id() == null) {
      throw new IllegalArgumentException("a CBT without a UUID cannot be stored");
    }
    if (bitmap.sizeSectors() != h.sizeSectors()) {
      throw new IllegalArgumentException(
          f.path()
              + ": dirty bitmap of "
              + bitmap.sizeSectors()
              + " sectors for an image of "
              + h.sizeSectors());
    }
    int cluster = (int) (h.clusterSectors() * ImageGeometry.SECTOR);
    long pieces = bitmap.pieceCount(cluster);
    if (pieces > FormatExtension.maxL1Entries(cluster)) {
      throw new IllegalArgumentException(
          f.path()
              + ": a dirty bitmap of "
              + pieces
              + " pieces does not fit one "
              + cluster
              + "-byte extension cluster");
    }
    long pos = (f.size() + cluster - 1) / cluster * cluster;
    long[] l1 = new long[(int) pieces];
    for (int i = 0; i < pieces; i++) {
      byte[] piece = bitmap.piece(i, cluster);
      int constant = constantValue(piece);
      if (constant >= 0) {
        l1[i] = constant;
        continue;
      }
      ByteBuffer block = ByteBuffer.allocate(cluster);
      block.put(piece).clear();
      f.write(block, pos);
      l1[i] = pos / ImageGeometry.SECTOR;
      pos += cluster;
    }
    byte[] ext =
        FormatExtension.encode(
            new FormatExtension.BitmapFeature(
                bitmap.id(), bitmap.sizeSectors(), bitmap.granularitySectors(), l1),
            cluster);
    f.write(ByteBuffer.wrap(ext), pos);
    f.force();
    ImageHeader next =
        h.withDiskInUse(ImageHeader.CLOSED_V21)
            .withFormatExtensionOffset(pos / ImageGeometry.SECTOR);
    ImageWriter.writeHeader(f, next);
    return next;
  }

  /** Returns 0 or 1 when every byte is 0x00 or 0xFF (ploop's {@code is_const_bit}), else -1. */
  static int constantValue(byte[] piece) {
    byte first = piece[0];
    if (first != 0 && first != (byte) 0xFF) {
      return -1;
    }
    for (byte v : piece) {
      if (v != first) {
        return -1;
      }
    }
    return first == 0 ? 0 : 1;
  }

  /**
   * Drops the dirty bitmap of {@code f}: the header says v2.0 with no extension (written and forced
   * first), then the extension's clusters at the end of the file are cut off (ploop's drop leaves
   * the header pointing at the cut-off extension; jploop clears it, since QEMU parses any non-zero
   * offset). Returns the header written, or {@code h} if there was nothing to drop.
   *
   * @throws BadExtensionException if the extension is bad: nothing is changed (as ploop's drop;
   *     {@code ploop check -f} removes a bad extension)
   */
  public static ImageHeader drop(BlockFile f, ImageHeader h, long dataEnd) throws IOException {
    Stored s = read(f, h, dataEnd);
    if (s == null && h.formatExtensionOffset() == 0) {
      return h;
    }
    ImageHeader next =
        h.withFormatExtensionOffset(0)
            .withDiskInUse(
                h.diskInUse() == ImageHeader.CLOSED_V21 ? ImageHeader.CLOSED_V20 : h.diskInUse());
    ImageWriter.writeHeader(f, next);
    if (s != null) {
      long cluster = h.clusterSectors() * ImageGeometry.SECTOR;
      long end = trimmedEnd(s, f.size(), cluster);
      if (end < f.size()) {
        f.truncate(end);
        f.force();
      }
    }
    return next;
  }
}
