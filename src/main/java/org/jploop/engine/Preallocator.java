package org.jploop.engine;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jploop.io.BlockFile;
import org.jploop.io.NoSpaceException;

/**
 * Grows the top delta file ahead of allocation, exactly as seed 000 ({@code
 * ploop_preallocate_cluster} and friends after "rework preallocation algorithm").
 *
 * <p>Requests come in cluster granularity ({@link #requestLocked}); a preemptive request is ignored
 * while another preemptive one is pending, so parallel preemptive requests do not grow the step.
 * The thread {@code ploop-prealloc-<name>} (or, without background threads, the waiting allocator
 * itself) grows the file by {@code ALIGN(prealloc_requested, PREALLOC_SIZE)} from {@code file_size}
 * and loops while more was requested. On failure {@code file_size} stays, the error is kept for the
 * waiters, and everyone waiting is woken.
 *
 * <p>All fields below are guarded by {@code bat_lock} (the lock passed in), as in the kernel.
 */
final class Preallocator {
  private final ReentrantLock batLock;

  /**
   * Signalled when a request arrives or a preallocation round ends ({@code
   * dispatcher_wq_prealloc}).
   */
  private final Condition changed;

  private final BlockFile file;
  private final long preallocSize;
  private final long clusterBytes;
  private final boolean falloc;

  /** {@code prealloc_requested}: bytes asked for, in clusters. */
  @GuardedBy("batLock")
  private long preallocRequested;

  /** {@code preemptive_prealloc}: a preemptive request is pending. */
  @GuardedBy("batLock")
  private boolean preemptivePrealloc;

  /** {@code top->file_size}: what the engine believes the top file length is. */
  @GuardedBy("batLock")
  private long fileSize;

  /** {@code file_preallocated_area_start}: below, clusters may hold old data; above, zeros. */
  @GuardedBy("batLock")
  private long preallocatedAreaStart;

  /** A round is growing the file right now. */
  @GuardedBy("batLock")
  private boolean running;

  /** Error of the last failed round, for the allocations that waited on it; null after success. */
  @GuardedBy("batLock")
  private IOException lastError;

  @GuardedBy("batLock")
  private long preallocatedBytes;

  @GuardedBy("batLock")
  private boolean stopped;

  /** Set by start() before the disk is shared; read-only afterwards. */
  private Thread thread;

  Preallocator(
      ReentrantLock batLock,
      BlockFile file,
      long fileLength,
      long preallocSize,
      long clusterBytes,
      boolean falloc) {
    this.batLock = batLock;
    this.changed = batLock.newCondition();
    this.file = file;
    this.preallocSize = preallocSize;
    this.clusterBytes = clusterBytes;
    this.falloc = falloc;
    this.fileSize = fileLength;
    this.preallocatedAreaStart = fileLength; // the whole existing file may contain old data
  }

  /** Returns {@code PREALLOC_SIZE}. */
  long preallocSize() {
    return preallocSize;
  }

  /** Returns {@code file_size}. Caller holds bat_lock. */
  @GuardedBy("batLock")
  long fileSizeLocked() {
    assert batLock.isHeldByCurrentThread();
    return fileSize;
  }

  /** Returns {@code file_preallocated_area_start}. Caller holds bat_lock. */
  @GuardedBy("batLock")
  long areaStartLocked() {
    assert batLock.isHeldByCurrentThread();
    return preallocatedAreaStart;
  }

  /** Advances {@code file_preallocated_area_start} to {@code end} if that is higher. */
  @GuardedBy("batLock")
  void advanceAreaStartLocked(long end) {
    assert batLock.isHeldByCurrentThread();
    if (end > preallocatedAreaStart) {
      preallocatedAreaStart = end;
    }
  }

  /** Returns {@code prealloc_requested}. Caller holds bat_lock. */
  @GuardedBy("batLock")
  long requestedLocked() {
    assert batLock.isHeldByCurrentThread();
    return preallocRequested;
  }

  /** Returns the bytes added to the file so far. Caller holds bat_lock. */
  @GuardedBy("batLock")
  long preallocatedBytesLocked() {
    assert batLock.isHeldByCurrentThread();
    return preallocatedBytes;
  }

  /** {@code ploop_req_prealloc}: asks for one more cluster of space. Caller holds bat_lock. */
  @GuardedBy("batLock")
  void requestLocked(boolean preemptive) {
    assert batLock.isHeldByCurrentThread();
    if (preemptive) {
      if (preemptivePrealloc) {
        return;
      }
      preemptivePrealloc = true;
    }
    preallocRequested += clusterBytes;
    changed.signalAll();
  }

  /**
   * {@code wait_event(ploop_no_pending_prealloc)}: waits until no request is pending. Without the
   * thread the caller runs the round itself. Caller holds bat_lock; it is released while waiting.
   */
  @GuardedBy("batLock")
  void awaitNoPendingLocked() throws IOException {
    assert batLock.isHeldByCurrentThread();
    while (preallocRequested != 0) {
      if (thread == null && !running) {
        batLock.unlock();
        try {
          preallocate();
        } finally {
          batLock.lock();
        }
        continue;
      }
      try {
        changed.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException(file.path() + ": interrupted waiting for preallocation");
      }
    }
  }

  /**
   * Returns the error to report for an allocation whose cluster still ends past {@code file_size}
   * after waiting: a NoSpaceException if the last round hit ENOSPC, an IOException otherwise.
   * Caller holds bat_lock.
   */
  @GuardedBy("batLock")
  IOException failureLocked(long pos, long len) {
    assert batLock.isHeldByCurrentThread();
    if (lastError instanceof NoSpaceException) {
      NoSpaceException e = new NoSpaceException(file.path(), "preallocate", pos, len);
      e.initCause(lastError);
      return e;
    }
    return new IOException(
        file.path()
            + ": cannot grow file for cluster at offset "
            + pos
            + ": "
            + (lastError == null ? "preallocation did not advance" : lastError.getMessage()),
        lastError);
  }

  /** Returns the error of the last round, or null if it succeeded. Caller holds bat_lock. */
  @GuardedBy("batLock")
  IOException failureOrNullLocked() {
    assert batLock.isHeldByCurrentThread();
    return lastError;
  }

  /**
   * {@code ploop_preallocate_cluster}: one preallocation round, looping while more was requested.
   * Returns the error of the round, or null.
   */
  IOException preallocate() {
    batLock.lock();
    try {
      while (running) {
        changed.awaitUninterruptibly();
      }
      running = true;
      IOException ret = null;
      while (true) {
        long size = align(preallocRequested, preallocSize);
        long from = fileSize;
        long newLen = from + size;
        if (size == 0) {
          break;
        }
        batLock.unlock();
        try {
          if (falloc) {
            file.allocate(from, size);
          } else {
            file.truncate(newLen);
          }
        } catch (IOException e) {
          ret = e;
        } finally {
          batLock.lock();
        }
        if (newLen < fileSize) {
          ret = new IOException(file.path() + ": unexpected file size change");
          break;
        }
        if (ret == null) {
          fileSize = newLen;
          preallocatedBytes += size;
          if (preallocRequested > size) {
            preallocRequested -= size;
            continue;
          }
        }
        break;
      }
      preallocRequested = 0;
      preemptivePrealloc = false;
      lastError = ret;
      running = false;
      changed.signalAll();
      return ret;
    } finally {
      batLock.unlock();
    }
  }

  /** Returns {@code ALIGN(v, a)}. */
  static long align(long v, long a) {
    return (v + a - 1) / a * a;
  }

  /**
   * On clean close: cuts the file to {@code end} (at most {@code file_size}) and sets {@code
   * file_size} and {@code file_preallocated_area_start} to it. Call after {@link #stop()}.
   */
  void truncateTail(long end) throws IOException {
    batLock.lock();
    try {
      // Compare with the real length too: a failed fallocate may have grown the file partly.
      if (end < Math.max(fileSize, file.size())) {
        file.truncate(end);
        fileSize = end;
      }
      if (preallocatedAreaStart > fileSize) {
        preallocatedAreaStart = fileSize;
      }
    } finally {
      batLock.unlock();
    }
  }

  /** Starts the thread {@code ploop-prealloc-<name>} (daemon). */
  void start(String name) {
    thread = new Thread(this::loop, "ploop-prealloc-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops the thread after its running round and waits for it. */
  void stop() {
    batLock.lock();
    try {
      stopped = true;
      changed.signalAll();
    } finally {
      batLock.unlock();
    }
    Threads.joinUninterruptibly(thread);
  }

  private void loop() {
    while (true) {
      batLock.lock();
      try {
        while (preallocRequested == 0 && !stopped) {
          changed.awaitUninterruptibly();
        }
        if (stopped) {
          // Nobody may wait forever: fail what is pending.
          if (preallocRequested != 0) {
            preallocRequested = 0;
            preemptivePrealloc = false;
            lastError = new IOException(file.path() + ": preallocator stopped");
            changed.signalAll();
          }
          return;
        }
      } finally {
        batLock.unlock();
      }
      preallocate();
    }
  }
}
