package org.jploop.engine;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.jploop.io.BlockFile;

/**
 * Hands out physical clusters of the top delta ({@code ploop_allocate_cluster} after seed 000): the
 * lowest free bit of the {@link FreeClusterBitmap} ({@code holes_bitmap}), so discarded holes are
 * reused first and otherwise the first cluster past the used area is taken.
 *
 * <p>A cluster that starts below {@code file_preallocated_area_start} may hold stale data and is
 * punched (or, with {@code falloc_new_clu}, punched and re-allocated) before it is handed out. A
 * cluster that ends past {@code file_size} waits for the {@link Preallocator}. Then {@code
 * file_preallocated_area_start = max(itself, end of cluster)}.
 *
 * <p>{@link #batLock} ({@code bat_lock}) guards the bitmap and the preallocator's state. It is
 * never held during file I/O.
 */
final class ClusterAllocator {
  /** {@code bat_lock}. */
  private final ReentrantLock batLock;

  /** Guarded by batLock. */
  @GuardedBy("batLock")
  private final FreeClusterBitmap holes;

  private final Preallocator prealloc;
  private final BlockFile top;
  private final long clusterBytes;
  private final boolean falloc;
  private final AtomicLong allocated = new AtomicLong();
  private final AtomicLong holesReused = new AtomicLong();
  private final AtomicLong freed = new AtomicLong();

  ClusterAllocator(
      ReentrantLock batLock,
      FreeClusterBitmap holes,
      Preallocator prealloc,
      BlockFile top,
      long clusterBytes,
      boolean falloc) {
    this.batLock = batLock;
    this.holes = holes;
    this.prealloc = prealloc;
    this.top = top;
    this.clusterBytes = clusterBytes;
    this.falloc = falloc;
  }

  /**
   * Allocates a physical cluster that reads as zeros and lies inside the file. Returns its index.
   * On failure nothing stays allocated; ENOSPC is a {@link org.jploop.io.NoSpaceException}.
   */
  // prealloc was built with this same bat_lock, which Error Prone cannot see
  @SuppressWarnings("GuardedBy")
  long allocate() throws IOException {
    long dst;
    long pos;
    long end;
    long off;
    long preallocStart;
    batLock.lock();
    try {
      dst = holes.firstFree();
      if (dst < 0) {
        throw new IOException(top.path() + ": no free cluster left in the top delta");
      }
      holes.markUsed(dst);
      preallocStart = prealloc.areaStartLocked();
      pos = dst * clusterBytes;
      end = pos + clusterBytes;
      off = Math.min(prealloc.fileSizeLocked(), end);
      if (preallocStart + prealloc.preallocSize() / 2 > prealloc.fileSizeLocked()) {
        prealloc.requestLocked(true);
      }
    } finally {
      batLock.unlock();
    }
    boolean reused = pos < preallocStart;
    try {
      if (reused) {
        // The cluster may contain old data (a discarded hole or an orphan): zero it first.
        if (off > pos) {
          top.punchHole(pos, off - pos);
          if (falloc) {
            top.allocate(pos, off - pos);
          }
        }
      }
      batLock.lock();
      try {
        for (int retry = 0; end > prealloc.fileSizeLocked(); retry++) {
          if (retry == 3) {
            throw prealloc.failureLocked(pos, clusterBytes);
          }
          prealloc.requestLocked(false);
          prealloc.awaitNoPendingLocked();
          if (end > prealloc.fileSizeLocked() && prealloc.failureOrNullLocked() != null) {
            throw prealloc.failureLocked(pos, clusterBytes);
          }
        }
        prealloc.advanceAreaStartLocked(end);
      } finally {
        batLock.unlock();
      }
    } catch (IOException | RuntimeException e) {
      free(dst);
      throw e;
    }
    allocated.incrementAndGet();
    if (reused) {
      holesReused.incrementAndGet();
    }
    return dst;
  }

  /** Returns a cluster whose allocation failed straight to the free set. */
  void free(long cluster) {
    batLock.lock();
    try {
      holes.markFree(cluster);
    } finally {
      batLock.unlock();
    }
  }

  /** Releases clusters whose zeroed BAT entries are now durable ({@code holes_bitmap} bits set). */
  void release(Collection<Long> clusters) {
    batLock.lock();
    try {
      for (long c : clusters) {
        holes.markFree(c);
      }
    } finally {
      batLock.unlock();
    }
    freed.addAndGet(clusters.size());
  }

  /** Returns the end of the highest used cluster of the top file (header included). */
  long usedEnd() {
    batLock.lock();
    try {
      return (holes.highestUsed() + 1) * clusterBytes;
    } finally {
      batLock.unlock();
    }
  }

  /** Returns whether {@code cluster} is free (for tests). */
  boolean isFree(long cluster) {
    batLock.lock();
    try {
      return holes.isFree(cluster);
    } finally {
      batLock.unlock();
    }
  }

  long allocatedCount() {
    return allocated.get();
  }

  long holesReusedCount() {
    return holesReused.get();
  }

  long freedCount() {
    return freed.get();
  }
}
