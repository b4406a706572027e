package org.jploop.cli;

import java.io.PrintStream;
import java.util.concurrent.Callable;
import org.jploop.daemon.HostDaemon;
import org.jploop.host.EventLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop hostd [--keep]} (hidden): the host daemon serving every disk mounted with the kernel
 * front end ({@link HostDaemon}); {@code ploop mount} starts it detached when none runs, the
 * systemd unit starts it at boot with {@code --keep}. Runs in the foreground until its last disk is
 * unmounted (never, with {@code --keep}) or it is signalled.
 */
@Command(
    name = "hostd",
    hidden = true,
    description = "Serve every mounted disk in the foreground (started by ploop mount).")
final class HostdCommand implements Callable<Integer> {
  @Option(names = "--keep", description = "Keep running when no disk is mounted.")
  boolean keep;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    new HostDaemon(
            keep,
            new EventLog(out),
            new HostDaemon.Failures() {
              @Override
              public int exitCode(Throwable t) {
                return PloopCli.exitCode(t);
              }

              @Override
              public String message(Throwable t) {
                return PloopCli.message(t);
              }
            })
        .run();
    return ExitCode.OK;
  }
}
