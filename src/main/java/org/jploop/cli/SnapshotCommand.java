package org.jploop.cli;

import org.jploop.image.OfflineDisk;
import org.jploop.image.SnapshotCreator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop snapshot [-u GUID] DiskDescriptor.xml}: freezes the top delta; online (the mount
 * daemon switches to the new top) when the disk is mounted.
 */
@Command(name = "snapshot", description = "Create a snapshot: freeze the top delta, add a new one.")
final class SnapshotCommand extends ImageVerb {
  @Option(names = "-u", paramLabel = "GUID", description = "GUID of the new snapshot.")
  String guid;

  @Option(names = "-o",
      description = "Offline snapshot: refuse a mounted disk instead of switching it online.")
  boolean offline;

  @Override
  String purpose() {
    return "snapshot";
  }

  @Override
  String onlineRequest() {
    if (offline) {
      return null;
    }
    return guid == null ? "snapshot" : "snapshot guid=" + guid;
  }

  @Override
  void onlineDone(String reply) {
    out().println("ploop snapshot " + reply + " has been successfully created");
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    String g = new SnapshotCreator(disk, hook()).create(guid);
    out().println("ploop snapshot " + g + " has been successfully created");
  }
}
