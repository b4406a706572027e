package org.jploop.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jploop.daemon.DiskMounter;
import org.jploop.daemon.MountStatus;
import org.jploop.host.EventLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop umount DiskDescriptor.xml | -m MOUNTPOINT | -d DEVICE}: unmounts the filesystem,
 * removes the ploop device names, detaches the loop device, unmounts FUSE and lets the daemon close
 * the image cleanly. {@code -d} takes a ploop device name ({@code /dev/ploop0}, a trailing {@code
 * p1} is dropped as ploop does) or the loop device. {@code -c COMPONENT} with the descriptor
 * unmounts that component mount (from {@code ploop mount -c} or {@code ploop tsnapshot}) and leaves
 * the plain one.
 */
@Command(name = "umount", description = "Unmount a disk mounted with ploop mount.")
final class UmountCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "-m", paramLabel = "MOUNTPOINT", description = "The filesystem's mount point.")
  Path mountPoint;

  @Option(names = "-d", paramLabel = "DEVICE", description = "The ploop device, e.g. /dev/ploop0.")
  String device;

  @Option(
      names = "-c",
      paramLabel = "COMPONENT",
      description = "Unmount this component mount" + " of DiskDescriptor.xml.")
  String component;

  @Parameters(index = "0", arity = "0..1", paramLabel = "DiskDescriptor.xml")
  Path descriptor;

  @Override
  public Integer call() throws Exception {
    int given =
        (mountPoint == null ? 0 : 1) + (descriptor == null ? 0 : 1) + (device == null ? 0 : 1);
    if (given != 1) {
      throw new PloopException(
          ExitCode.PARAM, "Give one of DiskDescriptor.xml, -m MOUNTPOINT or -d DEVICE");
    }
    if (component != null && descriptor == null) {
      throw new PloopException(ExitCode.PARAM, "-c COMPONENT needs DiskDescriptor.xml");
    }
    MountStatus st =
        mountPoint != null
            ? DiskMounter.statusByMountPoint(mountPoint)
            : device != null
                ? DiskMounter.statusByDevice(device)
                : DiskMounter.statusOf(descriptor, component);
    boolean wasAlive = st.daemonAlive();
    var err = spec.commandLine().getErr();
    EventLog log =
        new EventLog(
            new java.io.PrintStream(
                java.io.OutputStream.nullOutputStream(),
                false,
                java.nio.charset.StandardCharsets.UTF_8));
    new DiskMounter(DiskMounter.ownJar(), log).umount(st);
    if (!wasAlive) {
      err.println(
          "The mount daemon (pid "
              + st.pid()
              + ") had died; its mounts were removed. The"
              + " image may be dirty: the next ploop mount checks and repairs it as ploop check -F -d"
              + " would.");
      err.flush();
    }
    spec.commandLine().getOut().println("Unmounted " + st.descriptor());
    spec.commandLine().getOut().flush();
    return ExitCode.OK;
  }
}
