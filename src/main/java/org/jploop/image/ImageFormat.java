package org.jploop.image;

import java.util.Locale;

/**
 * The image layouts {@code ploop init -f} can create: ploop1 that grows as data is written, ploop1
 * with every cluster allocated up front, or a raw flat file.
 */
public enum ImageFormat {
  /** ploop1, clusters allocated on first write ({@code -f ploop1} or {@code -f expanded}). */
  EXPANDED,
  /** ploop1 with the whole disk fallocated and an identity BAT ({@code -f preallocated}). */
  PREALLOCATED,
  /** A flat file of the disk's size, {@code <Type>Plain</Type>} ({@code -f raw}). */
  RAW;

  /**
   * Parses ploop's {@code -f} argument: raw, ploop1, expanded or preallocated.
   *
   * @throws IllegalArgumentException with ploop's "Bad -f argument: X"
   */
  public static ImageFormat parse(String text) {
    return switch (text == null ? "" : text.toLowerCase(Locale.ROOT)) {
      case "raw" -> RAW;
      case "ploop1", "expanded" -> EXPANDED;
      case "preallocated" -> PREALLOCATED;
      default -> throw new IllegalArgumentException("Bad -f argument: " + text);
    };
  }
}
