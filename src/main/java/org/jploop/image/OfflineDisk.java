package org.jploop.image;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.format.descriptor.Guid;
import org.jploop.io.BlockFile;
import org.jploop.io.DiskLock;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;

/**
 * A disk held for an offline operation: the {@link DiskLock} taken (so no mount daemon and no other
 * operation can touch it) and its descriptor read. Refuses a locked disk (BUSY) and, on request,
 * images whose in-use flag is set (DIRTY: a crash happened and {@code ploop check} must look
 * first). Closing releases the lock.
 */
public final class OfflineDisk implements AutoCloseable {
  /** The descriptor file. */
  private final Path xml;

  /** The lock, held until close; null when the caller holds it ({@link #held}). */
  private final DiskLock lock;

  /** The descriptor as read at open, or as last replaced by {@link #update}. */
  private DiskDescriptor descriptor;

  private OfflineDisk(Path xml, DiskLock lock, DiskDescriptor descriptor) {
    this.xml = xml;
    this.lock = lock;
    this.descriptor = descriptor;
  }

  /**
   * Locks the disk of {@code xml} for {@code purpose} and reads its descriptor.
   *
   * @throws ImageOperationException BUSY if the disk is mounted or another operation runs
   */
  public static OfflineDisk open(Path xml, String purpose) throws IOException {
    Path abs = xml.toAbsolutePath();
    DiskDescriptor.read(abs); // a missing or bad descriptor is reported before any lock file
    DiskLock l =
        DiskLock.tryAcquire(abs, purpose)
            .orElseThrow(
                () ->
                    new ImageOperationException(
                        ImageOperationException.Kind.BUSY,
                        "Image "
                            + abs
                            + " is in use (mounted or busy: "
                            + DiskLock.holder(abs)
                            + ")"));
    try {
      return new OfflineDisk(abs, l, DiskDescriptor.read(abs));
    } catch (IOException | RuntimeException e) {
      l.close();
      throw e;
    }
  }

  /**
   * Wraps a disk whose {@link DiskLock} the caller already holds (the mount daemon, which keeps it
   * for as long as the disk is mounted); {@link #close} then leaves the lock alone.
   */
  public static OfflineDisk held(Path xml) throws IOException {
    Path abs = xml.toAbsolutePath();
    return new OfflineDisk(abs, null, DiskDescriptor.read(abs));
  }

  /** Returns the descriptor path (absolute). */
  public Path xml() {
    return xml;
  }

  /** Returns the current descriptor. */
  public DiskDescriptor descriptor() {
    return descriptor;
  }

  /** Records that the descriptor on disk is now {@code d}. */
  public void update(DiskDescriptor d) {
    this.descriptor = d;
  }

  /** Resolves an image entry to its file. */
  public Path fileOf(ImageEntry e) throws IOException {
    return descriptor.fileOf(xml, e);
  }

  /** Resolves the image of snapshot {@code guid}, or throws NO_SNAPSHOT. */
  public Path fileOf(String guid) throws IOException {
    ImageEntry e = descriptor.image(guid);
    if (e == null) {
      throw noSnapshot(guid);
    }
    return fileOf(e);
  }

  /** Returns the "no such snapshot" error for {@code guid}. */
  public static ImageOperationException noSnapshot(String guid) {
    return new ImageOperationException(
        ImageOperationException.Kind.NO_SNAPSHOT, "Can't find snapshot by uuid " + guid);
  }

  /** Returns every image file of the descriptor, in XML order. */
  public List<Path> allFiles() throws IOException {
    List<Path> out = new ArrayList<>();
    for (ImageEntry e : descriptor.images()) {
      out.add(fileOf(e));
    }
    return out;
  }

  /**
   * Refuses if any ploop1 image of the descriptor carries the in-use flag: an earlier crash left
   * it, and {@code ploop check} has to verify and clear it before anything moves data.
   */
  public void requireClean() throws IOException {
    if (descriptor.raw() && descriptor.images().size() == 1) {
      return;
    }
    for (ImageEntry e : descriptor.images()) {
      if (descriptor.raw() && e == descriptor.images().get(0)) {
        continue;
      }
      Path p = fileOf(e);
      try (BlockFile f = FileBlockFile.open(p, true)) {
        ImageHeader h = ImageReader.readHeader(f);
        if (h.inUse()) {
          throw new ImageOperationException(
              ImageOperationException.Kind.DIRTY,
              "Image is in use " + p + ": the dirty flag is set; run ploop check first");
        }
        if ((h.flags() & ImageHeader.CIF_FMT_VERSION_CONVERT) != 0) {
          throw new ImageOperationException(
              ImageOperationException.Kind.DIRTY,
              "Image " + p + " is in the changing version state; run ploop convert -v again");
        }
      }
    }
  }

  /**
   * Refuses {@code what} on a ploop-volume whose chain goes through parent volumes: it would change
   * or delete images that other volumes share (ploop-volume's operations handle those).
   */
  public void requireNoParentVolumes(String what) throws ImageOperationException {
    if (descriptor.images().stream().anyMatch(ImageEntry::alien)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to "
              + what
              + ": "
              + xml
              + " is a volume whose chain goes through its parent volumes ("
              + descriptor.volume().parent()
              + "); use ploop-volume");
    }
  }

  /**
   * Refuses {@code what} if it would change, move or delete the image of one of {@code guids} (all
   * of the disk's own images when null) that a child volume grows from ({@link ChildVolumes}).
   */
  public void requireNotShared(String what, List<String> guids) throws IOException {
    Map<String, Path> shared = ChildVolumes.shared(xml, descriptor);
    for (ImageEntry e : descriptor.ownImages()) {
      Path child = shared.get(e.guid().toLowerCase(Locale.ROOT));
      boolean named = guids == null || guids.stream().anyMatch(g -> Guid.same(g, e.guid()));
      if (child != null && named) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Unable to "
                + what
                + ": the image of "
                + e.guid()
                + " ("
                + e.file()
                + ") is the base of the child"
                + " volume "
                + child
                + " (ploop-volume clone); delete that volume first");
      }
    }
  }

  @Override
  public void close() throws IOException {
    if (lock != null) {
      lock.close();
    }
  }
}
