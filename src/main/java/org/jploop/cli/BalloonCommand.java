package org.jploop.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code ploop balloon} ({@code ploop-balloon}, ploop's own name for it: the {@code ploop-balloon}
 * launcher runs this verb): the hidden balloon of a mounted disk's filesystem and the discard of
 * its free space. Subcommands {@code show}, {@code status}, {@code clear}, {@code change}, {@code
 * complete}, {@code check}, {@code repair} and {@code discard}, each on {@code -d DEVICE}, {@code
 * -m MOUNT_POINT} or a {@code DiskDescriptor.xml} (ploop-verbs-2.md §1). Without a subcommand it
 * prints ploop's usage summary and exits 38.
 */
@Command(
    name = "balloon",
    description = "Hidden balloon and discard of a mounted disk.",
    subcommands = {
      BalloonShowCommand.class,
      BalloonStatusCommand.class,
      BalloonClearCommand.class,
      BalloonChangeCommand.class,
      BalloonCompleteCommand.class,
      BalloonCheckCommand.class,
      BalloonRepairCommand.class,
      BalloonDiscardCommand.class
    })
final class BalloonCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    var err = spec.commandLine().getErr();
    err.println(
        "Usage: ploop-balloon { show | status | clear | change | complete | check | repair"
            + " | discard } ...");
    err.println("Use \"ploop-balloon cmd\" to get more info about cmd");
    err.flush();
    return ExitCode.PARAM;
  }
}
