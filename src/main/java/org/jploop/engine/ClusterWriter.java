package org.jploop.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.Lock;

/**
 * The write path of one cluster-bounded piece, the kernel's {@code ploop_process_one_deferred_bio}
 * for writes: a cluster the top owns is written in place under the shared cluster lock; otherwise,
 * under the exclusive lock and after re-checking the mapping, an unmapped cluster gets a new top
 * cluster ({@link ClusterAllocator}, {@code ploop_locate_new_cluster_and_attach_pio}) unless the
 * piece is all zeros, and a cluster of a lower delta is copied up ({@link CopyOnWrite}). A new
 * mapping is staged into the {@link MergedBat} only after the data is written.
 *
 * <p>Stateless; the locking is the cluster locks'.
 */
final class ClusterWriter {
  private final DeltaStack stack;
  private final ClusterLocks locks;
  private final MergedBat bat;
  private final ClusterAllocator allocator;
  private final CopyOnWrite cow;

  ClusterWriter(
      DeltaStack stack,
      ClusterLocks locks,
      MergedBat bat,
      ClusterAllocator allocator,
      CopyOnWrite cow) {
    this.stack = stack;
    this.locks = locks;
    this.bat = bat;
    this.allocator = allocator;
    this.cow = cow;
  }

  /** Writes {@code piece} at {@code inOff} of virtual cluster {@code c}. */
  void write(long c, int inOff, ByteBuffer piece) throws IOException {
    long clusterBytes = stack.clusterBytes();
    int topLevel = stack.topLevel();
    Lock shared = locks.of(c).readLock();
    shared.lock();
    try {
      long e = bat.lookup(c);
      if (MergedBat.physOf(e) != 0 && MergedBat.levelOf(e) == topLevel) {
        stack.top().file().write(piece.duplicate(), MergedBat.physOf(e) * clusterBytes + inOff);
        return;
      }
    } finally {
      shared.unlock();
    }
    Lock excl = locks.of(c).writeLock();
    excl.lock();
    try {
      long e = bat.lookup(c);
      long p = MergedBat.physOf(e);
      if (p != 0 && MergedBat.levelOf(e) == topLevel) {
        stack.top().file().write(piece.duplicate(), p * clusterBytes + inOff);
      } else if (p == 0) {
        if (Zeros.isAllZero(piece)) {
          return; // nothing to allocate: the cluster reads zeros already
        }
        long q = allocator.allocate();
        try {
          stack.top().file().write(piece.duplicate(), q * clusterBytes + inOff);
          bat.stage(c, q, -1);
        } catch (IOException | RuntimeException ex) {
          allocator.free(q);
          throw ex;
        }
      } else {
        ByteBuffer whole = cow.readLower(e);
        whole.put(inOff, piece.duplicate(), piece.position(), piece.remaining());
        cow.copyUp(c, whole);
      }
    } finally {
      excl.unlock();
    }
  }
}
