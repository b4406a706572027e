package org.jploop.volume;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.image.ChildVolumes;
import org.jploop.image.ImageOperationException;

/**
 * The directory of one ploop-volume (lib/volume.c): {@code VOL/DiskDescriptor.xml} and {@code
 * VOL/children/}, both made with mode 0700, where {@code children/<name>} is a symbolic link to
 * each child volume's directory (a snapshot's RW volume, or a clone). jploop writes the link target
 * as the absolute normalised path (ploop writes the path as the user typed it, which breaks for
 * relative paths). Holds no state beyond the path; callers lock the volume's disk.
 *
 * @param dir the volume directory, absolute and normalised
 */
public record VolumeLayout(Path dir) {
  /** The name of the directory of child links (SNAP_DIR). */
  public static final String CHILDREN = ChildVolumes.DIR_NAME;

  public VolumeLayout {
    dir = dir.toAbsolutePath().normalize();
  }

  /** Returns the layout of the volume directory {@code path} (as given by the user). */
  public static VolumeLayout of(Path path) {
    return new VolumeLayout(path);
  }

  /** Returns {@code VOL/DiskDescriptor.xml}. */
  public Path xml() {
    return dir.resolve(DiskDescriptor.FILE_NAME);
  }

  /** Returns {@code VOL/children}. */
  public Path childrenDir() {
    return dir.resolve(CHILDREN);
  }

  /** Creates {@code VOL} and {@code VOL/children} (0700; existing ones are reused, as in ploop). */
  public void create(PrintWriter log) throws IOException {
    mkdir(dir, log);
    mkdir(childrenDir(), log);
  }

  private static void mkdir(Path p, PrintWriter log) throws IOException {
    log.println("create " + p);
    try {
      Files.createDirectory(
          p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (FileAlreadyExistsException e) {
      if (!Files.isDirectory(p)) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED, "Can't create " + p + ": File exists");
      }
    }
  }

  /**
   * Removes the layout: the descriptor, its lock and staging files, the child links and the two
   * directories. Image files elsewhere are the caller's business; anything else found in the
   * directory is left, and then the directory too (ploop removes whatever it finds).
   */
  public void destroy(PrintWriter log) throws IOException {
    Path children = childrenDir();
    if (Files.isDirectory(children, LinkOption.NOFOLLOW_LINKS)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(children)) {
        for (Path p : ds) {
          if (Files.isSymbolicLink(p)) {
            Files.delete(p);
          }
        }
      }
      Files.delete(children);
    }
    for (String name :
        List.of(
            DiskDescriptor.FILE_NAME,
            DiskDescriptor.FILE_NAME + ".lck",
            DiskDescriptor.FILE_NAME + ".tmp",
            DiskDescriptor.FILE_NAME + ".vol.tmp")) {
      Files.deleteIfExists(dir.resolve(name));
    }
    try {
      Files.delete(dir);
    } catch (java.nio.file.DirectoryNotEmptyException e) {
      log.println("Warning: " + dir + " is not empty, left in place");
    } catch (NoSuchFileException e) {
      // already gone
    }
  }

  /** Returns the child volumes: the targets of the symbolic links in {@code children/}, sorted. */
  public List<Path> children() throws IOException {
    List<Path> out = new ArrayList<>();
    Path children = childrenDir();
    if (!Files.isDirectory(children)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(children)) {
      for (Path p : ds) {
        if (Files.isSymbolicLink(p)) {
          out.add(p.toRealPath());
        }
      }
    }
    out.sort(null);
    return out;
  }

  /** Adds {@code children/<basename of child>} pointing at {@code child} (register_sibling). */
  public void registerChild(VolumeLayout child, PrintWriter log) throws IOException {
    Path link = childrenDir().resolve(child.dir().getFileName());
    log.println("register sibling " + link + " -> " + child.dir());
    Files.createSymbolicLink(link, child.dir());
  }

  /** Removes {@code children/<basename of child>} if present (unregister_sibling). */
  public void unregisterChild(VolumeLayout child, PrintWriter log) throws IOException {
    Path link = childrenDir().resolve(child.dir().getFileName());
    log.println("unregister sibling " + link + " (" + child.dir() + ")");
    Files.deleteIfExists(link);
  }
}
