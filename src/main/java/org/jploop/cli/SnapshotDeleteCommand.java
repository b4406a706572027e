package org.jploop.cli;

import org.jploop.format.descriptor.Guid;
import org.jploop.image.OfflineDisk;
import org.jploop.image.SnapshotDeleter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ploop snapshot-delete -u GUID DiskDescriptor.xml}: delete (merge) a snapshot. */
@Command(name = "snapshot-delete", description = "Delete a snapshot, merging it into its child.")
final class SnapshotDeleteCommand extends ImageVerb {
  @Option(names = "-u", paramLabel = "GUID", required = true, description = "Snapshot GUID.")
  String guid;

  @Override
  String purpose() {
    return "snapshot-delete";
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    String g = Guid.parse(guid);
    new SnapshotDeleter(disk, progress("Merging"), out(), hook()).delete(g);
    out().println("ploop snapshot " + g + " has been successfully deleted");
  }
}
