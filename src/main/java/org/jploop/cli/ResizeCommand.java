package org.jploop.cli;

import org.jploop.image.DiskResizer;
import org.jploop.image.OfflineDisk;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ploop resize -s SIZE DiskDescriptor.xml}: grow the disk offline; shrinking is refused. */
@Command(name = "resize", description = "Grow the disk (offline); shrinking is refused.")
final class ResizeCommand extends ImageVerb {
  @Option(names = "-s", paramLabel = "SIZE", required = true,
      description = "New size: sectors, or a number with K/M/G/T.")
  String size;

  @Override
  String purpose() {
    return "resize";
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    long sectors = SizeParser.parseSectors(size);
    long done = new DiskResizer(disk, hook()).resize(sectors);
    out().println("Resized to " + done + " sectors");
  }
}
