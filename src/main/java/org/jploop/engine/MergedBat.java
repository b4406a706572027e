package org.jploop.engine;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jploop.format.BatLayout;

/**
 * The merged in-memory BAT of a disk, the kernel's md page tree with {@code bat_levels}: one {@link
 * MdPage} per 4 KiB page of the top's BAT, each slot holding the physical cluster and the level of
 * the delta that owns the virtual cluster. Lookups read it; changes go through {@link #stage}, the
 * kernel's {@code ploop_prepare_bat_update} plus the piwb commit, which makes the new entry visible
 * at once and queues the page for {@link MdWriteback}.
 *
 * <p>Entries are packed as {@code level << 32 | physical}. The page monitors guard the entries
 * ({@code md_lock}); a stager must hold the cluster's exclusive lock in {@link ClusterLocks}.
 */
final class MergedBat {
  private final MdPage[] pages;
  private final ClusterLocks locks;
  private final MdWriteback writeback;
  private final int topLevel;
  private final LongSupplier clock;
  private final long delayNanos;
  private final long maxDelayNanos;

  /**
   * Creates {@code pageCount} empty pages; a page that turns dirty is queued on {@code writeback}.
   */
  MergedBat(
      int pageCount,
      ClusterLocks locks,
      MdWriteback writeback,
      int topLevel,
      EngineOptions options) {
    this.locks = locks;
    this.writeback = writeback;
    this.topLevel = topLevel;
    this.clock = options.nanoClock();
    this.delayNanos = TimeUnit.MILLISECONDS.toNanos(options.mdSubmitDelayMs());
    this.maxDelayNanos = TimeUnit.MILLISECONDS.toNanos(options.mdMaxDelayMs());
    pages = new MdPage[pageCount];
    for (int i = 0; i < pageCount; i++) {
      MdPage[] self = {null};
      MdPage page = new MdPage(i, () -> writeback.enqueue(self[0]));
      self[0] = page;
      pages[i] = page;
    }
  }

  /** Returns the physical cluster of a packed entry (0 = unmapped). */
  static long physOf(long entry) {
    return entry & 0xFFFFFFFFL;
  }

  /** Returns the owner level of a packed entry. */
  static int levelOf(long entry) {
    return (int) (entry >>> 32);
  }

  /** Returns {@code level << 32 | physical} of a virtual cluster. */
  long lookup(long cluster) {
    return pages[BatLayout.pageOf(cluster)].lookup(BatLayout.slotOf(cluster));
  }

  /**
   * While loading the deltas: maps {@code cluster} to {@code physical} of {@code level} unless a
   * higher delta mapped it already. Not for use once I/O runs.
   */
  void loadIfUnmapped(long cluster, long physical, int level) {
    MdPage page = pages[BatLayout.pageOf(cluster)];
    int slot = BatLayout.slotOf(cluster);
    if (page.physical(slot) == 0) {
      page.load(slot, physical, level);
    }
  }

  /** Returns md page {@code id}. */
  MdPage page(int id) {
    return pages[id];
  }

  /**
   * Stages {@code c -> q} (top level) into its md page; if {@code freed >= 0}, {@code c} is
   * unmapped instead and {@code freed} is released after the page is durable (HIGHPRIO).
   */
  void stage(long c, long q, long freed) throws IOException {
    assert locks.of(c).isWriteLockedByCurrentThread();
    MdPage page = pages[BatLayout.pageOf(c)];
    MdPage.Update u = page.beginUpdate();
    try {
      if (freed >= 0) {
        u.set(BatLayout.slotOf(c), 0, 0);
        u.freeAfterWriteback(freed);
      } else {
        u.set(BatLayout.slotOf(c), q, topLevel);
      }
      u.commit(clock.getAsLong(), delayNanos, maxDelayNanos);
    } catch (RuntimeException ex) {
      u.abort();
      throw ex;
    }
    // A page holding freed clusters is raised to HIGHPRIO by the discard once the whole request is
    // staged, so a large punch (fstrim sends up to 128 MiB) costs one write per page, not one per
    // cluster.
    if (freed < 0 && delayNanos == 0) {
      writeback.wake();
    }
  }

  /**
   * Raises the dirty md pages covering clusters {@code first..last} to HIGHPRIO and wakes the
   * writeback: freed clusters become reusable only once their zeroed entries are durable, so the
   * pages are written at once rather than after the delay (the kernel's discard does the same).
   */
  void raisePriority(long first, long last) {
    boolean raised = false;
    for (int p = BatLayout.pageOf(first); p <= BatLayout.pageOf(last); p++) {
      raised |= pages[p].raisePriority();
    }
    if (raised) {
      writeback.wake();
    }
  }
}
