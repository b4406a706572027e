package org.jploop.cli;

import org.jploop.host.BalloonFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ploop balloon show [-f]}: "Current size of hidden balloon is N bytes". */
@Command(name = "show", description = "Show current ploop balloon size.")
final class BalloonShowCommand extends BalloonVerb {
  @Option(names = "-f", description = "Do not flock the hidden balloon (show never does).")
  boolean noFlock;

  @Override
  public Integer call() throws Exception {
    try (BalloonFile b = BalloonFile.open(target(true).mountPoint(), BalloonFile.Lock.NONE)) {
      say("Current size of hidden balloon is " + b.size() + " bytes");
    }
    return ExitCode.OK;
  }
}
