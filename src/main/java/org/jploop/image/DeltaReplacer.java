package org.jploop.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.format.descriptor.Guid;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;

/**
 * {@code ploop replace}: puts another file with the same content (a copy) in place of one delta of
 * the top chain. The new file's header must describe the same image as the old one (version,
 * cluster size, size; not in use); whether its content is sound is {@code ploop check}'s job, which
 * the caller runs first. Without {@code keepName} the descriptor is updated atomically ({@link
 * DescriptorTransaction}) to name the new file, which must be in the descriptor's directory (jploop
 * resolves no image outside it); with it the new file is renamed over the old one (same filesystem
 * required) and the descriptor stays. The old file is left where it was. Run on an {@link
 * OfflineDisk}: offline, or by the mount daemon with the disk suspended and closed. Not
 * thread-safe.
 */
public final class DeltaReplacer {
  /**
   * What was replaced.
   *
   * @param oldFile the delta's file before
   * @param newFile the file that now serves the delta
   * @param level the delta's level in the top chain (0: the base)
   * @param top whether it is the top delta
   */
  public record Result(Path oldFile, Path newFile, int level, boolean top) {
    /** ploop's log line: {@code Replacing %s with %s (%s, level %d)}. */
    public String describe() {
      return "Replacing "
          + oldFile
          + " with "
          + newFile
          + " ("
          + (top ? "rw" : "ro")
          + ", level "
          + level
          + ")";
    }
  }

  private final OfflineDisk disk;

  public DeltaReplacer(OfflineDisk disk) {
    this.disk = disk;
  }

  /**
   * Returns the level of the delta named by exactly one of {@code guid}, {@code level} or {@code
   * current} (a file of the chain); refuses anything else.
   */
  public int levelOf(String guid, Integer level, Path current) throws IOException {
    List<ImageEntry> chain = disk.descriptor().topChain(disk.xml());
    if (guid != null) {
      String g = Guid.parse(guid);
      for (int i = 0; i < chain.size(); i++) {
        if (Guid.same(chain.get(i).guid(), g)) {
          return i;
        }
      }
      throw OfflineDisk.noSnapshot(g);
    }
    if (level != null) {
      if (level < 0 || level >= chain.size()) {
        throw refused("Invalid level " + level + ": the disk has levels 0.." + (chain.size() - 1));
      }
      return level;
    }
    Path want = current.toAbsolutePath().normalize();
    for (int i = 0; i < chain.size(); i++) {
      Path f = disk.fileOf(chain.get(i));
      if (f.equals(want) || (Files.exists(want) && Files.isSameFile(f, want))) {
        return i;
      }
    }
    throw refused("Can't find delta " + current + " in " + disk.xml());
  }

  /** Replaces the delta at {@code level} by {@code newFile}; see the class comment. */
  public Result replace(int level, Path newFile, boolean keepName) throws IOException {
    disk.requireClean();
    DiskDescriptor d = disk.descriptor();
    List<ImageEntry> chain = d.topChain(disk.xml());
    ImageEntry entry = chain.get(level);
    Path oldFile = disk.fileOf(entry);
    Path nf = newFile.toAbsolutePath().normalize();
    if (!Files.isRegularFile(nf)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.OPEN,
          "Can't open " + newFile + ": No such file or directory");
    }
    for (Path f : disk.allFiles()) {
      if (Files.exists(f) && Files.isSameFile(f, nf)) {
        throw refused("Image " + newFile + " is already in use by " + disk.xml());
      }
    }
    if (entry.alien()) {
      throw refused("Unable to replace " + oldFile + ": it belongs to a parent volume");
    }
    if (!keepName) {
      disk.requireNotShared("replace", List.of(entry.guid()));
    }
    if (DiskDescriptor.TYPE_PLAIN.equals(entry.type())) {
      throw refused("Replacing the raw (Plain) image " + oldFile + " is not supported by jploop");
    }
    requireSameImage(oldFile, nf);
    boolean top = level == chain.size() - 1;
    if (keepName) {
      if (!Files.getFileStore(nf).equals(Files.getFileStore(oldFile.getParent()))) {
        throw new ImageOperationException(
            ImageOperationException.Kind.RENAME,
            "Files " + nf + " and " + oldFile + " are on different file systems, can't rename");
      }
      Files.move(nf, oldFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      DescriptorTransaction.fsyncDirectory(oldFile);
      return new Result(oldFile, nf, level, top);
    }
    Path dir = disk.xml().toAbsolutePath().getParent();
    if (!nf.getParent().equals(dir)) {
      throw refused(
          "Image "
              + newFile
              + " is not in "
              + dir
              + "; jploop keeps every image of a"
              + " disk in its descriptor's directory (or use -k to rename it over "
              + oldFile
              + ")");
    }
    List<ImageEntry> images = new ArrayList<>();
    for (ImageEntry e : d.images()) {
      images.add(
          e == entry || Guid.same(e.guid(), entry.guid())
              ? new ImageEntry(e.guid(), e.type(), nf.getFileName().toString(), e.alien())
              : e);
    }
    DiskDescriptor next = d.withChain(images, d.shots(), d.topGuid());
    DescriptorTransaction tx = new DescriptorTransaction(disk.xml());
    tx.stage(next);
    tx.commit();
    disk.update(next);
    return new Result(oldFile, nf, level, top);
  }

  /** Refuses a new file whose header does not describe the same delta as the old one. */
  private static void requireSameImage(Path oldFile, Path newFile) throws IOException {
    ImageHeader o = header(oldFile);
    ImageHeader n = header(newFile);
    if (n.inUse()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.DIRTY,
          "Image " + newFile + " is in use (its dirty flag is set); run ploop check first");
    }
    if (o.version() != n.version()
        || o.clusterSectors() != n.clusterSectors()
        || o.sizeSectors() != n.sizeSectors()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.CORRUPT,
          "Image "
              + newFile
              + " does not match "
              + oldFile
              + ": "
              + describe(n)
              + " instead of "
              + describe(o));
    }
  }

  private static String describe(ImageHeader h) {
    return h.version()
        + ", cluster "
        + h.clusterSectors()
        + " sectors, "
        + h.sizeSectors()
        + " sectors";
  }

  private static ImageHeader header(Path f) throws IOException {
    try (BlockFile b = FileBlockFile.open(f, true)) {
      return ImageReader.readHeader(b);
    }
  }

  private static ImageOperationException refused(String msg) {
    return new ImageOperationException(ImageOperationException.Kind.REFUSED, msg);
  }
}
