package org.jploop.cli;

import org.jploop.format.descriptor.Guid;
import org.jploop.image.OfflineDisk;
import org.jploop.image.SnapshotSwitcher;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ploop snapshot-switch -u GUID DiskDescriptor.xml}: discard the top, restart at GUID. */
@Command(name = "snapshot-switch", description = "Switch the disk to a snapshot (the top is lost).")
final class SnapshotSwitchCommand extends ImageVerb {
  @Option(names = "-u", paramLabel = "GUID", required = true, description = "Snapshot GUID.")
  String guid;

  @Override
  String purpose() {
    return "snapshot-switch";
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    new SnapshotSwitcher(disk, hook()).switchTo(Guid.parse(guid));
    out().println("ploop snapshot has been successfully switched");
  }
}
