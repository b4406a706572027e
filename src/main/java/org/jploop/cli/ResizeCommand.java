package org.jploop.cli;

import org.jploop.image.DiskResizer;
import org.jploop.image.OfflineDisk;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop resize -s SIZE DiskDescriptor.xml}: grow the disk, offline or (mounted) online with
 * the partition and filesystem inside; shrinking is refused.
 */
@Command(name = "resize",
    description = "Grow the disk (online when mounted); shrinking is refused.")
final class ResizeCommand extends ImageVerb {
  @Option(names = "-s", paramLabel = "SIZE", required = true,
      description = "New size: sectors, or a number with K/M/G/T.")
  String size;

  @Override
  String purpose() {
    return "resize";
  }

  @Override
  String onlineRequest() {
    return "resize sectors=" + SizeParser.parseSectors(size);
  }

  @Override
  void onlineDone(String reply) {
    String[] w = reply.split(" ", 2);
    out().println("Resized to " + w[0] + " sectors" + (w.length > 1 ? "; " + w[1] : ""));
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    long sectors = SizeParser.parseSectors(size);
    long done = new DiskResizer(disk, hook()).resize(sectors);
    out().println("Resized to " + done + " sectors");
  }
}
