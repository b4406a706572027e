package org.jploop.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.List;
import org.jploop.format.BatLayout;

/**
 * Copies the visible clusters of one or more upper deltas into a lower one (ploop's {@code
 * merge_image}, §11): for every virtual cluster the topmost source that maps it wins; the
 * destination overwrites its own copy in place, or else takes its lowest hole, or else appends.
 *
 * <p>Crash safety: the destination carries the in-use flag for the whole run. For each md page of
 * the BAT, the page's data clusters are written and fsynced before the page itself is written and
 * fsynced, so every durable entry points at durable data. In-place overwrites only change clusters
 * the sources still shadow, so the chain through the sources reads the same at every instant.
 */
public final class DeltaMerger {
  private final StepHook hook;
  private final Progress progress;

  public DeltaMerger(Progress progress, StepHook hook) {
    this.progress = progress;
    this.hook = hook;
  }

  /**
   * Merges {@code sourcesTopFirst} into {@code dest} and marks it clean.
   *
   * @throws ImageOperationException CORRUPT if cluster size or version differ
   */
  public void merge(List<DeltaFile> sourcesTopFirst, DeltaFile dest) throws IOException {
    long entries = dest.batEntries();
    for (DeltaFile s : sourcesTopFirst) {
      if (s.clusterSectors() != dest.clusterSectors()) {
        throw new ImageOperationException(
            ImageOperationException.Kind.CORRUPT,
            "Wrong blocksize "
                + s.clusterSectors()
                + " in "
                + s.path()
                + " ("
                + dest.path()
                + " has "
                + dest.clusterSectors()
                + ")");
      }
      if (s.version() != dest.version()) {
        throw new ImageOperationException(
            ImageOperationException.Kind.CORRUPT,
            "Wrong version "
                + s.version().number()
                + " in "
                + s.path()
                + " ("
                + dest.path()
                + " has "
                + dest.version().number()
                + ")");
      }
      entries = Math.max(entries, s.batEntries());
    }
    DeltaGrower.validate(dest, Math.max(entries, dest.batEntries()) * dest.clusterSectors());
    dest.markInUse();
    hook.reached("merge: destination marked in use");
    if (entries > dest.batEntries()) {
      new DeltaGrower(hook).growInUse(dest, entries * dest.clusterSectors());
    }
    BitSet used = dest.usedClusters();
    long fileClusters = dest.fileClusters();
    long nextHole = dest.headerClusters();
    long allocHead = Math.max(fileClusters, dest.usedEnd());
    long total = 0;
    for (long c = 0; c < entries; c++) {
      if (topSource(sourcesTopFirst, c) != null) {
        total++;
      }
    }
    progress.start(total);
    int page = -1;
    long pending = 0;
    for (long c = 0; c < entries; c++) {
      DeltaFile src = topSource(sourcesTopFirst, c);
      if (src == null) {
        continue;
      }
      if (BatLayout.pageOf(c) != page && pending > 0) {
        commitBatch(dest, pending);
        pending = 0;
      }
      page = BatLayout.pageOf(c);
      ByteBuffer data = src.readCluster(src.physicalOf(c));
      long target = dest.physicalOf(c);
      if (target == 0) {
        nextHole = used.nextClearBit((int) nextHole);
        if (nextHole < fileClusters) {
          target = nextHole;
        } else {
          target = allocHead++;
        }
        used.set((int) target);
        dest.writeCluster(target, data);
        dest.map(c, target);
      } else {
        dest.writeCluster(target, data);
      }
      pending++;
    }
    if (pending > 0) {
      commitBatch(dest, pending);
    }
    progress.finish();
    dest.markClean();
    hook.reached("merge: destination marked clean");
  }

  private void commitBatch(DeltaFile dest, long clusters) throws IOException {
    dest.force();
    hook.reached("merge: data clusters durable");
    dest.writeDirtyBatPages();
    dest.force();
    hook.reached("merge: BAT page durable");
    progress.advance(clusters);
  }

  /** Returns the topmost of {@code sourcesTopFirst} that maps {@code clu}, or null. */
  static DeltaFile topSource(List<DeltaFile> sourcesTopFirst, long clu) {
    for (DeltaFile s : sourcesTopFirst) {
      if (s.physicalOf(clu) != 0) {
        return s;
      }
    }
    return null;
  }
}
