package org.jploop.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.format.descriptor.DiskDescriptor.Shot;
import org.jploop.format.descriptor.Guid;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop snapshot-list [-H] [-o FIELDS] [-s] [-u GUID] DiskDescriptor.xml}: one line per
 * snapshot with ploop's fields and widths ({@code parent_uuid %-38s}, {@code current %1s}, {@code
 * uuid %-38s}, {@code fname %-32s}; the last field unpadded). Reads the descriptor only, no lock.
 */
@Command(name = "snapshot-list", description = "List the snapshots of a disk.")
final class SnapshotListCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "-H", description = "Do not print the header line.")
  boolean noHeader;

  @Option(
      names = "-o",
      paramLabel = "FIELDS",
      split = ",",
      description = "Fields: parent_uuid, current, uuid, fname.")
  List<String> fields = List.of("parent_uuid", "current", "uuid", "fname");

  @Option(names = "-s", description = "Hide the top delta and mark its parent current.")
  boolean snapshotsOnly;

  @Option(names = "-u", paramLabel = "GUID", description = "List the chain from GUID to the base.")
  String guid;

  @Parameters(index = "0", paramLabel = "DiskDescriptor.xml")
  Path descriptor;

  @Override
  public Integer call() throws Exception {
    for (String f : fields) {
      if (!List.of("parent_uuid", "current", "uuid", "fname").contains(f)) {
        throw new PloopException(ExitCode.PARAM, "Unknown field " + f);
      }
    }
    Path xml = descriptor.toAbsolutePath();
    DiskDescriptor d = DiskDescriptor.read(xml);
    List<Shot> shots = d.shots();
    if (guid != null) {
      String g = Guid.parse(guid);
      if (d.shot(g) == null) {
        throw new PloopException(ExitCode.NOSNAP, "Can't find snapshot by uuid " + g);
      }
      List<Shot> chain = new ArrayList<>();
      for (ImageEntry e : d.chain(xml, g)) {
        chain.add(d.shot(e.guid()));
      }
      shots = chain;
    }
    String current = d.topGuid();
    if (snapshotsOnly) {
      current = d.shot(d.topGuid()).parentGuid();
      shots = shots.stream().filter(s -> !Guid.same(s.guid(), d.topGuid())).toList();
    }
    var out = spec.commandLine().getOut();
    if (!noHeader) {
      out.println(line(fields, "PARENT_UUID", "C", "UUID", "FNAME"));
    }
    for (Shot s : shots) {
      Path file = d.fileOf(xml, d.image(s.guid()));
      out.println(
          line(
              fields,
              s.parentGuid(),
              Guid.same(s.guid(), current) ? "*" : "",
              s.guid(),
              file.toString()));
    }
    out.flush();
    return ExitCode.OK;
  }

  private static String line(
      List<String> fields, String parent, String cur, String uuid, String fname) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < fields.size(); i++) {
      boolean last = i == fields.size() - 1;
      String v =
          switch (fields.get(i)) {
            case "parent_uuid" -> pad(parent, 38, last);
            case "current" -> pad(cur, 1, last);
            case "uuid" -> pad(uuid, 38, last);
            default -> pad(fname, 32, last);
          };
      if (i > 0) {
        sb.append(' ');
      }
      sb.append(v);
    }
    return sb.toString();
  }

  private static String pad(String v, int width, boolean last) {
    return last ? v : String.format(Locale.ROOT, "%-" + width + "s", v);
  }
}
