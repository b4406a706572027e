package org.jploop.format;

/**
 * Cylinder/head/sector geometry that ploop derives from the disk size (ConvertToCHS). Only
 * informational: it fills {@code m_Heads}, {@code m_Cylinders} and the descriptor's {@code
 * <Cylinders>/<Heads>/<Sectors>}.
 *
 * @param cylinders cylinder count (u32)
 * @param heads head count (u32)
 * @param sectors sectors per track; ploop stores the cluster size in the header slot instead
 */
public record ChsGeometry(long cylinders, long heads, long sectors) {

  /** Computes the geometry for a disk of {@code size} sectors, as ploop's ConvertToCHS does. */
  public static ChsGeometry of(long size) {
    if (size > 1032192L && size < 16777216L) {
      return new ChsGeometry(u32(size / 1008), 16, 63);
    }
    long sectors;
    if (size % 63 == 0) {
      sectors = 63;
    } else if (size % 32 == 0) {
      sectors = 32;
    } else if (size % 16 == 0) {
      sectors = 16;
    } else if (size % 8 == 0) {
      sectors = 8;
    } else {
      return new ChsGeometry(u32(size), 1, 1);
    }
    long s2 = size / sectors;
    long heads;
    if (s2 % 16 == 0) {
      heads = 16;
    } else if (s2 % 8 == 0) {
      heads = 8;
    } else if (s2 % 4 == 0) {
      heads = 4;
    } else if (s2 % 2 == 0) {
      heads = 2;
    } else {
      return new ChsGeometry(u32(size), 1, 1);
    }
    return new ChsGeometry(u32(s2 / heads), heads, sectors);
  }

  /** Returns {@code <Sectors>} as ploop writes it in DiskDescriptor.xml: size / (cyl * heads). */
  public long descriptorSectors(long size) {
    return cylinders == 0 || heads == 0 ? 0 : size / (cylinders * heads);
  }

  private static long u32(long v) {
    return v & 0xFFFFFFFFL;
  }
}
