package org.jploop.cli;

import org.jploop.image.DiskResizer;
import org.jploop.image.OfflineDisk;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ploop grow -s SIZE DiskDescriptor.xml}: the low-level offline grow of the top delta. */
@Command(name = "grow", description = "Grow the image offline (no filesystem handling).")
final class GrowCommand extends ImageVerb {
  @Option(names = "-s", paramLabel = "SIZE", required = true,
      description = "New size: sectors, or a number with K/M/G/T.")
  String size;

  @Override
  String purpose() {
    return "grow";
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    long done = new DiskResizer(disk, hook()).grow(SizeParser.parseSectors(size));
    out().println("Grown to " + done + " sectors");
  }
}
