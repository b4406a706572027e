package org.jploop.engine;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.BatLayout;

/**
 * One 4 KiB page of the merged in-memory BAT, the kernel's {@code md_page}: for each of its 1024
 * slots the physical cluster (0 = none) and the level of the delta that owns it ({@code
 * bat_levels}), plus the page's writeback state.
 *
 * <p>Page {@code p} holds virtual clusters {@code [1024p - 16, 1024p + 1008)}; slots 0..15 of page
 * 0 are the header and unused here.
 *
 * <p>Status bits (seed 003), all guarded by this object's monitor, which plays {@code md_lock}:
 *
 * <ul>
 *   <li>{@link #DIRTY} ({@code MD_DIRTY}): holds changes not yet written.
 *   <li>{@link #WRITEBACK} ({@code MD_WRITEBACK}): a snapshot is being written; nobody may stage.
 *   <li>{@link #UPDATING} ({@code MD_UPDATING}): a stager is changing entries; writeback skips the
 *       page (it is retried on the next cycle) and other stagers wait.
 *   <li>{@link #HIGHPRIO} ({@code MD_HIGHPRIO}): write at the next cycle, ignoring the delay.
 * </ul>
 *
 * <p>A stager calls {@link #beginUpdate()}, which waits while the page is WRITEBACK or UPDATING,
 * then changes entries through the returned {@link Update} and ends with {@link Update#commit} or
 * {@link Update#abort} ({@code break_bat_update}). Waiters sleep on the monitor and every state
 * change that may let them in calls {@code notifyAll}, so no wake-up is lost. Everything in this
 * class is guarded by the monitor.
 */
final class MdPage {
  /** {@code MD_DIRTY}. */
  static final int DIRTY = 1 << 1;

  /** {@code MD_WRITEBACK}. */
  static final int WRITEBACK = 1 << 2;

  /** {@code MD_HIGHPRIO}. */
  static final int HIGHPRIO = 1 << 3;

  /** {@code MD_UPDATING}. */
  static final int UPDATING = 1 << 4;

  /** Page number: the page covers file bytes {@code [4096 id, 4096 id + 4096)} of the top delta. */
  final int id;

  /** Physical cluster per slot, as an unsigned int; 0 = not mapped in any delta. */
  private final int[] phys = new int[BatLayout.ENTRIES_PER_PAGE];

  /** Owner level per slot ({@code bat_levels}); meaningless where {@code phys} is 0. */
  private final byte[] levels = new byte[BatLayout.ENTRIES_PER_PAGE];

  @GuardedBy("this")
  private int status;

  /** Clock value when the page last went from clean to dirty. */
  @GuardedBy("this")
  private long dirtySince;

  /** Clock value after which the page is due for writeback. */
  private long deadline;

  /** Physical top clusters freed by committed updates; released once this page is durable. */
  private List<Long> pendingFrees = new ArrayList<>();

  /** Called inside the monitor when the page goes from clean to dirty (enqueue for writeback). */
  private final Runnable onFirstDirty;

  MdPage(int id, Runnable onFirstDirty) {
    this.id = id;
    this.onFirstDirty = onFirstDirty;
  }

  /** Sets a slot while loading the deltas; not for use once I/O runs. */
  synchronized void load(int slot, long physical, int level) {
    phys[slot] = (int) physical;
    levels[slot] = (byte) level;
  }

  /** Returns the physical cluster of {@code slot}, 0 if unmapped. */
  synchronized long physical(int slot) {
    return Integer.toUnsignedLong(phys[slot]);
  }

  /** Returns the owner level of {@code slot}. */
  synchronized int level(int slot) {
    return levels[slot] & 0xFF;
  }

  /** Returns physical cluster and level in one read: {@code level << 32 | physical}. */
  synchronized long lookup(int slot) {
    return ((long) (levels[slot] & 0xFF) << 32) | Integer.toUnsignedLong(phys[slot]);
  }

  /** Returns the status bits. */
  synchronized int status() {
    return status;
  }

  /** Returns the writeback deadline (meaningful while DIRTY). */
  synchronized long deadline() {
    return deadline;
  }

  /** Returns whether {@code bit} is set. */
  synchronized boolean test(int bit) {
    return (status & bit) != 0;
  }

  /**
   * Marks a DIRTY page HIGHPRIO so the next writeback cycle writes it regardless of its deadline
   * (ploop_md_up_prio); a page that is not dirty is left alone. Returns whether it was raised.
   */
  synchronized boolean raisePriority() {
    if ((status & DIRTY) == 0) {
      return false;
    }
    status |= HIGHPRIO;
    return true;
  }

  /**
   * Starts a staging: waits while WRITEBACK or UPDATING, then sets UPDATING and, if the page was
   * clean, DIRTY (remembered, so that {@link Update#abort} clears only a DIRTY it set itself).
   */
  synchronized Update beginUpdate() throws InterruptedIOException {
    while ((status & (WRITEBACK | UPDATING)) != 0) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for md page " + id);
      }
    }
    status |= UPDATING;
    boolean mine = (status & DIRTY) == 0;
    status |= DIRTY;
    return new Update(mine);
  }

  /**
   * One staging of changes into this page, the Java side of the kernel's piwb preparation. Only the
   * thread that began it uses it.
   */
  final class Update {
    private final boolean dirtiedByMe;

    /** slot, old physical, old level for every changed slot, in change order. */
    private final List<int[]> undo = new ArrayList<>();

    private final List<Long> frees = new ArrayList<>();
    private boolean done;

    private Update(boolean dirtiedByMe) {
      this.dirtiedByMe = dirtiedByMe;
    }

    /** Sets {@code slot} to {@code physical} owned by {@code level}; visible to readers at once. */
    void set(int slot, long physical, int level) {
      synchronized (MdPage.this) {
        check();
        undo.add(new int[] {slot, phys[slot], levels[slot]});
        phys[slot] = (int) physical;
        levels[slot] = (byte) level;
      }
    }

    /** Frees top cluster {@code physical} once this page's next write is durable. */
    void freeAfterWriteback(long physical) {
      frees.add(physical);
    }

    /**
     * Ends the staging: sets the deadline to {@code now + delay} (re-dirtying extends it, seed 001)
     * capped at {@code dirtySince + maxDelay}, enqueues a newly dirtied page, clears UPDATING and
     * wakes waiters.
     */
    void commit(long now, long delayNanos, long maxDelayNanos) {
      synchronized (MdPage.this) {
        check();
        done = true;
        if (dirtiedByMe) {
          dirtySince = now;
        }
        deadline = Math.min(now + delayNanos, dirtySince + maxDelayNanos);
        pendingFrees.addAll(frees);
        if (dirtiedByMe) {
          onFirstDirty.run();
        }
        status &= ~UPDATING;
        MdPage.this.notifyAll();
      }
    }

    /**
     * Breaks the staging ({@code break_bat_update}): restores only the slots this update changed,
     * clears DIRTY only if this update set it, clears UPDATING and wakes waiters.
     */
    void abort() {
      synchronized (MdPage.this) {
        if (done) {
          return;
        }
        done = true;
        for (int i = undo.size() - 1; i >= 0; i--) {
          int[] u = undo.get(i);
          phys[u[0]] = u[1];
          levels[u[0]] = (byte) u[2];
        }
        if (dirtiedByMe) {
          status &= ~DIRTY;
        }
        status &= ~UPDATING;
        MdPage.this.notifyAll();
      }
    }

    private void check() {
      assert Thread.holdsLock(MdPage.this);
      if (done) {
        throw new IllegalStateException("md page " + id + ": update already ended");
      }
    }
  }

  /** What a writeback took from the page: entry copies and the frees waiting for it. */
  record Taken(MdPage page, int[] phys, byte[] levels, List<Long> frees) {}

  /**
   * Starts the writeback of this page if it is dirty and due: sets WRITEBACK, clears DIRTY and
   * HIGHPRIO, and returns copies of the entries and the pending frees. Returns null if the page is
   * clean, not yet due, or (unless {@code force}) UPDATING. With {@code force} it waits for a
   * running staging to end, so that {@code flush()} misses nothing that was acknowledged.
   */
  synchronized Taken startWriteback(long now, boolean force) throws InterruptedIOException {
    if (force) {
      while ((status & UPDATING) != 0) {
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting for md page " + id);
        }
      }
    }
    if ((status & DIRTY) == 0 || (status & (UPDATING | WRITEBACK)) != 0) {
      return null;
    }
    if (!force && (status & HIGHPRIO) == 0 && now - deadline < 0) {
      return null;
    }
    status |= WRITEBACK;
    status &= ~(DIRTY | HIGHPRIO);
    List<Long> frees = pendingFrees;
    pendingFrees = new ArrayList<>();
    return new Taken(this, phys.clone(), levels.clone(), frees);
  }

  /** Ends a successful writeback: clears WRITEBACK and wakes waiters. */
  synchronized void endWriteback() {
    status &= ~WRITEBACK;
    notifyAll();
  }

  /**
   * Ends a failed writeback: the page is DIRTY again (written on a later cycle, not before {@code
   * retryAt}), the frees wait again, WRITEBACK is cleared and waiters woken.
   */
  synchronized void failWriteback(List<Long> frees, long retryAt) {
    status &= ~WRITEBACK;
    status |= DIRTY;
    deadline = retryAt;
    List<Long> all = new ArrayList<>(frees);
    all.addAll(pendingFrees);
    pendingFrees = all;
    notifyAll();
  }

  /** Returns a copy of the frees still waiting for this page (for tests and stats). */
  synchronized List<Long> pendingFrees() {
    return new ArrayList<>(pendingFrees);
  }
}
