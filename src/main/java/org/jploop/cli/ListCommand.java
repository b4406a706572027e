package org.jploop.cli;

import java.util.concurrent.Callable;
import org.jploop.daemon.MountStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ploop list [-a] [-f] [--json]}: the mounted disks in ploop's format ({@link
 * DeviceListing}): {@code ploopN<TAB>base image}, {@code -f} every delta, {@code -a} the mount
 * point; {@code --json} everything the daemons publish (state, pid, disk.img, loop device, ENOSPC
 * events, engine counters, the FUSE front end).
 */
@Command(name = "list", description = "List mounted disks.")
final class ListCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "-a", description = "Also print the mount point (ploop 7.x).")
  boolean all;

  @Option(names = "-f", description = "Also print every delta above the base.")
  boolean full;

  @Option(names = "--json", description = "Print JSON for scripts.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    var out = spec.commandLine().getOut();
    // only disks a daemon serves: what a dead one left is cleaned by ploop umount or the next
    // host daemon
    out.print(
        new DeviceListing(all, full)
            .render(MountStatus.all().stream().filter(MountStatus::daemonAlive).toList(), json));
    out.flush();
    return ExitCode.OK;
  }
}
