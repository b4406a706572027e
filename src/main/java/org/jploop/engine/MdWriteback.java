package org.jploop.engine;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jploop.format.BatLayout;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;

/**
 * Delayed metadata writeback ({@code ploop_submit_metadata_writeback} plus the piwb completion):
 * collects the dirty {@link MdPage}s of the top delta and writes those that are due, in batches.
 *
 * <p>One cycle: for every queued page that is due (deadline passed, HIGHPRIO, or forced by {@link
 * #flush}), take a snapshot and set WRITEBACK; then one {@code force()} so that the data the new
 * entries point to is durable before them (data before BAT); then write every 4 KiB snapshot; then
 * one {@code force()}; then complete: release the pages' pending frees into the free-cluster bitmap
 * and clear WRITEBACK. On an I/O error the pages are DIRTY again and the error is remembered; the
 * next {@link #flush} throws it (the cryptofs "exceptions during write" pattern).
 *
 * <p>Locks: {@link #cycleLock} serialises cycles (the thread's and {@code flush}'s). The monitor
 * {@link #queueLock} guards {@link #queue}, {@link #pendingError}, {@link #wakeups} and {@link
 * #stopped}. Lock order: page monitor, then queueLock; never a page monitor inside queueLock.
 */
final class MdWriteback {
  private final BlockFile top;
  private final FormatVersion version;
  private final int clusterSectors;
  private final long batEntries;
  private final int topLevel;
  private final Supplier<byte[]> header;
  private final Consumer<List<Long>> releaseFrees;
  private final LongSupplier clock;
  private final long delayNanos;

  private final ReentrantLock cycleLock = new ReentrantLock();
  private final Object queueLock = new Object();

  /** Dirty pages waiting for writeback ({@code wb_batch_llist}). Guarded by queueLock. */
  @GuardedBy("queueLock")
  private final LinkedHashSet<MdPage> queue = new LinkedHashSet<>();

  /** First error of a background cycle not yet reported by flush. Guarded by queueLock. */
  @GuardedBy("queueLock")
  private IOException pendingError;

  /**
   * Bumped on every enqueue and wake-up so that the thread never misses one. Guarded by queueLock.
   */
  @GuardedBy("queueLock")
  private long wakeups;

  /** Guarded by queueLock. */
  @GuardedBy("queueLock")
  private boolean stopped;

  private Thread thread;

  private final AtomicLong pageWrites = new AtomicLong();

  MdWriteback(
      BlockFile top,
      ImageHeader topHeader,
      int topLevel,
      Supplier<byte[]> header,
      Consumer<List<Long>> releaseFrees,
      LongSupplier clock,
      long delayMs) {
    this.top = top;
    this.version = topHeader.version();
    this.clusterSectors = (int) topHeader.clusterSectors();
    this.batEntries = topHeader.batEntries();
    this.topLevel = topLevel;
    this.header = header;
    this.releaseFrees = releaseFrees;
    this.clock = clock;
    this.delayNanos = TimeUnit.MILLISECONDS.toNanos(delayMs);
  }

  /** Queues a page that just became dirty; called inside the page monitor. */
  void enqueue(MdPage page) {
    synchronized (queueLock) {
      queue.add(page);
      wakeups++;
      queueLock.notifyAll();
    }
  }

  /** Wakes the thread, e.g. because a page became HIGHPRIO. */
  void wake() {
    synchronized (queueLock) {
      wakeups++;
      queueLock.notifyAll();
    }
  }

  /** Returns the 4 KiB page writes done so far. */
  long pageWrites() {
    return pageWrites.get();
  }

  /** Returns the number of queued (dirty or failed) pages. */
  int queued() {
    synchronized (queueLock) {
      return queue.size();
    }
  }

  /**
   * Runs one cycle: writes every due page ({@code force}: every dirty page). Returns the number of
   * pages written.
   */
  int runCycle(boolean force) throws IOException {
    cycleLock.lock();
    try {
      return cycleLocked(force);
    } finally {
      cycleLock.unlock();
    }
  }

  /**
   * The durability barrier: writes every dirty page now, then forces the file. Throws the error of
   * this cycle, else an error a background cycle hit since the last flush.
   */
  void flush() throws IOException {
    cycleLock.lock();
    try {
      cycleLocked(true);
      IOException e;
      synchronized (queueLock) {
        e = pendingError;
        pendingError = null;
      }
      if (e != null) {
        throw new IOException(
            top.path() + ": an earlier BAT writeback failed: " + e.getMessage(), e);
      }
      top.force();
    } finally {
      cycleLock.unlock();
    }
  }

  private int cycleLocked(boolean force) throws IOException {
    assert cycleLock.isHeldByCurrentThread();
    List<MdPage> candidates;
    synchronized (queueLock) {
      candidates = new ArrayList<>(queue);
    }
    long now = clock.getAsLong();
    List<MdPage.Taken> batch = new ArrayList<>();
    List<ByteBuffer> images = new ArrayList<>();
    try {
      for (MdPage page : candidates) {
        MdPage.Taken t = page.startWriteback(now, force);
        if (t != null) {
          batch.add(t);
          images.add(encode(t));
        }
      }
    } catch (InterruptedIOException e) {
      fail(batch, now);
      throw e;
    }
    if (batch.isEmpty()) {
      return 0;
    }
    try {
      top.force(); // data before BAT
      for (int i = 0; i < batch.size(); i++) {
        top.write(images.get(i), BatLayout.pageOffset(batch.get(i).page().id));
        pageWrites.incrementAndGet();
      }
      top.force();
    } catch (IOException | RuntimeException e) {
      fail(batch, now);
      throw e;
    }
    List<Long> frees = new ArrayList<>();
    for (MdPage.Taken t : batch) {
      frees.addAll(t.frees());
    }
    if (!frees.isEmpty()) {
      releaseFrees.accept(frees);
    }
    for (MdPage.Taken t : batch) {
      synchronized (t.page()) {
        // Still WRITEBACK, so nobody can have dirtied it again: safe to drop it from the queue.
        synchronized (queueLock) {
          queue.remove(t.page());
        }
        t.page().endWriteback();
      }
    }
    return batch.size();
  }

  private void fail(List<MdPage.Taken> batch, long now) {
    long retryAt = now + Math.max(delayNanos, TimeUnit.MILLISECONDS.toNanos(100));
    for (MdPage.Taken t : batch) {
      t.page().failWriteback(t.frees(), retryAt);
    }
  }

  /** Builds the on-disk image of a page snapshot (only top-level entries, header on page 0). */
  private ByteBuffer encode(MdPage.Taken t) {
    ByteBuffer b = ByteBuffer.allocate(BatLayout.PAGE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    int pageId = t.page().id;
    for (int slot = 0; slot < BatLayout.ENTRIES_PER_PAGE; slot++) {
      long c = BatLayout.clusterAt(pageId, slot);
      if (c < 0 || c >= batEntries) {
        continue;
      }
      long p = Integer.toUnsignedLong(t.phys()[slot]);
      if (p != 0 && (t.levels()[slot] & 0xFF) == topLevel) {
        b.putInt(slot * 4, (int) version.toBatValue(p, clusterSectors));
      }
    }
    if (pageId == 0) {
      b.put(0, header.get());
    }
    return b;
  }

  /** Starts the writeback thread {@code ploop-writeback-<name>} (daemon). */
  void start(String name) {
    thread = new Thread(this::loop, "ploop-writeback-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops the thread (after its running cycle) and waits for it. */
  void stop() {
    synchronized (queueLock) {
      stopped = true;
      queueLock.notifyAll();
    }
    Threads.joinUninterruptibly(thread);
  }

  private void loop() {
    while (true) {
      long seen;
      List<MdPage> pages;
      synchronized (queueLock) {
        if (stopped) {
          return;
        }
        seen = wakeups;
        pages = new ArrayList<>(queue);
      }
      long now = clock.getAsLong();
      long earliest = Long.MAX_VALUE;
      boolean due = false;
      for (MdPage p : pages) {
        int st = p.status();
        if ((st & MdPage.DIRTY) == 0) {
          continue;
        }
        long d = p.deadline();
        if ((st & MdPage.HIGHPRIO) != 0 || now - d >= 0) {
          due = true;
        } else {
          earliest = Math.min(earliest, d - now);
        }
      }
      if (due) {
        try {
          runCycle(false);
        } catch (IOException | RuntimeException e) {
          // A full host filesystem is transient: the failed pages stay queued and are retried,
          // and a flush that still cannot write them reports ENOSPC itself. Recording it here
          // would fail the next fsync even after the retry succeeded (rel branch, EnospcIT).
          if (!(e instanceof org.jploop.io.NoSpaceException)) {
            synchronized (queueLock) {
              if (pendingError == null) {
                pendingError = e instanceof IOException io ? io : new IOException(e);
              }
            }
          }
        }
        // Look again soon: pages skipped as UPDATING are retried on the next cycle.
        earliest = TimeUnit.MILLISECONDS.toNanos(1);
        seen = -1;
      }
      synchronized (queueLock) {
        if (stopped) {
          return;
        }
        if (seen != -1 && wakeups != seen) {
          continue;
        }
        long waitMs =
            earliest == Long.MAX_VALUE
                ? 1000
                : Math.min(1000, Math.max(1, TimeUnit.NANOSECONDS.toMillis(earliest) + 1));
        try {
          queueLock.wait(waitMs);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }
}
