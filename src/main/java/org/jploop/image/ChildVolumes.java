package org.jploop.image;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;

/**
 * The images of a ploop-volume that its child volumes grow from although they are the volume's own.
 * {@code ploop-volume clone} of a read-write volume snapshots it in place and grows the clone from
 * that snapshot, so the snapshot's image and the ones below it are shared with the clone: a plain
 * snapshot-merge, snapshot-delete, snapshot-switch, convert or compact of the volume must not
 * change, move or delete them (the clone would lose its base or see the volume's later data). Found
 * from {@code VOL/children/}: each link's volume's {@code <SnapshotGUID>}, and the chain below it
 * in VOL's descriptor. Stateless.
 */
public final class ChildVolumes {
  /** The directory of links to child volumes inside a volume directory (SNAP_DIR). */
  public static final String DIR_NAME = "children";

  private ChildVolumes() {}

  /**
   * Returns the GUIDs (lower case) of {@code d}'s own images that a child volume grows from, each
   * with the first such child volume's directory; empty when {@code d} is not a volume.
   *
   * @param xml the descriptor file {@code d} was read from
   * @throws IOException if a child volume's descriptor cannot be read (nothing may then be changed)
   */
  public static Map<String, Path> shared(Path xml, DiskDescriptor d) throws IOException {
    Map<String, Path> out = new LinkedHashMap<>();
    Path children = xml.toAbsolutePath().getParent().resolve(DIR_NAME);
    if (d.volume() == null || !Files.isDirectory(children)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(children)) {
      for (Path link : ds) {
        Path childDir;
        try {
          childDir = link.toRealPath();
        } catch (NoSuchFileException e) {
          continue; // a dangling link names no volume
        }
        Path childXml = childDir.resolve(DiskDescriptor.FILE_NAME);
        if (!Files.isRegularFile(childXml)) {
          continue;
        }
        DiskDescriptor.Volume v = DiskDescriptor.read(childXml).volume();
        String g = v == null ? null : v.snapshotGuid();
        ImageEntry from = g == null ? null : d.image(g);
        if (from == null || from.alien()) {
          continue;
        }
        for (ImageEntry e : d.chain(xml, g)) {
          if (!e.alien()) {
            out.putIfAbsent(e.guid().toLowerCase(Locale.ROOT), childDir);
          }
        }
      }
    }
    return out;
  }
}
