package org.jploop.cli;

import java.nio.file.Path;
import org.jploop.format.descriptor.Guid;
import org.jploop.image.OfflineDisk;
import org.jploop.image.SnapshotMerger;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop snapshot-merge [-u GUID | -A] [-n NEW_DELTA] DiskDescriptor.xml}: merge deltas
 * downwards; with {@code -n} into a new file that replaces the parent ({@link
 * SnapshotMerger#intoNew}; offline only: ploop's online form swaps the file under the running
 * device, which jploop's mount daemon does not do yet).
 */
@Command(name = "snapshot-merge", description = "Merge a delta (default: the top) into its parent.")
final class SnapshotMergeCommand extends ImageVerb {
  /** -u and -A exclude each other. */
  static final class Which {
    @Option(names = "-u", paramLabel = "GUID", description = "Delta to merge into its parent.")
    String guid;

    @Option(names = "-A", description = "Merge every delta into the base.")
    boolean all;
  }

  @ArgGroup(exclusive = true)
  Which which;

  @Option(
      names = "-n",
      paramLabel = "NEW_DELTA",
      description =
          "Merge into this new file, which" + " then replaces the parent's (offline only).")
  Path newDelta;

  @Override
  String purpose() {
    return "snapshot-merge";
  }

  @Override
  String onlineRequest() {
    if (newDelta != null) {
      return null; // a mounted disk is refused as busy
    }
    if (which != null && which.all) {
      return "merge all=1";
    }
    return which == null || which.guid == null ? "merge" : "merge guid=" + which.guid;
  }

  @Override
  void onlineDone(String reply) {
    out().println("ploop snapshot merged");
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    SnapshotMerger m = new SnapshotMerger(disk, progress("Merging"), out(), hook());
    if (newDelta != null) {
      m.intoNew(newDelta);
    }
    if (which != null && which.all) {
      m.mergeAll();
    } else {
      m.mergeIntoParent(
          which == null || which.guid == null
              ? disk.descriptor().topGuid()
              : Guid.parse(which.guid));
    }
    out().println("ploop snapshot merged");
  }
}
