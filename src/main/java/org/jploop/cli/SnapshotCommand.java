package org.jploop.cli;

import java.util.UUID;
import java.util.regex.Pattern;
import org.jploop.image.OfflineDisk;
import org.jploop.image.SnapshotCreator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop snapshot [-u GUID] [-b CBT_UUID] DiskDescriptor.xml}: freezes the top delta; online
 * (the mount daemon switches to the new top) when the disk is mounted. {@code -b} starts a new CBT
 * backup epoch (the new top gets an empty CBT of that name, the old top keeps the bitmap of the
 * epoch that ends), online through the mount daemon too ({@code OnlineCbt}).
 */
@Command(name = "snapshot", description = "Create a snapshot: freeze the top delta, add a new one.")
final class SnapshotCommand extends ImageVerb {
  @Option(names = "-u", paramLabel = "GUID", description = "GUID of the new snapshot.")
  String guid;

  @Option(
      names = "-o",
      description = "Offline snapshot: refuse a mounted disk instead of switching it online.")
  boolean offline;

  @Option(
      names = "-b",
      paramLabel = "CBT_UUID",
      description = "Start a new CBT epoch: the new top delta tracks changes under this UUID.")
  String cbtUuid;

  /** The form libuuid's uuid_parse accepts. */
  private static final Pattern UUID_TEXT =
      Pattern.compile(
          "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  @Override
  String purpose() {
    return "snapshot";
  }

  @Override
  String onlineRequest() {
    if (offline) {
      return null;
    }
    String r = guid == null ? "snapshot" : "snapshot guid=" + guid;
    if (cbtUuid != null) {
      if (!UUID_TEXT.matcher(cbtUuid).matches()) {
        throw new PloopException(ExitCode.PARAM, "Incorrect cbt uuid is specified " + cbtUuid);
      }
      r += " cbt=" + cbtUuid;
    }
    return r;
  }

  @Override
  void onlineDone(String reply) {
    if (cbtUuid != null) {
      out().println("Create snapshot CBT uuid=" + cbtUuid);
    }
    out().println("ploop snapshot " + reply + " has been successfully created");
  }

  @Override
  void run(OfflineDisk disk) throws Exception {
    UUID cbt = null;
    if (cbtUuid != null) {
      out().println("Create snapshot CBT uuid=" + cbtUuid);
      if (!UUID_TEXT.matcher(cbtUuid).matches()) {
        throw new PloopException(ExitCode.PARAM, "Incorrect cbt uuid is specified " + cbtUuid);
      }
      cbt = UUID.fromString(cbtUuid);
    }
    String g = new SnapshotCreator(disk, hook()).create(guid, cbt, out());
    out().println("ploop snapshot " + g + " has been successfully created");
  }
}
