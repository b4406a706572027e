package org.jploop.cli;

import picocli.CommandLine.Command;

/**
 * {@code ploop balloon clear}: takes the balloon's exclusive lock (refused with 17 while another
 * process holds it) and reports the state OFF; jploop leaves no stale maintenance state to clear.
 */
@Command(name = "clear", description = "Clear stale \"BALLOON\" state of maintenance.")
final class BalloonClearCommand extends BalloonVerb {
  @Override
  public Integer call() throws Exception {
    return sayUnderLock("Current state of in-kernel maintenance is OFF now");
  }
}
