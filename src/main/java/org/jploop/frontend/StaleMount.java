package org.jploop.frontend;

import java.io.IOException;
import java.nio.file.Path;
import org.jploop.host.EventLog;
import org.jploop.host.HostCommand;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountException;
import org.jploop.host.MountTable;

/**
 * A FUSE mount left at the FUSE directory by a killed daemon ("Transport endpoint is not
 * connected"), whichever front end made it. Stateless.
 */
public final class StaleMount {
  private StaleMount() {}

  /**
   * Removes the dead mount at {@code dir}, unless a loop device still uses its {@code disk.img}:
   * then the user must run {@code ploop umount} first. Does nothing if nothing is mounted there.
   * The lazy unmount is safe here: nothing can use a mount whose daemon is gone and whose file no
   * loop device holds.
   */
  public static void clear(Path dir, EventLog log) throws IOException {
    if (MountTable.at(dir).isEmpty()) {
      return;
    }
    Path img = dir.resolve(DiskImageFile.NAME);
    if (!LoopDevice.backedBy(img).isEmpty()) {
      throw new MountException(
          MountException.Reason.ALREADY_MOUNTED,
          "A loop device still uses " + img + " from an earlier mount; run ploop umount first");
    }
    log.info("removing stale FUSE mount at " + dir);
    HostCommand c = HostCommand.run(30, "umount", "-l", dir.toString());
    if (!c.ok()) {
      HostCommand.runChecked(30, "fusermount", "-u", "-z", dir.toString());
    }
  }
}
