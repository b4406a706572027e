package org.jploop.image;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.io.DiskLock;
import org.jploop.io.ImageWriter;

/**
 * {@code ploop merge [-f raw] [-n NEW_DELTA] DELTA... BASE}: the offline merge of delta files given
 * by path, no descriptor involved (ploop 1.15 merge_image without a device). The deltas are listed
 * top first: for every virtual cluster the first delta that maps it wins, then the next, then BASE.
 * They are merged into BASE (grown to the top delta's size first) or, with {@code -n}, into
 * NEW_DELTA, created like the top delta (size, cluster size, version) and filled from all of them,
 * BASE included; BASE is then left alone. The merged deltas are never deleted (ploop does not
 * either: no descriptor says they are obsolete). With {@code -f raw} BASE is a raw image.
 *
 * <p>Crash safety is {@link DeltaMerger}'s and {@link RawMerger}'s: every durable state reads the
 * same through the unchanged sources. A NEW_DELTA left by a crash is incomplete and must be
 * deleted; it is created under a temporary name and renamed into place only when complete.
 */
public final class BareDeltaMerger {
  private final Progress progress;
  private final PrintWriter log;
  private final StepHook hook;

  public BareDeltaMerger(Progress progress, PrintWriter log, StepHook hook) {
    this.progress = progress;
    this.log = log;
    this.hook = hook;
  }

  /**
   * Merges {@code deltasTopFirst} into {@code base}, or into the new file {@code newDelta} if not
   * null.
   *
   * @param raw whether {@code base} is a raw image
   */
  public void merge(List<Path> deltasTopFirst, Path base, Path newDelta, boolean raw)
      throws IOException {
    if (newDelta != null && Files.exists(newDelta, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Can't merge to new image " + newDelta + ": File exists");
    }
    List<Path> all = new ArrayList<>(deltasTopFirst);
    all.add(base);
    if (newDelta != null) {
      all.add(newDelta);
    }
    List<DiskLock> locks = BareDelta.lockDisks(all, "merge");
    List<DeltaFile> sources = new ArrayList<>();
    try {
      for (Path p : deltasTopFirst) {
        log.println("Opening delta " + p);
        sources.add(BareDelta.open(p, true));
      }
      if (raw) {
        BareDelta.requireFile(base);
        mergeRaw(sources, base, newDelta);
      } else if (newDelta == null) {
        log.println("Opening delta " + base);
        try (DeltaFile dest = BareDelta.open(base, false)) {
          new DeltaMerger(progress, hook).merge(sources, dest);
        }
      } else {
        log.println("Opening delta " + base);
        sources.add(BareDelta.open(base, true));
        mergeIntoNew(sources, newDelta);
      }
    } finally {
      for (DeltaFile s : sources) {
        s.close();
      }
      BareDelta.unlock(locks);
    }
  }

  private void mergeRaw(List<DeltaFile> sources, Path base, Path newDelta) throws IOException {
    long bytes = sources.get(0).header().sizeSectors() * ImageGeometry.SECTOR;
    if (newDelta == null) {
      new RawMerger(progress, hook).merge(sources, base, bytes);
      return;
    }
    Path tmp = tempFor(newDelta);
    Files.copy(base, tmp, StandardCopyOption.REPLACE_EXISTING);
    new RawMerger(progress, hook).merge(sources, tmp, bytes);
    commit(tmp, newDelta);
  }

  private void mergeIntoNew(List<DeltaFile> sources, Path newDelta) throws IOException {
    ImageHeader top = sources.get(0).header();
    ImageGeometry g = ImageGeometry.forSize(top.sizeSectors(), (int) top.clusterSectors());
    Path tmp = tempFor(newDelta);
    Files.deleteIfExists(tmp);
    log.println(
        "Creating delta "
            + newDelta
            + " bs="
            + g.clusterSectors()
            + " size="
            + g.sizeSectors()
            + " sectors v"
            + top.version().number());
    ImageWriter.createEmpty(tmp, ImageHeader.create(top.version(), g));
    try (DeltaFile dest = DeltaFile.open(tmp, false)) {
      new DeltaMerger(progress, hook).merge(sources, dest);
    }
    commit(tmp, newDelta);
  }

  /** The name NEW_DELTA is built under until it is complete. */
  static Path tempFor(Path newDelta) {
    return newDelta.resolveSibling(newDelta.getFileName() + ".merge-tmp");
  }

  private void commit(Path tmp, Path newDelta) throws IOException {
    Files.move(tmp, newDelta, StandardCopyOption.ATOMIC_MOVE);
    DescriptorTransaction.fsyncDirectory(newDelta);
    hook.reached("merge: new delta renamed into place");
  }
}
