package org.jploop.frontend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Who owns {@code disk.img} and the FUSE directory: the user and group of the serving process.
 *
 * @param uid the owner's uid
 * @param gid the owner's gid
 */
public record FileOwner(long uid, long gid) {
  /** Returns the real uid and gid of this process, from /proc/self/status. */
  public static FileOwner ofThisProcess() throws IOException {
    long uid = 0;
    long gid = 0;
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("Uid:")) {
        uid = Long.parseLong(line.split("\\s+")[1]);
      } else if (line.startsWith("Gid:")) {
        gid = Long.parseLong(line.split("\\s+")[1]);
      }
    }
    return new FileOwner(uid, gid);
  }
}
