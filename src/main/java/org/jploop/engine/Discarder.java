package org.jploop.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.Lock;

/**
 * Punch and zero-range of one cluster-bounded piece, the kernel's {@code ploop_handle_discard_pio},
 * under the cluster's exclusive lock. Unmapped: nothing to do. Owned by the top: a partial piece
 * punches its byte range; a whole cluster is punched and, on a single delta, unmapped with the
 * freed cluster released once the zeroed entry is durable (the page is raised to HIGHPRIO by {@link
 * MergedBat#raisePriority} when the request ends); with lower deltas the mapping stays, since an
 * unmapped cluster would read the lower data. Owned by a lower delta: a whole cluster maps to a
 * fresh top cluster (which reads zeros), a partial one is copied up with the range zeroed.
 *
 * <p>Stateless; the locking is the cluster locks'.
 */
final class Discarder {
  private final DeltaStack stack;
  private final ClusterLocks locks;
  private final MergedBat bat;
  private final ClusterAllocator allocator;
  private final CopyOnWrite cow;
  private final EnospcParking parking;

  Discarder(
      DeltaStack stack,
      ClusterLocks locks,
      MergedBat bat,
      ClusterAllocator allocator,
      CopyOnWrite cow,
      EnospcParking parking) {
    this.stack = stack;
    this.locks = locks;
    this.bat = bat;
    this.allocator = allocator;
    this.cow = cow;
    this.parking = parking;
  }

  /** Discards {@code len} bytes at {@code inOff} of virtual cluster {@code c}. */
  void discard(long c, int inOff, int len) throws IOException {
    long clusterBytes = stack.clusterBytes();
    long clusterEnd = Math.min(clusterBytes, stack.size() - c * clusterBytes);
    boolean whole = inOff == 0 && len >= clusterEnd;
    Lock excl = locks.of(c).writeLock();
    excl.lock();
    try {
      long e = bat.lookup(c);
      long p = MergedBat.physOf(e);
      if (p == 0) {
        return;
      }
      if (MergedBat.levelOf(e) == stack.topLevel()) {
        if (!whole) {
          stack.top().file().punchHole(p * clusterBytes + inOff, len);
          return;
        }
        stack.top().file().punchHole(p * clusterBytes, clusterBytes);
        if (stack.count() == 1) {
          bat.stage(c, 0, p);
        }
        // With lower deltas the mapping stays: the punched cluster reads zeros, not lower data.
        parking.wake();
      } else if (whole) {
        long q = allocator.allocate(); // reads zeros: fresh, or punched before reuse
        try {
          bat.stage(c, q, -1);
        } catch (IOException | RuntimeException ex) {
          allocator.free(q);
          throw ex;
        }
      } else {
        ByteBuffer w = cow.readLower(e);
        Zeros.fill(w, inOff, len);
        cow.copyUp(c, w);
      }
    } finally {
      excl.unlock();
    }
  }
}
