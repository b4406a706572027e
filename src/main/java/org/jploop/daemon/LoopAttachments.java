package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.Path;
import org.jploop.host.DeviceName;
import org.jploop.host.EventLog;
import org.jploop.host.HostCommand;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountException;
import org.jploop.host.MountTable;

/**
 * The loop devices over a served {@code disk.img} and the filesystems mounted from them, and their
 * release, the first step of both the safe stop ({@link MountDaemon#teardown}) and the clean-up
 * after a dead daemon ({@link DeadMount}): every filesystem mounted from such a loop device is
 * unmounted (never lazily), then the device's ploop names are removed and it is detached.
 * Stateless.
 */
final class LoopAttachments {
  private LoopAttachments() {}

  /**
   * Releases every loop device over {@code diskImage}; throws {@link MountException.Reason#BUSY} if
   * a filesystem on one cannot be unmounted, leaving that device and the ones after it.
   */
  static void release(Path diskImage, EventLog log) throws IOException {
    for (LoopDevice loop : LoopDevice.backedBy(diskImage)) {
      for (MountTable.Entry m : MountTable.fromDevice(loop.device())) {
        log.info("unmounting " + m.mountPoint() + " (" + m.source() + ")");
        HostCommand c = HostCommand.run(120, "umount", m.mountPoint());
        if (!c.ok()) {
          throw new MountException(
              MountException.Reason.BUSY,
              "Cannot unmount " + m.mountPoint() + ": " + c.describeFailure());
        }
      }
      log.info(
          "detaching " + loop.device() + " (device names: " + DeviceName.unlinkAll(loop) + ")");
      loop.detach();
    }
  }
}
