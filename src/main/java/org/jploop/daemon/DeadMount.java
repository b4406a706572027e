package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jploop.host.EventLog;
import org.jploop.host.HostCommand;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountException;
import org.jploop.host.MountTable;
import org.jploop.host.RunPaths;

/**
 * What is left of a mount whose daemon died without stopping (kill -9 of a host or per-disk daemon,
 * or a disk whose FUSE session ended and could not be torn down), and its removal: the filesystems
 * on loop devices over its {@code disk.img} are unmounted, the loop devices and their ploop names
 * removed, the dead FUSE mount unmounted, then the status file, the control socket and the run
 * directory once empty. The image itself may be left dirty; the next {@code ploop mount} checks and
 * repairs it. Run by {@code ploop umount} of that disk and, for every such entry, by a host daemon
 * as it starts ({@link HostDaemon}). Stateless.
 */
final class DeadMount {
  private DeadMount() {}

  /**
   * Cleans up after the mount {@code st} describes; throws {@link MountException.Reason#BUSY} if a
   * filesystem on it cannot be unmounted (nothing after that step is done then).
   */
  static void clean(MountStatus st, EventLog log) throws IOException {
    clean(st, log, false);
  }

  /**
   * Like {@link #clean(MountStatus, EventLog)}; with {@code onlyOurs} (a host daemon cleaning up on
   * its own, unasked) it refuses, changing nothing, where a loop device over {@code disk.img} is
   * not the one {@code ploop mount} attached: someone else's, which only {@code ploop umount} of
   * that disk (the user asking) removes.
   */
  static void clean(MountStatus st, EventLog log, boolean onlyOurs) throws IOException {
    Path img = Path.of(st.diskImage());
    List<LoopDevice> loops = LoopDevice.backedBy(img);
    if (onlyOurs) {
      for (LoopDevice loop : loops) {
        if (!loop.device().equals(st.loopDevice())) {
          throw new MountException(
              MountException.Reason.BUSY,
              "loop device "
                  + loop.device()
                  + " over "
                  + img
                  + " was not attached by ploop mount; left for ploop umount");
        }
      }
    }
    log.info(
        "the mount daemon (pid "
            + st.pid()
            + ") of "
            + st.descriptor()
            + " is not serving it; cleaning up after it");
    LoopAttachments.release(img, log);
    Path dir = Path.of(st.fuseDir());
    if (MountTable.at(dir).isPresent()) {
      HostCommand c = HostCommand.run(30, "umount", dir.toString());
      if (!c.ok()) {
        HostCommand.runChecked(30, "fusermount", "-u", "-z", dir.toString());
      }
    }
    RunPaths paths = st.runPaths();
    Files.deleteIfExists(paths.statusFile());
    Files.deleteIfExists(paths.controlSocket());
    try {
      paths.removeEmptyDirs(dir);
    } catch (IOException e) {
      log.info("run directory " + paths.runDir() + " left in place: " + e);
    }
  }
}
