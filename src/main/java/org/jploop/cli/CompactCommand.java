package org.jploop.cli;

import org.jploop.image.DiskCompactor;
import org.jploop.image.OfflineDisk;
import picocli.CommandLine.Command;

/**
 * {@code ploop compact DiskDescriptor.xml}: moves data clusters from the tail of every ploop1 delta
 * into its holes and truncates it ({@link DiskCompactor}); on a mounted disk the mount daemon does
 * it online.
 */
@Command(name = "compact", description = "Move tail clusters into holes and truncate the images.")
final class CompactCommand extends ImageVerb {
  @Override
  String purpose() {
    return "compact";
  }

  @Override
  String onlineRequest() {
    return "compact";
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    for (DiskCompactor.DeltaResult r :
        new DiskCompactor(disk, p -> progress("Compacting " + p.getFileName()), hook())
            .compactAll()) {
      out().println(r.describe());
    }
  }
}
