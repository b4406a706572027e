package org.jploop.engine;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The per-cluster locks, the kernel's {@code inflight_pios} / {@code exclusive_pios}: a fixed set
 * of striped {@link ReentrantReadWriteLock}s, one chosen per virtual cluster by a multiplicative
 * hash. The read side is held by reads and in-place writes of the cluster, the write side by
 * allocation, COW and discard, which re-check the mapping once they hold it. Two clusters may share
 * a stripe; that only serialises them, it never lets two exclusive holders in.
 */
final class ClusterLocks {
  /** Number of stripes (a power of two). */
  static final int STRIPES = 256;

  private final ReentrantReadWriteLock[] stripes = new ReentrantReadWriteLock[STRIPES];

  ClusterLocks() {
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new ReentrantReadWriteLock();
    }
  }

  /** Returns the lock of virtual cluster {@code cluster}. */
  ReentrantReadWriteLock of(long cluster) {
    return stripes[(int) ((cluster * 0x9E3779B97F4A7C15L) >>> 56) & (STRIPES - 1)];
  }
}
