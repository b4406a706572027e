package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jploop.check.CheckOptions;
import org.jploop.check.CheckResult;
import org.jploop.check.Finding;
import org.jploop.check.ImageChecker;
import org.jploop.format.CorruptImageException;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;

/**
 * What {@code ploop mount} does with a delta left dirty by a crash (its in-use flag set): ploop
 * checks every delta of the chain at mount (check_deltas: detailed, dropping the in-use flag) and
 * mounts. jploop runs the check of {@code ploop check -F -d} on each dirty delta, with two passes:
 * a read-only one first, so that a finding ploop treats as fatal (a cluster used twice, which is
 * never repaired) refuses the mount with exit 11 before anything is written; then the repairing one
 * (entries past the disk size or past EOF zeroed, a leaked tail truncated, the in-use flag
 * dropped). Every finding goes to the caller's report and to the disk's log. Clean deltas are not
 * read beyond their header. Stateless.
 */
public final class DirtyImageRepair {
  /** Read-only and without -d: ImageChecker drops the in-use flag even with -r, as ploop. */
  private static final CheckOptions PREVIEW = new CheckOptions(false, true, true, true, false);

  private static final CheckOptions REPAIR = new CheckOptions(false, true, true, false, true);

  private DirtyImageRepair() {}

  /**
   * Checks and repairs the dirty deltas of the chain of {@code xml} up to {@code guid} (null: the
   * top). Returns the lines reported (empty when every delta was clean).
   *
   * @throws CorruptImageException for a finding that refuses the mount (exit 11)
   */
  public static List<String> repair(Path xml, String guid, Consumer<String> report)
      throws IOException {
    DiskDescriptor d = DiskDescriptor.read(xml);
    List<Path> chain = guid == null ? d.topChainFiles(xml) : d.chainFiles(xml, guid);
    List<String> lines = new ArrayList<>();
    Consumer<String> out =
        l -> {
          lines.add(l);
          report.accept(l);
        };
    for (int i = 0; i < chain.size(); i++) {
      Path delta = chain.get(i);
      if ((d.raw() && i == 0) || !dirty(delta)) {
        continue;
      }
      out.accept(
          "Image "
              + delta
              + " was not closed cleanly (in-use flag set): checking it as"
              + " ploop check -F -d does");
      List<Finding> preview = new ArrayList<>();
      ImageChecker.checkImage(delta, PREVIEW, preview::add);
      for (Finding f : preview) {
        if (f.kind() == Finding.Kind.DUPLICATE) {
          preview.stream().map(Finding::toString).forEach(out);
          throw new CorruptImageException(
              delta,
              -1,
              "Fatal errors were found, image is not"
                  + " repaired: "
                  + f.message()
                  + " at offset "
                  + f.offset()
                  + " (nothing was changed;"
                  + " see ploop check -c "
                  + delta
                  + ")");
        }
      }
      CheckResult r = ImageChecker.checkImage(delta, REPAIR, f -> out.accept(f.toString()));
      if (!r.ok()) {
        throw new CorruptImageException(delta, -1, r.message());
      }
      out.accept(r.message().isEmpty() ? "Image " + delta + " is clean" : r.message());
    }
    return lines;
  }

  private static boolean dirty(Path delta) throws IOException {
    try (FileBlockFile f = FileBlockFile.open(delta, true)) {
      ImageHeader h = ImageReader.readHeader(f);
      return h.inUse();
    }
  }
}
