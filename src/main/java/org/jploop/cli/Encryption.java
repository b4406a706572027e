package org.jploop.cli;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Why jploop refuses ploop's encryption ({@code ploop encrypt}, {@code init -k KEYID}): ploop
 * encrypts with dm-crypt, running {@code cryptsetup luksFormat/luksOpen} on its ploop block device
 * through {@code /usr/libexec/ploop/crypthelper} with the key from {@code crypt.d/getkey}. jploop
 * has no block device of its own (disk.img is a FUSE file) and does not implement that path; the
 * refusal names what this machine lacks as well, with ploop's exit code for a failed crypt helper
 * (45, SYSEXIT_CRYPT). Nothing is created or changed. Stateless.
 */
final class Encryption {
  /** The device-mapper control node dm-crypt needs. */
  static final Path DM_CONTROL = Path.of("/dev/mapper/control");

  private Encryption() {}

  /** Returns the refusal for {@code what} (the command as the user gave it). */
  static PloopException unavailable(String what) {
    List<String> missing = new ArrayList<>();
    if (!Files.exists(DM_CONTROL)) {
      missing.add("device-mapper (" + DM_CONTROL + " is missing)");
    }
    if (!onPath("cryptsetup")) {
      missing.add("cryptsetup (not installed)");
    }
    String lacks =
        missing.isEmpty() ? "" : "; this machine also lacks " + String.join(" and ", missing);
    return new PloopException(
        ExitCode.CRYPT,
        "Error: ploop "
            + what
            + ": encryption needs"
            + " dm-crypt (cryptsetup LUKS on a ploop block device), which jploop does not implement"
            + lacks
            + "; nothing was changed");
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    for (String dir :
        (path == null ? "/usr/sbin:/usr/bin:/sbin:/bin" : path).split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }
}
