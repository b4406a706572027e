package org.jploop.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The 64-byte ploop1 header ({@code struct ploop_pvd_header}), little-endian, at offset 0 of every
 * image:
 *
 * <pre>
 * Header --&gt; Signature[16], Type u32, Heads u32, Cylinders u32, Sectors u32, Size u32,
 *            SizeInSectors u64, DiskInUse u32, FirstBlockOffset u32, Flags u32, ExtOffset u64
 * </pre>
 *
 * <ul>
 *   <li>Signature: {@code WithoutFreeSpace} (v1) or {@code WithouFreSpacExt} (v2).
 *   <li>Type: always {@value #TYPE_COMPRESSED}.
 *   <li>Heads, Cylinders: CHS geometry, informational.
 *   <li>Sectors ({@code m_Sectors}): the cluster size in sectors.
 *   <li>Size ({@code m_Size}): BAT entries.
 *   <li>SizeInSectors: virtual size; v1 uses only the low 32 bits, the high word must be 0.
 *   <li>DiskInUse: {@link #IN_USE} while open read-write, {@link #CLOSED_V20} or {@link
 *       #CLOSED_V21} when cleanly closed.
 *   <li>FirstBlockOffset: start of the data area in sectors.
 *   <li>Flags: {@link #CIF_EMPTY}, {@link #CIF_FMT_VERSION_CONVERT}; other bits are carried
 *       unchanged (ploop and QEMU ignore them).
 *   <li>ExtOffset: format extension cluster in sectors, 0 = none.
 * </ul>
 *
 * <p>Values are held as Java longs carrying the unsigned u32/u64 field contents.
 */
public record ImageHeader(
    FormatVersion version,
    long type,
    long heads,
    long cylinders,
    long clusterSectors,
    long batEntries,
    long sizeSectors,
    long diskInUse,
    long firstBlockOffset,
    long flags,
    long formatExtensionOffset) {

  /** Header size in bytes. */
  public static final int SIZE = 64;

  public static final int OFFSET_SIGNATURE = 0; // m_Sig[16]
  public static final int OFFSET_TYPE = 16; // m_Type
  public static final int OFFSET_HEADS = 20; // m_Heads
  public static final int OFFSET_CYLINDERS = 24; // m_Cylinders
  public static final int OFFSET_SECTORS = 28; // m_Sectors (cluster size)
  public static final int OFFSET_SIZE = 32; // m_Size (BAT entries)
  public static final int OFFSET_SIZE_IN_SECTORS = 36; // m_SizeInSectors (u64; v1: u32 + Unused)
  public static final int OFFSET_DISK_IN_USE = 44; // m_DiskInUse
  public static final int OFFSET_FIRST_BLOCK = 48; // m_FirstBlockOffset
  public static final int OFFSET_FLAGS = 52; // m_Flags
  public static final int OFFSET_EXTENSION = 56; // m_FormatExtensionOffset (u64)

  /** m_Type of every ploop1 image (PRL_IMAGE_COMPRESSED). */
  public static final long TYPE_COMPRESSED = 2;

  /** SIGNATURE_DISK_IN_USE, bytes on disk "Ynot". */
  public static final long IN_USE = 0x746F6E59L;

  /** SIGNATURE_DISK_CLOSED_V20: cleanly closed, ignore any extension. */
  public static final long CLOSED_V20 = 0;

  /** SIGNATURE_DISK_CLOSED_V21, bytes on disk "v2.1": cleanly closed, extension valid. */
  public static final long CLOSED_V21 = 0x312E3276L;

  /** m_Flags bit: no data was written. */
  public static final long CIF_EMPTY = 0x1;

  /** m_Flags bit: a v1/v2 conversion is in progress. */
  public static final long CIF_FMT_VERSION_CONVERT = 0x2;

  /** Builds the header ploop init writes for {@code geometry}: CIF_Empty, not in use, no ext. */
  public static ImageHeader create(FormatVersion version, ImageGeometry geometry) {
    ChsGeometry chs = ChsGeometry.of(geometry.sizeSectors());
    return new ImageHeader(
        version,
        TYPE_COMPRESSED,
        chs.heads(),
        chs.cylinders(),
        geometry.clusterSectors(),
        geometry.batEntries(),
        geometry.sizeSectors(),
        CLOSED_V20,
        geometry.firstBlockOffsetSectors(),
        CIF_EMPTY,
        0);
  }

  /** Returns the geometry (cluster size and BAT entries) this header describes. */
  public ImageGeometry geometry() {
    return new ImageGeometry((int) clusterSectors, batEntries);
  }

  /** Returns whether the in-use marker says the image was not closed cleanly. */
  public boolean inUse() {
    return diskInUse == IN_USE;
  }

  /** Returns a copy with another in-use marker. */
  public ImageHeader withDiskInUse(long marker) {
    return new ImageHeader(
        version,
        type,
        heads,
        cylinders,
        clusterSectors,
        batEntries,
        sizeSectors,
        marker,
        firstBlockOffset,
        flags,
        formatExtensionOffset);
  }

  /** Returns a copy with other flags. */
  public ImageHeader withFlags(long newFlags) {
    return new ImageHeader(
        version,
        type,
        heads,
        cylinders,
        clusterSectors,
        batEntries,
        sizeSectors,
        diskInUse,
        firstBlockOffset,
        newFlags,
        formatExtensionOffset);
  }

  /** Returns a copy with another format extension offset. */
  public ImageHeader withFormatExtensionOffset(long sectors) {
    return new ImageHeader(
        version,
        type,
        heads,
        cylinders,
        clusterSectors,
        batEntries,
        sizeSectors,
        diskInUse,
        firstBlockOffset,
        flags,
        sectors);
  }

  /** Returns a copy of another version (signature only; BAT units are the caller's business). */
  public ImageHeader withVersion(FormatVersion v) {
    return new ImageHeader(
        v,
        type,
        heads,
        cylinders,
        clusterSectors,
        batEntries,
        sizeSectors,
        diskInUse,
        firstBlockOffset,
        flags,
        formatExtensionOffset);
  }

  /** Returns a copy describing {@code geometry} (size fields, CHS and first block offset). */
  public ImageHeader withGeometry(ImageGeometry geometry) {
    ChsGeometry chs = ChsGeometry.of(geometry.sizeSectors());
    return new ImageHeader(
        version,
        type,
        chs.heads(),
        chs.cylinders(),
        geometry.clusterSectors(),
        geometry.batEntries(),
        geometry.sizeSectors(),
        diskInUse,
        geometry.firstBlockOffsetSectors(),
        flags,
        formatExtensionOffset);
  }

  /** Encodes the 64 header bytes. */
  public byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    b.put(version.signature());
    b.putInt(OFFSET_TYPE, (int) type);
    b.putInt(OFFSET_HEADS, (int) heads);
    b.putInt(OFFSET_CYLINDERS, (int) cylinders);
    b.putInt(OFFSET_SECTORS, (int) clusterSectors);
    b.putInt(OFFSET_SIZE, (int) batEntries);
    if (version == FormatVersion.V1) {
      b.putInt(OFFSET_SIZE_IN_SECTORS, (int) sizeSectors);
      b.putInt(OFFSET_SIZE_IN_SECTORS + 4, 0);
    } else {
      b.putLong(OFFSET_SIZE_IN_SECTORS, sizeSectors);
    }
    b.putInt(OFFSET_DISK_IN_USE, (int) diskInUse);
    b.putInt(OFFSET_FIRST_BLOCK, (int) firstBlockOffset);
    b.putInt(OFFSET_FLAGS, (int) flags);
    b.putLong(OFFSET_EXTENSION, formatExtensionOffset);
    return b.array();
  }

  /**
   * Decodes and validates a header, in the order ploop and QEMU check it: signature, type, cluster
   * size, v1 high word, BAT size versus disk size, first block offset, in-use marker (unknown
   * m_Flags bits are accepted, as ploop and QEMU do).
   *
   * @param file the image, named in errors
   * @param bytes at least the first 64 bytes of the file
   * @param fileSize the file's length, to check the first block offset against
   * @throws CorruptImageException naming the file and the offset of the first bad field
   */
  public static ImageHeader decode(Path file, byte[] bytes, long fileSize)
      throws CorruptImageException {
    if (bytes.length < SIZE || fileSize < SIZE) {
      throw new CorruptImageException(
          file,
          -1,
          "file too short for a ploop header ("
              + Math.min(bytes.length, fileSize)
              + " < 64 bytes)");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes, 0, SIZE).order(ByteOrder.LITTLE_ENDIAN);
    byte[] sig = new byte[16];
    b.get(sig);
    FormatVersion version = FormatVersion.ofSignature(sig);
    if (version == null) {
      throw new CorruptImageException(
          file, OFFSET_SIGNATURE, "Wrong signature in image (not a ploop1 image)");
    }
    long type = u32(b, OFFSET_TYPE);
    if (type != TYPE_COMPRESSED) {
      throw new CorruptImageException(
          file,
          OFFSET_TYPE,
          "Wrong type in image: m_Type=" + type + ", expected " + TYPE_COMPRESSED);
    }
    long sectors = u32(b, OFFSET_SECTORS);
    if (!ImageGeometry.isValidClusterSectors(sectors)) {
      throw new CorruptImageException(
          file,
          OFFSET_SECTORS,
          "Wrong cluster size " + sectors + " sectors (must be a power of two in 64..131072)");
    }
    long entries = u32(b, OFFSET_SIZE);
    long sizeSectors;
    if (version == FormatVersion.V1) {
      sizeSectors = u32(b, OFFSET_SIZE_IN_SECTORS);
      long high = u32(b, OFFSET_SIZE_IN_SECTORS + 4);
      if (high != 0) {
        throw new CorruptImageException(
            file,
            OFFSET_SIZE_IN_SECTORS + 4,
            "v1 image has a non-zero high word of m_SizeInSectors: " + high);
      }
    } else {
      sizeSectors = b.getLong(OFFSET_SIZE_IN_SECTORS);
    }
    if (sizeSectors <= 0) {
      throw new CorruptImageException(
          file,
          OFFSET_SIZE_IN_SECTORS,
          "disk size is " + Long.toUnsignedString(sizeSectors) + " sectors");
    }
    if (entries == 0
        || Math.multiplyHigh(entries, sectors) != 0
        || entries * sectors < sizeSectors) {
      throw new CorruptImageException(
          file,
          OFFSET_SIZE,
          "BAT too short: m_Size="
              + entries
              + " clusters of "
              + sectors
              + " sectors cannot hold "
              + sizeSectors
              + " sectors");
    }
    if ((entries - 1) * sectors >= sizeSectors) {
      throw new CorruptImageException(
          file,
          OFFSET_SIZE,
          "BAT too long: m_Size="
              + entries
              + " clusters for a disk of "
              + sizeSectors
              + " sectors");
    }
    ImageGeometry geometry = new ImageGeometry((int) sectors, entries);
    long firstBlock = u32(b, OFFSET_FIRST_BLOCK);
    if (firstBlock % sectors != 0 || firstBlock < geometry.firstBlockOffsetSectors()) {
      throw new CorruptImageException(
          file,
          OFFSET_FIRST_BLOCK,
          "Wrong first block offset "
              + firstBlock
              + " sectors, expected "
              + geometry.firstBlockOffsetSectors());
    }
    if (firstBlock * ImageGeometry.SECTOR > fileSize) {
      throw new CorruptImageException(
          file,
          OFFSET_FIRST_BLOCK,
          "file is truncated: "
              + fileSize
              + " bytes, but the BAT ends at "
              + firstBlock * ImageGeometry.SECTOR);
    }
    long inUse = u32(b, OFFSET_DISK_IN_USE);
    if (inUse != IN_USE && inUse != CLOSED_V20 && inUse != CLOSED_V21) {
      throw new CorruptImageException(
          file,
          OFFSET_DISK_IN_USE,
          String.format(Locale.ROOT, "unknown m_DiskInUse value 0x%08x", inUse));
    }
    // m_Flags bits other than CIF_Empty and CIF_FmtVersionConvert are kept, not refused: ploop
    // (check, info, open_delta) and QEMU's parallels driver never look at them either.
    long flags = u32(b, OFFSET_FLAGS);
    long ext = b.getLong(OFFSET_EXTENSION);
    return new ImageHeader(
        version,
        type,
        u32(b, OFFSET_HEADS),
        u32(b, OFFSET_CYLINDERS),
        sectors,
        entries,
        sizeSectors,
        inUse,
        firstBlock,
        flags,
        ext);
  }

  private static long u32(ByteBuffer b, int off) {
    return Integer.toUnsignedLong(b.getInt(off));
  }
}
