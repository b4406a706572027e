package org.jploop.cli;

import picocli.CommandLine.Command;

/**
 * {@code ploop balloon complete}: ploop finishes a relocation the classic kernel left half done.
 * jploop's balloon operations leave nothing half done (an interrupted change is finished by {@code
 * repair}), so after taking the balloon's lock this reports "Nothing to complete".
 */
@Command(name = "complete", description = "Complete previously interrupted balloon operation.")
final class BalloonCompleteCommand extends BalloonVerb {
  @Override
  public Integer call() throws Exception {
    return sayUnderLock("Nothing to complete: kernel is in \"OFF\" state");
  }
}
