package org.jploop.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;

/**
 * Compaction of one delta (ploop's {@code balloon discard} relocation / defrag idea, §13): data
 * clusters from the end of the file move into the lowest unreferenced clusters, then the file is
 * cut after the last used cluster, so both its length and its allocated blocks shrink.
 *
 * <p>Crash safety: a hole is unreferenced, so writing into it changes nothing visible; the moved
 * clusters are fsynced before their BAT entries are written and fsynced; a source cluster is only
 * cut off by the truncation after no durable entry points at it. The delta carries the in-use flag
 * meanwhile. Works on an open {@link DeltaFile}, so the mount daemon can run it under its own write
 * lock.
 */
public final class Compactor {
  /** Clusters moved between two BAT commits. */
  private static final int BATCH = 256;

  private final Progress progress;
  private final StepHook hook;

  public Compactor(Progress progress, StepHook hook) {
    this.progress = progress;
    this.hook = hook;
  }

  /**
   * What a compaction did.
   *
   * @param movedClusters clusters relocated
   * @param sizeBefore file length before, in bytes
   * @param sizeAfter file length after, in bytes
   */
  public record Result(long movedClusters, long sizeBefore, long sizeAfter) {}

  /** Compacts {@code delta} and leaves it marked clean. */
  public Result compact(DeltaFile delta) throws IOException {
    long before = delta.file().size();
    long cb = delta.clusterBytes();
    BitSet used = delta.usedClusters();
    long hc = delta.headerClusters();
    long mapped = used.cardinality();
    long end = hc + mapped;
    long[] owner = owners(delta, used.length());
    long toMove = 0;
    for (int p = used.nextSetBit((int) end); p >= 0; p = used.nextSetBit(p + 1)) {
      toMove++;
    }
    if (toMove == 0 && before == end * cb) {
      return new Result(0, before, before);
    }
    delta.markInUse();
    hook.reached("compact: delta marked in use");
    progress.start(toMove);
    long moved = 0;
    int pending = 0;
    int hole = used.nextClearBit((int) hc);
    for (int src = used.length() - 1; src >= end; src--) {
      if (!used.get(src)) {
        continue;
      }
      ByteBuffer data = delta.readCluster(src);
      delta.writeCluster(hole, data);
      delta.map(owner[src], hole);
      used.set(hole);
      hole = used.nextClearBit(hole + 1);
      moved++;
      if (++pending == BATCH) {
        commit(delta, pending);
        pending = 0;
      }
    }
    if (pending > 0) {
      commit(delta, pending);
    }
    progress.finish();
    delta.file().truncate(end * cb);
    delta.force();
    hook.reached("compact: file truncated");
    delta.markClean();
    hook.reached("compact: delta marked clean");
    return new Result(moved, before, end * cb);
  }

  private void commit(DeltaFile delta, int clusters) throws IOException {
    delta.force();
    hook.reached("compact: moved data durable");
    delta.writeDirtyBatPages();
    delta.force();
    hook.reached("compact: BAT durable");
    progress.advance(clusters);
  }

  private static long[] owners(DeltaFile delta, int physicalEnd) {
    long[] owner = new long[physicalEnd];
    for (long c = 0; c < delta.batEntries(); c++) {
      long p = delta.physicalOf(c);
      if (p != 0) {
        owner[(int) p] = c;
      }
    }
    return owner;
  }
}
