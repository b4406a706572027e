package org.jploop.cli;

import org.jploop.daemon.BalloonRelease;
import org.jploop.daemon.DiskAttachment;
import org.jploop.host.BalloonFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop balloon change -s SIZE}: inflates ({@code fallocate}) or truncates the hidden
 * balloon with ploop's messages; after an inflation the disk clusters under the new extents are
 * released from the image and the image is compacted (what the classic kernel's relocation did),
 * ending with ploop's "TRUNCATED: N cluster-blocks (B bytes)".
 */
@Command(name = "change", description = "Inflate or truncate hidden balloon.")
final class BalloonChangeCommand extends BalloonVerb {
  @Option(
      names = "-s",
      paramLabel = "SIZE",
      required = true,
      description = "New size of the balloon: sectors, or a number with K/M/G/T.")
  String size;

  @Override
  public Integer call() throws Exception {
    long sectors = SizeParser.parseSectors(size, true);
    DiskAttachment a = target(true);
    try (BalloonFile b = BalloonFile.open(a.mountPoint(), BalloonFile.Lock.EXCLUSIVE)) {
      BalloonFile.Change c = b.change(sectors, this::say);
      if (c.inflated()) {
        BalloonRelease r = new BalloonRelease(a);
        release(a, r.clusters(b.unwrittenExtents(c.oldBytes(), c.newBytes())));
      }
    }
    return ExitCode.OK;
  }
}
