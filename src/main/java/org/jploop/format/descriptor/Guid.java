package org.jploop.format.descriptor;

import java.security.SecureRandom;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * ploop's GUID text form: 38 characters, {@code {8-4-4-4-12}} hex digits in braces, compared
 * case-insensitively. Generated GUIDs are random version 4 in lower case.
 */
public final class Guid {
  /** The GUID of the writable top delta, always (TOPDELTA_UUID). */
  public static final String TOP_DELTA = "{5fbaabe3-6958-40ff-92a7-860e329aab41}";

  /** The parent GUID of the base image (NONE_UUID). */
  public static final String NONE = "{00000000-0000-0000-0000-000000000000}";

  private static final Pattern BRACED =
      Pattern.compile(
          "\\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private Guid() {}

  /** Returns whether {@code s} is a braced 38-character GUID. */
  public static boolean isValid(String s) {
    return s != null && BRACED.matcher(s).matches();
  }

  /**
   * Normalises a user-given GUID (the CLI's {@code -u} accepts it with or without braces), or
   * throws IllegalArgumentException("Incorrect uuid specified: ...").
   */
  public static String parse(String s) {
    String t = s == null ? "" : s.trim();
    if (t.length() == 36) {
      t = "{" + t + "}";
    }
    if (!isValid(t)) {
      throw new IllegalArgumentException("Incorrect uuid specified: " + s);
    }
    return t;
  }

  /** Returns whether two GUIDs are equal ignoring case. */
  public static boolean same(String a, String b) {
    return a != null && b != null && a.toLowerCase(Locale.ROOT).equals(b.toLowerCase(Locale.ROOT));
  }

  /** Returns a new random version-4 GUID in ploop's form. */
  public static String random() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    b[6] = (byte) ((b[6] & 0x0F) | 0x40);
    b[8] = (byte) ((b[8] & 0x3F) | 0x80);
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < 16; i++) {
      if (i == 4 || i == 6 || i == 8 || i == 10) {
        sb.append('-');
      }
      sb.append(String.format(Locale.ROOT, "%02x", b[i] & 0xFF));
    }
    return sb.append('}').toString();
  }
}
