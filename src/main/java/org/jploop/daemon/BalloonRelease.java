package org.jploop.daemon;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.jploop.host.ClusterPuncher;
import org.jploop.image.DeltaFile;
import org.jploop.io.FileExtents;

/**
 * jploop's replacement for the classic kernel's balloon relocation (ploop-verbs-2.md §1.6, §1.9):
 * the balloon's unwritten extents are device ranges of partition 1 whose content is dead (they read
 * as zeros through the filesystem and nothing else may use them while the balloon holds them), so
 * the whole disk clusters inside them can leave the image. {@link #clusters} turns the extents into
 * disk cluster ranges (partition start added, shrunk inward to whole clusters), {@link
 * #countMapped} says how many of them the top delta still maps ({@code ploop-balloon check}),
 * {@link #punch} releases them through {@code disk.img} (in the {@code ploop} process, never in the
 * daemon that serves it). Compacting the image afterwards (the kernel's truncation) is the caller's
 * step, normally the daemon's ({@link #releaseOnline}). Immutable.
 *
 * @param disk the mounted disk
 */
public record BalloonRelease(DiskAttachment disk) {

  /**
   * A range of disk clusters.
   *
   * @param first the first cluster
   * @param end the cluster after the last
   */
  public record Clusters(long first, long end) {
    /** Returns how many clusters the range holds. */
    public long count() {
      return end - first;
    }
  }

  /** Returns the whole disk clusters inside {@code extents} (device offsets of partition 1). */
  public List<Clusters> clusters(List<FileExtents.Extent> extents) throws IOException {
    long base = disk.partitionStartBytes();
    long cb = disk.clusterBytes();
    List<Clusters> out = new ArrayList<>();
    for (FileExtents.Extent e : extents) {
      long start = base + e.physical();
      long first = (start + cb - 1) / cb;
      long end = (start + e.length()) / cb;
      if (end > first) {
        out.add(new Clusters(first, end));
      }
    }
    return out;
  }

  /** Returns the total of clusters in {@code ranges}. */
  public static long total(List<Clusters> ranges) {
    return ranges.stream().mapToLong(Clusters::count).sum();
  }

  /**
   * Returns how many clusters of {@code ranges} the top delta maps, as its BAT on disk says (the
   * mount daemon writes BAT pages back within its writeback delay). A raw top maps everything.
   */
  public long countMapped(List<Clusters> ranges) throws IOException {
    if (disk.descriptor().raw() && disk.descriptor().images().size() == 1) {
      return total(ranges);
    }
    long n = 0;
    try (DeltaFile top = DeltaFile.open(disk.topImage(), true)) {
      for (Clusters r : ranges) {
        for (long c = r.first(); c < r.end() && c < top.batEntries(); c++) {
          if (top.physicalOf(c) != 0) {
            n++;
          }
        }
      }
    }
    return n;
  }

  /** Reads a counter of the engine: clusters freed so far. */
  @FunctionalInterface
  public interface FreedCounter {
    long clustersFreed() throws IOException;
  }

  /**
   * Releases the clusters under new balloon extents as ploop's relocation would: punches {@code
   * ranges}, tells how many clusters the engine freed ("No unused cluster blocks found" when none),
   * then compacts the image and prints ploop's {@code TRUNCATED} line. Returns the bytes the image
   * file lost.
   */
  public long releaseAndCompact(
      List<Clusters> ranges,
      FreedCounter counter,
      BalloonDiscard.Compaction compaction,
      java.util.function.Consumer<String> out)
      throws IOException {
    long before = counter.clustersFreed();
    punch(ranges);
    long freed = counter.clustersFreed() - before;
    if (freed == 0) {
      out.accept("No unused cluster blocks found");
      return 0;
    }
    out.accept("Released " + freed + " cluster-blocks under the balloon from the image");
    long cut = compaction.truncatedBytes();
    if (cut > 0) {
      out.accept("TRUNCATED: " + cut / disk.clusterBytes() + " cluster-blocks (" + cut + " bytes)");
    }
    return cut;
  }

  /**
   * {@link #releaseAndCompact} from the {@code ploop} process: the freed-cluster counter and the
   * compaction are asked of the disk's mount daemon ({@link OnlineCompaction}).
   */
  public long releaseOnline(List<Clusters> ranges, java.util.function.Consumer<String> out)
      throws IOException {
    OnlineCompaction daemon = OnlineCompaction.of(disk);
    return releaseAndCompact(ranges, daemon, daemon, out);
  }

  /** Punches every cluster of {@code ranges} through disk.img; returns how many were asked. */
  public long punch(List<Clusters> ranges) throws IOException {
    long cb = disk.clusterBytes();
    try (ClusterPuncher p = new ClusterPuncher(disk.diskImage(), cb)) {
      for (Clusters r : ranges) {
        p.punchInside(r.first() * cb, r.end() * cb);
      }
      return p.punched();
    }
  }
}
