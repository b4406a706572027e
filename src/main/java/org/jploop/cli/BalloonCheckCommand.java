package org.jploop.cli;

import java.util.List;
import org.jploop.daemon.BalloonRelease;
import org.jploop.daemon.DiskAttachment;
import org.jploop.host.BalloonFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop balloon check [-f]}: counts the disk clusters under the whole balloon that the image
 * still holds ("free blocks": dead space the balloon could give back), with ploop's messages.
 * {@link BalloonRepairCommand} also releases them.
 */
@Command(name = "check", description = "Check whether hidden balloon has free blocks.")
class BalloonCheckCommand extends BalloonVerb {
  @Option(names = "-f", description = "Accepted for ploop compatibility; the balloon is flocked.")
  boolean noFlock;

  /** Whether the free blocks found are released. */
  boolean repair() {
    return false;
  }

  @Override
  public Integer call() throws Exception {
    DiskAttachment a = target(true);
    try (BalloonFile b = BalloonFile.open(a.mountPoint(), BalloonFile.Lock.EXCLUSIVE)) {
      long size = b.size();
      if (size == 0) {
        say("Nothing to do: hidden balloon is empty");
        return ExitCode.OK;
      }
      BalloonRelease r = new BalloonRelease(a);
      List<BalloonRelease.Clusters> ranges = r.clusters(b.unwrittenExtents(0, size));
      long found = r.countMapped(ranges);
      if (found == 0) {
        say("No free blocks found");
      } else if (!repair()) {
        say("Found " + found + " free blocks. Consider using \"ploop-balloon repair\"");
      } else {
        say("Found " + found + " free blocks");
        release(a, ranges);
      }
    }
    return ExitCode.OK;
  }
}
