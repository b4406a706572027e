package org.jploop.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The kernel's mount table as {@code /proc/self/mountinfo} shows it: which paths are mount points,
 * of what type, from what source. Each call reads the file afresh.
 */
public final class MountTable {
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  /**
   * One mount.
   *
   * @param mountPoint where it is mounted, unescaped
   * @param fsType e.g. {@code fuse.jploop}, {@code ext4}
   * @param source e.g. {@code jploop}, {@code /dev/loop3p1}
   */
  public record Entry(String mountPoint, String fsType, String source) {}

  private MountTable() {}

  /** Returns every mount, in table order. */
  public static List<Entry> read() throws IOException {
    return parse(Files.readAllLines(MOUNTINFO));
  }

  /** Parses mountinfo lines. */
  static List<Entry> parse(List<String> lines) {
    List<Entry> out = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.split(" ");
      int dash = -1;
      for (int i = 6; i < f.length; i++) {
        if ("-".equals(f[i])) {
          dash = i;
          break;
        }
      }
      if (f.length < 5 || dash < 0 || dash + 2 >= f.length) {
        continue;
      }
      out.add(new Entry(unescape(f[4]), f[dash + 1], unescape(f[dash + 2])));
    }
    return out;
  }

  /** Undoes the kernel's octal escapes ({@code \040} for a space). */
  static String unescape(String s) {
    if (s.indexOf('\\') < 0) {
      return s;
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length()) {
        try {
          b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
          i += 3;
          continue;
        } catch (NumberFormatException e) {
          // not an escape
        }
      }
      b.append(c);
    }
    return b.toString();
  }

  /** Returns the topmost mount at {@code dir} (absolute, normalized), if any. */
  public static Optional<Entry> at(Path dir) throws IOException {
    String p = dir.toAbsolutePath().normalize().toString();
    Entry found = null;
    for (Entry e : read()) {
      if (e.mountPoint().equals(p)) {
        found = e;
      }
    }
    return Optional.ofNullable(found);
  }

  /** Returns the mounts whose source is {@code device} or one of its partitions. */
  public static List<Entry> fromDevice(String device) throws IOException {
    List<Entry> out = new ArrayList<>();
    for (Entry e : read()) {
      if (e.source().equals(device)
          || e.source().matches(java.util.regex.Pattern.quote(device) + "p\\d+")) {
        out.add(e);
      }
    }
    return out;
  }
}
