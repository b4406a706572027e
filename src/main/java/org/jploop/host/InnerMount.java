package org.jploop.host;

import java.util.ArrayList;
import java.util.List;

/**
 * How {@code ploop mount -m} mounts the filesystem inside the disk: an explicit type ({@code -t},
 * else mount(8) probes), extra options ({@code -o}, appended after {@code lazytime} as ploop does)
 * and whether to run {@code fsck -p -f} first ({@code -F}). Immutable.
 *
 * @param fsType filesystem type for {@code mount -t} and {@code fsck -t}, or null to probe
 * @param options comma-separated mount options, or null
 * @param fsck run fsck before mounting
 */
public record InnerMount(String fsType, String options, boolean fsck) {
  /** What a plain {@code ploop mount -m DIR} does. */
  public static final InnerMount DEFAULT = new InnerMount(null, null, false);

  public InnerMount {
    if (fsType != null && !fsType.matches("[a-z0-9.]+")) {
      throw new IllegalArgumentException("Invalid filesystem type: " + fsType);
    }
    if (options != null
        && (options.isBlank() || options.chars().anyMatch(Character::isWhitespace))) {
      throw new IllegalArgumentException("Invalid mount options: '" + options + "'");
    }
  }

  /** Returns the mount(8) command line for {@code device} at {@code dir}. */
  public List<String> mountCommand(String device, String dir, boolean readOnly) {
    List<String> argv = new ArrayList<>(List.of("mount"));
    if (fsType != null) {
      argv.addAll(List.of("-t", fsType));
    }
    StringBuilder o = new StringBuilder("lazytime");
    if (readOnly) {
      o.append(",ro");
    }
    if (options != null) {
      o.append(',').append(options);
    }
    argv.addAll(List.of("-o", o.toString(), device, dir));
    return argv;
  }

  /**
   * Returns the fsck(8) command line for {@code device}: repair what is safe ({@code -p}) on a
   * read-write mount, only report ({@code -n}) on a read-only one.
   */
  public List<String> fsckCommand(String device, boolean readOnly) {
    List<String> argv = new ArrayList<>(List.of("fsck"));
    if (fsType != null) {
      argv.addAll(List.of("-t", fsType));
    }
    argv.addAll(List.of(readOnly ? "-n" : "-p", "-f", device));
    return argv;
  }
}
