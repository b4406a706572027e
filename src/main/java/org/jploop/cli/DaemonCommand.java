package org.jploop.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jploop.daemon.MountDaemon;
import org.jploop.frontend.FrontendOptions;
import org.jploop.host.EventLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ploop daemon} (hidden): the mount daemon itself, which {@code ploop mount} starts detached
 * with its output going to the log file. Runs in the foreground until unmounted or signalled.
 */
@Command(
    name = "daemon",
    hidden = true,
    description = "Serve a disk through FUSE in the foreground (started by ploop mount).")
final class DaemonCommand implements Callable<Integer> {
  @Option(names = "--fuse-dir", description = "Where to mount the FUSE file system.")
  Path fuseDir;

  @Option(names = "-r", description = "Read-only.")
  boolean readOnly;

  @Option(names = "-u", description = "Serve the disk as of this snapshot.")
  String guid;

  @Option(names = "--frontend", description = "FUSE front end: kernel or jnr-fuse.")
  String frontend;

  @Option(names = "--fuse-threads", description = "Threads serving FUSE requests (kernel).")
  Integer fuseThreads;

  @Option(
      names = "-c",
      description = "Serve it as this component (read-only, beside the plain" + " mount).")
  String component;

  @Parameters(index = "0", paramLabel = "DiskDescriptor.xml")
  Path descriptor;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    FrontendOptions front;
    try {
      front = FrontendOptions.of(frontend, fuseThreads);
    } catch (IllegalArgumentException e) {
      throw new PloopException(ExitCode.PARAM, e.getMessage());
    }
    new MountDaemon(descriptor, fuseDir, readOnly, guid, front, component, new EventLog(out)).run();
    return ExitCode.OK;
  }
}
