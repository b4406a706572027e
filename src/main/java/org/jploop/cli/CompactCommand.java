package org.jploop.cli;

import java.nio.file.Path;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.image.Compactor;
import org.jploop.image.DeltaFile;
import org.jploop.image.OfflineDisk;
import picocli.CommandLine.Command;

/**
 * {@code ploop compact DiskDescriptor.xml}: moves data clusters from the tail of every ploop1
 * delta into its holes and truncates it (offline).
 */
@Command(name = "compact", description = "Move tail clusters into holes and truncate the images.")
final class CompactCommand extends ImageVerb {
  @Override
  String purpose() {
    return "compact";
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    disk.requireClean();
    DiskDescriptor d = disk.descriptor();
    for (DiskDescriptor.ImageEntry e : d.images()) {
      if (d.raw() && e == d.images().get(0)) {
        continue;
      }
      Path p = disk.fileOf(e);
      Compactor.Result r;
      try (DeltaFile delta = DeltaFile.open(p, false)) {
        r = new Compactor(progress("Compacting " + p.getFileName()), hook()).compact(delta);
      }
      out().println(p + ": moved " + r.movedClusters() + " clusters, size " + r.sizeBefore()
          + " -> " + r.sizeAfter() + " bytes");
    }
  }
}
