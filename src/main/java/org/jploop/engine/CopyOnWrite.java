package org.jploop.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Copy-on-write of a cluster owned by a lower delta, the kernel's {@code ploop_cow} path: the whole
 * cluster is read from the delta that owns it, the caller overlays its change, and the result is
 * written to a newly allocated top cluster that is then staged as the mapping. The caller holds the
 * cluster's exclusive lock throughout, so nobody sees the cluster half copied.
 *
 * <p>Stateless apart from an atomic counter.
 */
final class CopyOnWrite {
  private final DeltaStack stack;
  private final ClusterLocks locks;
  private final MergedBat bat;
  private final ClusterAllocator allocator;
  private final AtomicLong copies = new AtomicLong();

  CopyOnWrite(DeltaStack stack, ClusterLocks locks, MergedBat bat, ClusterAllocator allocator) {
    this.stack = stack;
    this.locks = locks;
    this.bat = bat;
    this.allocator = allocator;
  }

  /** Reads the whole cluster named by {@code entry} from its lower delta. */
  ByteBuffer readLower(long entry) throws IOException {
    return stack.readCluster(entry);
  }

  /** Writes {@code whole} to a new top cluster and maps virtual cluster {@code c} to it. */
  void copyUp(long c, ByteBuffer whole) throws IOException {
    assert locks.of(c).isWriteLockedByCurrentThread();
    long q = allocator.allocate();
    try {
      stack.top().file().write(whole.duplicate(), q * stack.clusterBytes());
      bat.stage(c, q, -1);
    } catch (IOException | RuntimeException ex) {
      allocator.free(q);
      throw ex;
    }
    copies.incrementAndGet();
  }

  /** Returns the clusters copied up since open. */
  long copies() {
    return copies.get();
  }
}
