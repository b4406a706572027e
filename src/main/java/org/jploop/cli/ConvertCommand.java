package org.jploop.cli;

import org.jploop.format.FormatVersion;
import org.jploop.image.FormatConverter;
import org.jploop.image.OfflineDisk;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop convert {-f raw|ploop1|expanded|preallocated | -v 1|2} DiskDescriptor.xml}: offline
 * format conversion.
 */
@Command(name = "convert", description = "Convert the image format (offline).")
final class ConvertCommand extends ImageVerb {
  /** Exactly one of -f and -v. */
  static final class Target {
    @Option(
        names = "-f",
        paramLabel = "FORMAT",
        description = "raw, ploop1, expanded or preallocated.")
    String format;

    @Option(names = "-v", paramLabel = "VERSION", description = "1 or 2.")
    String version;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Target target;

  @Override
  String purpose() {
    return "convert";
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    FormatConverter c = new FormatConverter(disk, progress("Converting"), out(), hook());
    if (target.version != null) {
      FormatVersion v;
      try {
        v = FormatVersion.ofNumber(Integer.parseInt(target.version.trim()));
      } catch (IllegalArgumentException e) {
        throw new PloopException(ExitCode.PARAM, "Invalid -v argument: " + target.version);
      }
      c.convertVersion(v);
      return;
    }
    switch (target.format) {
      case "raw" -> c.toRaw();
      case "ploop1", "expanded" -> c.toPloop(FormatVersion.V2);
      case "preallocated" -> c.toPreallocated();
      default -> throw new PloopException(ExitCode.PARAM, "Bad -f argument: " + target.format);
    }
  }
}
