package org.jploop.cli;

import org.jploop.image.OfflineDisk;
import org.jploop.image.SnapshotCreator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ploop snapshot [-u GUID] DiskDescriptor.xml}: freezes the top delta (offline). */
@Command(name = "snapshot", description = "Create a snapshot: freeze the top delta, add a new one.")
final class SnapshotCommand extends ImageVerb {
  @Option(names = "-u", paramLabel = "GUID", description = "GUID of the new snapshot.")
  String guid;

  @Option(names = "-o", description = "Offline snapshot (the only kind this command takes).")
  boolean offline;

  @Override
  String purpose() {
    return "snapshot";
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    String g = new SnapshotCreator(disk, hook()).create(guid);
    out().println("ploop snapshot " + g + " has been successfully created");
  }
}
