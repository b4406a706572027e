package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.jploop.host.BalloonFile;
import org.jploop.host.HostCommand;
import org.jploop.host.TrimLadder;
import org.jploop.image.DeltaFile;
import org.jploop.io.FileExtents;
import org.jploop.io.FileUsage;

/**
 * {@code ploop-balloon discard} on a mounted disk (ploop_discard / vzctl compact): measures the
 * disk ({@link DiscardStat}), optionally defragments the filesystem first ({@code e4defrag} on the
 * partition, ext4 only, as ploop 9.x), then runs the {@link TrimLadder} on the mount point so the
 * filesystem's free extents are punched out of the image, stopping once {@code --to-free} bytes
 * have left the image; then compacts the image (the classic kernel's relocation and truncation,
 * done by the caller's {@link Compaction}, normally the mount daemon's online compact) and reports
 * what was freed. Holds the balloon's shared lock meanwhile, so a balloon change waits for it.
 * Stateless apart from the output sink.
 */
public final class BalloonDiscard {
  /**
   * What to do.
   *
   * @param toFreeBytes stop the ladder once this much has left the image (0: no limit)
   * @param minBlockBytes the smallest free extent worth trimming ({@code --min-block})
   * @param defrag run e4defrag first
   * @param defragOnly only defragment
   * @param defragThreshold skip the defrag while the top image has at most this many extents per
   *     mapped cluster ({@code --image-defrag-threshold}; 0: always defragment)
   */
  public record Options(
      long toFreeBytes,
      long minBlockBytes,
      boolean defrag,
      boolean defragOnly,
      int defragThreshold) {}

  /** Moves the image's tail clusters into its holes and truncates it; returns bytes cut off. */
  @FunctionalInterface
  public interface Compaction {
    long truncatedBytes() throws IOException;
  }

  /**
   * What the discard did.
   *
   * @param before the disk measured first
   * @param after the disk measured last
   * @param passes the FITRIM passes
   * @param truncatedBytes bytes the compaction cut off the image file
   */
  public record Result(
      DiscardStat before, DiscardStat after, List<TrimLadder.Pass> passes, long truncatedBytes) {
    /** Returns what left the image on the host. */
    public long freedBytes() {
      return Math.max(0, before.imageBytes() - after.imageBytes());
    }
  }

  private final Consumer<String> out;

  /** Reports on {@code out}, one line at a time. */
  public BalloonDiscard(Consumer<String> out) {
    this.out = out;
  }

  /** Runs the discard on {@code a} (its filesystem mounted). */
  public Result run(DiskAttachment a, Options o, Compaction compaction) throws IOException {
    long cluster = a.clusterBytes();
    Path top = a.topImage();
    try (BalloonFile lock = BalloonFile.open(a.mountPoint(), BalloonFile.Lock.SHARED)) {
      DiscardStat before = DiscardStat.measure(a);
      out.accept(before.compactLine());
      long toFree = o.toFreeBytes();
      if (o.defrag() || o.defragOnly()) {
        long grown = defrag(a, o.defragThreshold());
        if (toFree > 0) {
          toFree += grown; // [7]: what defrag added to the image is to be freed too
        }
        if (o.defragOnly()) {
          DiscardStat after = DiscardStat.measure(a);
          return new Result(before, after, List.of(), 0);
        }
      }
      long granularity = TrimLadder.discardGranularity(top, cluster);
      out.accept(
          "Trying to find free extents bigger than "
              + Math.max(cluster, o.minBlockBytes())
              + " bytes granularity="
              + granularity);
      long startBytes = FileUsage.bytesOnDisk(top);
      long target = toFree;
      List<TrimLadder.Pass> passes =
          new TrimLadder(out)
              .run(
                  a.mountPoint(),
                  cluster,
                  o.minBlockBytes(),
                  granularity,
                  () -> target > 0 && freedSince(top, startBytes) >= target);
      long truncated =
          startBytes - FileUsage.bytesOnDisk(top) > 0 ? compaction.truncatedBytes() : 0;
      if (truncated > 0) {
        out.accept(
            "TRUNCATED: " + truncated / cluster + " cluster-blocks (" + truncated + " bytes)");
      }
      DiscardStat after = DiscardStat.measure(a);
      out.accept(after.compactLine());
      Result r = new Result(before, after, passes, truncated);
      out.accept(
          "Discard freed "
              + (r.freedBytes() >> 20)
              + "MB of the image on the host: "
              + (before.imageBytes() >> 20)
              + "MB -> "
              + (after.imageBytes() >> 20)
              + "MB");
      return r;
    }
  }

  private static long freedSince(Path top, long startBytes) {
    try {
      return startBytes - FileUsage.bytesOnDisk(top);
    } catch (IOException e) {
      return 0;
    }
  }

  /** Runs e4defrag on the partition; returns how much the image grew meanwhile. */
  private long defrag(DiskAttachment a, int threshold) throws IOException {
    if (!org.jploop.host.InnerFilesystem.probe(a.fsDevice()).ext()) {
      out.accept("Defragmentation skipped: only ext4 is defragmented (xfs_fsr makes copies)");
      return 0;
    }
    Path top = a.topImage();
    if (threshold > 0) {
      long extents = FileExtents.of(top, 0, Long.MAX_VALUE).size();
      long mapped;
      try (DeltaFile d = DeltaFile.open(top, true)) {
        mapped = Math.max(1, d.mappedCount());
      }
      if (extents / mapped <= threshold) {
        out.accept(
            "Image defrag skipped: "
                + extents
                + " extents for "
                + mapped
                + " clusters, below threshold "
                + extents / mapped
                + " <= "
                + threshold);
        return 0;
      }
    }
    long before = FileUsage.bytesOnDisk(top);
    out.accept(
        "Start defrag dev="
            + a.fsDevice()
            + " mnt="
            + a.mountPoint()
            + " blocksize="
            + a.descriptor().blocksize());
    HostCommand c = HostCommand.run(6 * 3600, "e4defrag", a.fsDevice());
    if (!c.ok()) {
      out.accept("e4defrag exited with error: " + c.describeFailure());
    }
    return Math.max(0, FileUsage.bytesOnDisk(top) - before);
  }
}
