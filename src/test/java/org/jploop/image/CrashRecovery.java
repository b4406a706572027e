package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;

/**
 * What happens after a crash, for the tests: the interrupted-conversion recovery every {@code
 * convert} starts with, then the real {@code ploop check -F -c -d} on every image (checks the BAT,
 * drops the in-use flag when the content is sound), then {@code ploop check DiskDescriptor.xml};
 * finally {@link DeltaFile#open} must accept every image. Returns the messages of the recovery.
 */
final class CrashRecovery {
  private CrashRecovery() {}

  /** Recovers the disk of {@code xml}; fails the test if any image is damaged. */
  static String recover(Path xml) throws Exception {
    StringWriter log = new StringWriter();
    try (OfflineDisk disk = OfflineDisk.open(xml, "test recovery")) {
      new FormatConverter(disk, Progress.QUIET, new PrintWriter(log, true), StepHook.NONE)
          .recover();
    }
    DiskDescriptor d = DiskDescriptor.read(xml);
    for (DiskDescriptor.ImageEntry e : d.images()) {
      Path p = DiskDescriptor.resolveImage(xml, e);
      assertThat(p).as("image of " + e.guid()).exists();
      if (d.raw() && e == d.images().get(0)) {
        continue;
      }
      TestDisks.CliResult check = TestDisks.cli("check", "-F", "-c", "-d", p.toString());
      log.write(check.out());
      assertThat(check.exitCode())
          .as("ploop check -F -c -d " + p + ": " + check.out() + check.err())
          .isZero();
      try (DeltaFile delta = DeltaFile.open(p, true)) {
        assertThat(delta.header().inUse()).as("in-use flag of " + p + " after check").isFalse();
        assertThat(delta.header().flags() & ImageHeader.CIF_FMT_VERSION_CONVERT)
            .as("convert flag of " + p)
            .isZero();
      }
    }
    TestDisks.CliResult whole = TestDisks.cli("check", xml.toString());
    assertThat(whole.exitCode())
        .as("ploop check " + xml + ": " + whole.out() + whole.err())
        .isZero();
    return log.toString();
  }

  /** Returns the files in {@code dir} that no descriptor entry names (strays after a crash). */
  static List<String> strays(Path xml) throws Exception {
    DiskDescriptor d = DiskDescriptor.read(xml);
    List<String> known = new ArrayList<>(List.of("DiskDescriptor.xml", "DiskDescriptor.xml.lck"));
    for (DiskDescriptor.ImageEntry e : d.images()) {
      known.add(e.file());
    }
    try (var files = Files.list(xml.getParent())) {
      return files.map(p -> p.getFileName().toString()).filter(n -> !known.contains(n)).toList();
    }
  }
}
