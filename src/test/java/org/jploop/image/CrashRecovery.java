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
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.io.ImageWriter;

/**
 * What happens after a crash, for the tests: the interrupted-conversion recovery every {@code
 * convert} starts with, then for each image the content check {@code ploop check -c} makes (the
 * BAT must be aligned, inside the file and free of duplicates: {@link DeltaFile#open} refuses
 * anything else) followed by dropping the in-use flag, as {@code ploop check -d} does once that
 * check passes. Returns the messages of the recovery.
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
      try (DeltaFile delta = DeltaFile.open(p, true)) {
        assertThat(delta.header().flags() & ImageHeader.CIF_FMT_VERSION_CONVERT)
            .as("convert flag of " + p).isZero();
      }
      try (var f = FileBlockFile.open(p, false)) {
        ImageHeader h = ImageReader.readHeader(f);
        if (h.inUse()) {
          log.write("dropped in-use flag of " + p + "\n");
          ImageWriter.writeHeader(f, h.withDiskInUse(ImageHeader.CLOSED_V20));
        }
      }
    }
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
