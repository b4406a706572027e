package org.jploop.cli;

import org.jploop.image.BareDeltaGrower;
import org.jploop.image.DiskResizer;
import org.jploop.image.ImageFormat;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop grow -s SIZE DiskDescriptor.xml} (the disk's top delta and {@code Disk_size}) and
 * {@code ploop grow -s SIZE [-f raw] [-S] DELTA} (one image file, no descriptor): the low-level
 * offline grow, no filesystem handling. The size must be a whole number of clusters, as in ploop.
 * {@code -d DEVICE} is refused: jploop has no ploop devices (grow a mounted disk with {@code ploop
 * resize}).
 */
@Command(
    name = "grow",
    description = "Grow a disk or one image file offline (no filesystem" + " handling).")
final class GrowCommand extends ImageVerb {
  @Option(
      names = "-s",
      paramLabel = "SIZE",
      required = true,
      description = "New size: sectors, or a number with K/M/G/T.")
  String size;

  @Option(
      names = "-f",
      paramLabel = "FORMAT",
      description = "raw: DELTA is a raw image (ploop1 otherwise).")
  String format;

  @Option(
      names = {"-S", "--sparse"},
      description = "Raw image: extend sparsely (no zeros written).")
  boolean sparse;

  @Option(
      names = "-d",
      paramLabel = "DEVICE",
      description = "Refused: jploop has no ploop devices.")
  String device;

  @Override
  String purpose() {
    return "grow";
  }

  @Override
  public Integer call() throws Exception {
    if (device != null) {
      throw new PloopException(
          ExitCode.PARAM,
          "Error: -d "
              + device
              + ": jploop has no ploop"
              + " devices; grow a mounted disk with ploop resize -s SIZE DiskDescriptor.xml");
    }
    long sectors = SizeParser.parseSectors(size);
    if (sectors == 0) {
      throw new PloopException(
          ExitCode.PARAM, "Usage: ploop grow -s NEW_SIZE DiskDescriptor.xml" + " | [-f raw] DELTA");
    }
    boolean raw = format != null && ImageFormat.parse(format) == ImageFormat.RAW;
    if (descriptor.getFileName().toString().endsWith(".xml")) {
      if (raw) {
        throw new PloopException(ExitCode.PARAM, "-f raw is for a DELTA, not DiskDescriptor.xml");
      }
      return super.call();
    }
    BareDeltaGrower g = new BareDeltaGrower(hook());
    try {
      long done = raw ? g.growRaw(descriptor, sectors, sparse) : g.grow(descriptor, sectors);
      out().println("Grown to " + done + " sectors");
    } catch (ImageOperationException e) {
      throw new PloopException(exitCodeFor(e.kind()), e.getMessage(), e);
    }
    out().flush();
    return ExitCode.OK;
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    long done = new DiskResizer(disk, hook()).grow(SizeParser.parseSectors(size));
    out().println("Grown to " + done + " sectors");
  }
}
