package org.jploop.format;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The two ploop1 image format versions, told apart by the 16-byte signature at offset 0.
 *
 * <p>V1 ({@code "WithoutFreeSpace"}) stores BAT entries as sector offsets; V2 ({@code
 * "WithouFreSpacExt"}, the odd spelling is the real one) stores physical cluster numbers.
 */
public enum FormatVersion {
  /** {@code WithoutFreeSpace}: BAT entries are sector offsets, the file must stay below 2 TiB. */
  V1("WithoutFreeSpace", 1),
  /** {@code WithouFreSpacExt}: BAT entries are physical cluster indexes. The default. */
  V2("WithouFreSpacExt", 2);

  @SuppressWarnings("ImmutableEnumChecker") // never handed out: signature() returns a copy
  private final byte[] signature;

  private final int number;

  FormatVersion(String signature, int number) {
    this.signature = signature.getBytes(StandardCharsets.US_ASCII);
    this.number = number;
  }

  /** Returns a copy of the 16 signature bytes. */
  public byte[] signature() {
    return signature.clone();
  }

  /** Returns the signature as text. */
  public String signatureText() {
    return new String(signature, StandardCharsets.US_ASCII);
  }

  /** Returns 1 or 2, as ploop's {@code -v} option and {@code fmt_version} spell it. */
  public int number() {
    return number;
  }

  /** Returns the version for {@code -v N}, or throws IllegalArgumentException. */
  public static FormatVersion ofNumber(int n) {
    for (FormatVersion v : values()) {
      if (v.number == n) {
        return v;
      }
    }
    throw new IllegalArgumentException("Invalid -v argument: " + n);
  }

  /** Returns the version whose signature equals the 16 bytes, or null if none does. */
  public static FormatVersion ofSignature(byte[] sig16) {
    for (FormatVersion v : values()) {
      if (Arrays.equals(v.signature, sig16)) {
        return v;
      }
    }
    return null;
  }

  /**
   * Converts a physical cluster index to the raw BAT value of this version.
   *
   * @param physicalCluster cluster index from the start of the file, > 0
   * @param clusterSectors cluster size in sectors
   */
  public long toBatValue(long physicalCluster, int clusterSectors) {
    return this == V2 ? physicalCluster : physicalCluster * clusterSectors;
  }

  /**
   * Converts a raw non-zero BAT value to a physical cluster index. For V1 the caller must first
   * check {@link #isAligned}.
   */
  public long toPhysicalCluster(long batValue, int clusterSectors) {
    return this == V2 ? batValue : batValue / clusterSectors;
  }

  /** Returns whether a raw BAT value is a whole cluster (always true for V2). */
  public boolean isAligned(long batValue, int clusterSectors) {
    return this == V2 || batValue % clusterSectors == 0;
  }
}
