package org.jploop.image;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.format.descriptor.DiskDescriptor.Shot;
import org.jploop.format.descriptor.Guid;
import org.jploop.io.ImageWriter;

/**
 * {@code ploop snapshot-merge}: merges a delta down into its parent (the child keeps its GUID and
 * takes over the parent's file; the parent's snapshot disappears), or with {@code -A} every delta
 * of the top chain into the base. Also the one-child case of {@code snapshot-delete}.
 *
 * <p>With {@link #intoNew} ({@code -n NEW_DELTA}) the merged content goes to a new file instead,
 * created like the child (size, cluster size, version; raw when the parent is a raw base), built
 * under a temporary name and renamed into place when complete; the child then takes over the new
 * file and both old files are deleted, as in ploop 7 (1.15 crashes after the merge and ploop 9
 * fails before it). With {@code -A} the whole chain goes to the new file in one pass (ploop 7 fails
 * on its second step because NEW_DELTA then exists).
 *
 * <p>Order of durable steps: data into the parent's file ({@link DeltaMerger}, parent in use; or
 * {@link RawMerger} in place for a raw base), the parent marked clean, the new descriptor renamed
 * into place, the merged files deleted. The child's CBT goes to the parent after the data ({@link
 * #mergeCarryingCbt}). A crash before the rename leaves the old chain, which reads the same because
 * the child still shadows every cluster it gave the parent; a crash after it leaves only stray
 * files.
 */
public final class SnapshotMerger {
  private final OfflineDisk disk;
  private final Progress progress;
  private final PrintWriter log;
  private final StepHook hook;

  /** {@code -n}: the new file to merge into, or null to merge into the parent's file. */
  private Path newDelta;

  public SnapshotMerger(OfflineDisk disk, Progress progress, PrintWriter log, StepHook hook) {
    this.disk = disk;
    this.progress = progress;
    this.log = log;
    this.hook = hook;
  }

  /**
   * Makes the merges of this merger go to the new file {@code file} ({@code -n}), which must not
   * exist and must be inside the descriptor's directory.
   */
  public SnapshotMerger intoNew(Path file) throws ImageOperationException {
    Path abs = file.toAbsolutePath().normalize();
    if (Files.exists(abs, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Can't merge to new image " + file + ": File exists");
    }
    Path dir = disk.xml().getParent();
    if (!abs.getParent().equals(dir)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "New image "
              + abs
              + " is not in "
              + dir
              + ": jploop's DiskDescriptor.xml only names images in its own"
              + " directory");
    }
    this.newDelta = abs;
    return this;
  }

  /** Merges snapshot {@code childGuid} into its parent. */
  public void mergeIntoParent(String childGuid) throws IOException {
    disk.requireClean();
    DiskDescriptor d = disk.descriptor();
    Shot child = d.shot(childGuid);
    if (child == null) {
      throw OfflineDisk.noSnapshot(childGuid);
    }
    if (Guid.same(child.parentGuid(), Guid.NONE)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to merge " + childGuid + ": it is the base image and has no parent");
    }
    Shot parent = d.shot(child.parentGuid());
    int children = d.children(parent.guid()).size();
    if (children > 1) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Can't merge to snapshot " + parent.guid() + ": it has " + children + " children");
    }
    ImageEntry parentImage = d.image(parent.guid());
    ImageEntry childImage = d.image(child.guid());
    Path parentFile = disk.fileOf(parentImage);
    Path childFile = disk.fileOf(childImage);
    requireOwn(parentImage);
    requireOwn(childImage);
    disk.requireNotShared("merge " + child.guid(), List.of(parentImage.guid(), childImage.guid()));
    String takenOver = parentImage.file();
    List<Path> obsolete = new ArrayList<>(List.of(childFile));
    if (newDelta != null) {
      log.println("Merging images: " + childFile + " " + parentFile + " -> (new) " + newDelta);
      mergeIntoNewFile(List.of(childFile, parentFile), isRawBase(d, parentImage));
      takenOver = newDelta.getFileName().toString();
      obsolete.add(parentFile);
    } else if (isRawBase(d, parentImage)) {
      log.println("Merging image: " + childFile + " -> " + parentFile);
      try (DeltaFile src = DeltaFile.open(childFile, true)) {
        new RawMerger(progress, hook)
            .merge(List.of(src), parentFile, src.header().sizeSectors() * 512L);
      }
    } else {
      log.println("Merging image: " + childFile + " -> " + parentFile);
      try (DeltaFile dest = DeltaFile.open(parentFile, false);
          DeltaFile src = DeltaFile.open(childFile, true)) {
        mergeCarryingCbt(List.of(src), dest, childFile);
      }
    }
    List<ImageEntry> images = new ArrayList<>();
    for (ImageEntry e : d.images()) {
      if (e == parentImage) {
        continue;
      }
      // the child takes over the parent's file (or the new one), and with it the file's format
      // (Plain for a raw base)
      images.add(e == childImage ? new ImageEntry(e.guid(), parentImage.type(), takenOver) : e);
    }
    List<Shot> shots = new ArrayList<>();
    for (Shot s : d.shots()) {
      if (s == parent) {
        continue;
      }
      shots.add(s == child ? new Shot(s.guid(), parent.parentGuid(), s.temporary()) : s);
    }
    replaceDescriptor(d.withChain(images, shots, d.topGuid()), obsolete);
  }

  /** Merges every delta of the top chain into the base ({@code -A}). */
  public void mergeAll() throws IOException {
    disk.requireClean();
    DiskDescriptor d = disk.descriptor();
    List<ImageEntry> chain = d.topChain(disk.xml());
    if (chain.size() < 2) {
      log.println("Nothing to merge: the disk has a single image");
      return;
    }
    for (int i = 0; i < chain.size() - 1; i++) {
      int n = d.children(chain.get(i).guid()).size();
      if (n > 1) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Can't merge to snapshot " + chain.get(i).guid() + ": it has " + n + " children");
      }
    }
    ImageEntry base = chain.get(0);
    for (ImageEntry e : chain) {
      requireOwn(e);
    }
    disk.requireNotShared("merge", chain.stream().map(ImageEntry::guid).toList());
    Path baseFile = disk.fileOf(base);
    List<Path> sourceFiles = new ArrayList<>();
    List<DeltaFile> sources = new ArrayList<>();
    String baseName = base.file();
    try {
      for (int i = chain.size() - 1; i >= 1; i--) {
        Path p = disk.fileOf(chain.get(i));
        sourceFiles.add(p);
        if (newDelta == null) {
          log.println("Merging image: " + p + " -> " + baseFile);
          sources.add(DeltaFile.open(p, true));
        }
      }
      if (newDelta != null) {
        List<Path> all = new ArrayList<>(sourceFiles);
        all.add(baseFile);
        log.println(
            "Merging images: "
                + String.join(" ", all.stream().map(Path::toString).toList())
                + " -> (new) "
                + newDelta);
        mergeIntoNewFile(all, isRawBase(d, base));
        sourceFiles.add(baseFile);
        baseName = newDelta.getFileName().toString();
      } else if (isRawBase(d, base)) {
        new RawMerger(progress, hook)
            .merge(sources, baseFile, sources.get(0).header().sizeSectors() * 512L);
      } else {
        try (DeltaFile dest = DeltaFile.open(baseFile, false)) {
          mergeCarryingCbt(sources, dest, sourceFiles.get(0));
        }
      }
    } finally {
      for (DeltaFile s : sources) {
        s.close();
      }
    }
    List<ImageEntry> images = new ArrayList<>();
    List<Shot> shots = new ArrayList<>();
    for (ImageEntry e : d.images()) {
      if (chain.contains(e) && e != base) {
        continue;
      }
      images.add(e == base ? new ImageEntry(Guid.TOP_DELTA, e.type(), baseName) : e);
    }
    for (Shot s : d.shots()) {
      boolean inChain = chain.stream().anyMatch(e -> Guid.same(e.guid(), s.guid()));
      if (inChain && !Guid.same(s.guid(), base.guid())) {
        continue;
      }
      shots.add(Guid.same(s.guid(), base.guid()) ? new Shot(Guid.TOP_DELTA, Guid.NONE, null) : s);
    }
    replaceDescriptor(d.withChain(images, shots, Guid.TOP_DELTA), sourceFiles);
  }

  /**
   * Merges {@code sourcesTopFirst} into {@code dest} and then copies the CBT of the topmost source
   * into it, as ploop's offline merge does ({@code ploop_move_cbt(parent, child)}; an {@code -A}
   * merge is a chain of such pairs, so the top's CBT ends in the base). The parent's own CBT is
   * void after the merge (ploop's {@code clear_delta}); its clusters are trimmed off the end. A bad
   * CBT in the source is reported and not carried, as ploop's merge ignores that failure.
   */
  private void mergeCarryingCbt(List<DeltaFile> sourcesTopFirst, DeltaFile dest, Path topFile)
      throws IOException {
    DirtyBitmap cbt = CbtCarrier.read(sourcesTopFirst.get(0), log);
    boolean destHadExtension = dest.header().formatExtensionOffset() != 0;
    new DeltaMerger(progress, hook).merge(sourcesTopFirst, dest);
    if (destHadExtension) {
      CbtCarrier.trimTail(dest);
    }
    if (cbt != null) {
      log.println("Move CBT " + topFile + " -> " + dest.path());
      CbtCarrier.attach(dest, cbt);
      hook.reached("merge: CBT copied");
    }
  }

  /**
   * Builds {@link #newDelta} from {@code filesTopFirst} (the last one the bottom, raw when {@code
   * rawBottom}): under a temporary name, renamed into place once complete and durable.
   */
  private void mergeIntoNewFile(List<Path> filesTopFirst, boolean rawBottom) throws IOException {
    Path tmp = BareDeltaMerger.tempFor(newDelta);
    Files.deleteIfExists(tmp);
    List<DeltaFile> sources = new ArrayList<>();
    try {
      int n = rawBottom ? filesTopFirst.size() - 1 : filesTopFirst.size();
      for (int i = 0; i < n; i++) {
        sources.add(DeltaFile.open(filesTopFirst.get(i), true));
      }
      ImageHeader top = sources.get(0).header();
      if (rawBottom) {
        Files.copy(filesTopFirst.get(n), tmp);
        new RawMerger(progress, hook).merge(sources, tmp, top.sizeSectors() * 512L);
      } else {
        ImageGeometry g = ImageGeometry.forSize(top.sizeSectors(), (int) top.clusterSectors());
        ImageWriter.createEmpty(tmp, ImageHeader.create(top.version(), g));
        try (DeltaFile dest = DeltaFile.open(tmp, false)) {
          mergeCarryingCbt(sources, dest, filesTopFirst.get(0));
        }
      }
    } finally {
      for (DeltaFile s : sources) {
        s.close();
      }
    }
    Files.move(tmp, newDelta, StandardCopyOption.ATOMIC_MOVE);
    DescriptorTransaction.fsyncDirectory(newDelta);
    hook.reached("merge: new delta complete");
  }

  /** Refuses to change an image that belongs to a parent volume (ploop-volume's business). */
  private static void requireOwn(ImageEntry e) throws ImageOperationException {
    if (e.alien()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Image "
              + e.file()
              + " ("
              + e.guid()
              + ") belongs to a parent volume; use ploop-volume delete on that"
              + " volume instead");
    }
  }

  private void replaceDescriptor(DiskDescriptor next, List<Path> obsolete) throws IOException {
    DescriptorTransaction tx = new DescriptorTransaction(disk.xml());
    tx.stage(next);
    hook.reached("merge: descriptor staged");
    tx.commit();
    disk.update(next);
    hook.reached("merge: descriptor committed");
    for (Path p : obsolete) {
      Files.deleteIfExists(p);
    }
    DescriptorTransaction.fsyncDirectory(disk.xml());
    hook.reached("merge: merged files deleted");
  }

  private static boolean isRawBase(DiskDescriptor d, ImageEntry dest) {
    return d.raw() && dest == d.images().get(0);
  }
}
