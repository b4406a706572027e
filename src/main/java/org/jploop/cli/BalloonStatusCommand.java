package org.jploop.cli;

import org.jploop.host.BalloonFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop balloon status [-f]}: "Current state of in-kernel maintenance: STATE". jploop has no
 * kernel state; the state is read from the balloon's lock ({@link BalloonFile#state}): {@code
 * BALLOON} while a balloon change, repair or shrink runs, {@code DISCARD} while a discard runs,
 * else {@code OFF}.
 */
@Command(name = "status", description = "Inquire current state of balloon maintenance.")
final class BalloonStatusCommand extends BalloonVerb {
  @Option(names = "-f", description = "Do not flock the hidden balloon (status never does).")
  boolean noFlock;

  @Override
  public Integer call() throws Exception {
    say("Current state of in-kernel maintenance: " + BalloonFile.state(target(true).mountPoint()));
    return ExitCode.OK;
  }
}
