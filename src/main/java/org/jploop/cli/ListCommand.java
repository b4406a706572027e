package org.jploop.cli;

import java.util.concurrent.Callable;
import org.jploop.daemon.MountStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code ploop list}: one line per mounted disk: state, pid, disk.img, loop, mount point,
 * descriptor, ENOSPC events, the FUSE front end.
 */
@Command(name = "list", description = "List mounted disks.")
final class ListCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    var out = spec.commandLine().getOut();
    for (MountStatus st : MountStatus.all()) {
      out.println(String.join(" ", st.daemonAlive() ? st.state() : "dead",
          "pid=" + st.pid(), st.diskImage(), st.loopDevice() == null ? "-" : st.loopDevice(),
          st.mountPoint() == null ? "-" : st.mountPoint(), st.descriptor(),
          "enospc=" + st.enospcEvents(), "frontend=" + st.frontendName()));
    }
    out.flush();
    return ExitCode.OK;
  }
}
