package org.jploop.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.jploop.io.FileBlockFile;

/**
 * Copies the visible clusters of one or more ploop1 deltas into the raw ({@code Plain}) base below
 * them, in place: virtual cluster {@code c} lives at byte {@code c * clusterBytes} of a raw image,
 * so there is no BAT to update. The topmost source that maps a cluster wins.
 *
 * <p>Crash safety: every byte written is one the sources still shadow, and the raw file is only
 * grown sparsely (bytes past its end read as zeros before and after), so the chain through the
 * sources reads the same at every instant. The data is fsynced before the caller drops the sources
 * from the descriptor. A crash leaves the old chain; running the merge again redoes it.
 */
public final class RawMerger {
  /** Progress is reported every this many clusters. */
  private static final int PROGRESS_STEP = 256;

  private final StepHook hook;
  private final Progress progress;

  public RawMerger(Progress progress, StepHook hook) {
    this.progress = progress;
    this.hook = hook;
  }

  /**
   * Merges {@code sourcesTopFirst} into the raw image {@code raw}, whose disk is {@code diskBytes}
   * long (the raw file is grown to it if shorter).
   *
   * @throws ImageOperationException CORRUPT if the sources' cluster sizes differ
   */
  public void merge(List<DeltaFile> sourcesTopFirst, Path raw, long diskBytes) throws IOException {
    long clusterBytes = sourcesTopFirst.get(0).clusterBytes();
    long entries = 0;
    for (DeltaFile s : sourcesTopFirst) {
      if (s.clusterBytes() != clusterBytes) {
        throw new ImageOperationException(
            ImageOperationException.Kind.CORRUPT,
            "Wrong blocksize "
                + s.clusterSectors()
                + " in "
                + s.path()
                + " ("
                + sourcesTopFirst.get(0).path()
                + " has "
                + sourcesTopFirst.get(0).clusterSectors()
                + ")");
      }
      entries = Math.max(entries, s.batEntries());
    }
    long total = 0;
    for (long c = 0; c < entries; c++) {
      if (DeltaMerger.topSource(sourcesTopFirst, c) != null) {
        total++;
      }
    }
    progress.start(total);
    try (FileBlockFile f = FileBlockFile.open(raw, false)) {
      if (f.size() < diskBytes) {
        f.truncate(diskBytes);
        hook.reached("merge: raw base grown");
      }
      long pending = 0;
      for (long c = 0; c < entries; c++) {
        DeltaFile src = DeltaMerger.topSource(sourcesTopFirst, c);
        if (src == null) {
          continue;
        }
        long off = c * clusterBytes;
        ByteBuffer data = src.readCluster(src.physicalOf(c));
        if (off + data.remaining() > diskBytes) {
          data.limit((int) Math.max(0, diskBytes - off));
        }
        f.write(data, off);
        if (++pending == PROGRESS_STEP) {
          progress.advance(pending);
          pending = 0;
        }
      }
      progress.advance(pending);
      f.force();
      hook.reached("merge: raw data durable");
    }
    progress.finish();
  }
}
