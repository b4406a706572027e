package org.jploop.cli;

import java.util.Locale;

/**
 * Parses ploop's {@code -s SIZE}: a number with an optional binary suffix K, M, G or T; a plain
 * number is in 512-byte sectors (tools/common.c).
 */
public final class SizeParser {
  /** The largest size ploop's -s accepts, exclusive: 0xFFFFFFFF &lt;&lt; 9 sectors. */
  static final long LIMIT_SECTORS = 0xFFFFFFFFL << 9;

  private SizeParser() {}

  /** Returns the size in sectors, or throws PloopException(PARAM) with ploop's message. */
  public static long parseSectors(String text) {
    return parseSectors(text, false);
  }

  /**
   * Like {@link #parseSectors(String)}; with {@code zeroAllowed} a size of 0 is accepted, as
   * ploop's parse_size does (a balloon of size 0).
   */
  public static long parseSectors(String text, boolean zeroAllowed) {
    String t = text == null ? "" : text.trim();
    if (t.isEmpty()) {
      throw new PloopException(ExitCode.PARAM, "ERROR: Invalid argument for option -s: " + text);
    }
    char last = Character.toUpperCase(t.charAt(t.length() - 1));
    long mult;
    String num = t;
    switch (last) {
      case 'K' -> mult = 1024L;
      case 'M' -> mult = 1024L * 1024;
      case 'G' -> mult = 1024L * 1024 * 1024;
      case 'T' -> mult = 1024L * 1024 * 1024 * 1024;
      default -> mult = 0;
    }
    if (mult != 0) {
      num = t.substring(0, t.length() - 1);
    }
    long n;
    try {
      n = Long.parseLong(num.toLowerCase(Locale.ROOT));
    } catch (NumberFormatException e) {
      throw new PloopException(ExitCode.PARAM, "ERROR: Invalid argument for option -s: " + text);
    }
    if (n < 0 || (n == 0 && !zeroAllowed)) {
      throw new PloopException(ExitCode.PARAM, "ERROR: Invalid argument for option -s: " + text);
    }
    long sectors;
    if (mult == 0) {
      sectors = n;
    } else {
      if (n > Long.MAX_VALUE / mult) {
        throw new PloopException(ExitCode.PARAM, "ERROR: Too large value for option -s: " + text);
      }
      sectors = (n * mult + 511) / 512;
    }
    if (sectors >= LIMIT_SECTORS) {
      throw new PloopException(ExitCode.PARAM, "ERROR: Too large value for option -s: " + text);
    }
    return sectors;
  }
}
