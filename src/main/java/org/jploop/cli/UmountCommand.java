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
 * {@code ploop umount DiskDescriptor.xml | -m MOUNTPOINT}: unmounts the filesystem, detaches the
 * loop device, unmounts FUSE and lets the daemon close the image cleanly.
 */
@Command(name = "umount", description = "Unmount a disk mounted with ploop mount.")
final class UmountCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "-m", paramLabel = "MOUNTPOINT", description = "The filesystem's mount point.")
  Path mountPoint;

  @Parameters(index = "0", arity = "0..1", paramLabel = "DiskDescriptor.xml")
  Path descriptor;

  @Override
  public Integer call() throws Exception {
    if ((mountPoint == null) == (descriptor == null)) {
      throw new PloopException(ExitCode.PARAM, "Give either DiskDescriptor.xml or -m MOUNTPOINT");
    }
    MountStatus st = mountPoint != null ? DiskMounter.statusByMountPoint(mountPoint)
        : DiskMounter.statusOf(descriptor);
    boolean wasAlive = st.daemonAlive();
    var err = spec.commandLine().getErr();
    EventLog log = new EventLog(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    new DiskMounter(DiskMounter.ownJar(), log).umount(st);
    if (!wasAlive) {
      err.println("The mount daemon (pid " + st.pid() + ") had died; its mounts were removed. The"
          + " image may be dirty: run ploop check before mounting it again.");
      err.flush();
    }
    spec.commandLine().getOut().println("Unmounted " + st.descriptor());
    spec.commandLine().getOut().flush();
    return ExitCode.OK;
  }
}
