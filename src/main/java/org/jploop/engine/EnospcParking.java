package org.jploop.engine;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jploop.io.NoSpaceException;

/**
 * ENOSPC parking (seed 002), the kernel's {@code enospc_pios}, {@code enospc_timer} and {@code
 * event_enospc}: a request piece that hits a full host filesystem is not failed at once but parked
 * (holding no cluster lock) and retried after {@link EngineOptions#enospcRetryMs()}, earlier when a
 * punch frees space ({@link #wake}) or the host filesystem gains free space, until {@link
 * EngineOptions#enospcTimeoutMs()} has passed or the disk closes. Each parking raises the ENOSPC
 * event that {@link #takeEvent} reports once.
 *
 * <p>{@link #lock}'s monitor guards {@link #generation}; counters and the event are atomics.
 */
final class EnospcParking {
  /** One retryable piece of a request. */
  @FunctionalInterface
  interface IoAction {
    void run() throws IOException;
  }

  private final Path file;
  private final RequestGate gate;
  private final long retryNanos;
  private final long timeoutNanos;
  private final AtomicBoolean event = new AtomicBoolean();
  private final AtomicLong events = new AtomicLong();
  private final AtomicLong parked = new AtomicLong();
  private final Object lock = new Object();

  /** Bumped whenever space may have been freed; parked writes retry. Guarded by lock. */
  @GuardedBy("lock")
  private long generation;

  /** Parks requests to {@code file} (its host filesystem is watched for free space). */
  EnospcParking(Path file, RequestGate gate, EngineOptions options) {
    this.file = file;
    this.gate = gate;
    this.retryNanos = TimeUnit.MILLISECONDS.toNanos(options.enospcRetryMs());
    this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(options.enospcTimeoutMs());
  }

  /** Runs {@code action}, parking and retrying it while it fails with ENOSPC. */
  void retry(IoAction action) throws IOException {
    long start = System.nanoTime();
    while (true) {
      try {
        action.run();
        return;
      } catch (NoSpaceException e) {
        long elapsed = System.nanoTime() - start;
        if (timeoutNanos == 0 || gate.closing() || elapsed >= timeoutNanos) {
          throw e;
        }
        park(Math.min(retryNanos, timeoutNanos - elapsed));
        if (gate.closing()) {
          throw e;
        }
      }
    }
  }

  /**
   * Parks the calling request (it holds no cluster lock): raises the ENOSPC event, then sleeps
   * until the retry time, a wake-up (space freed by a punch, close), or more free host space.
   */
  private void park(long nanos) throws IOException {
    events.incrementAndGet();
    event.set(true);
    parked.incrementAndGet();
    try {
      long space0 = usableSpace();
      long deadline = System.nanoTime() + nanos;
      synchronized (lock) {
        long gen = generation;
        while (generation == gen && !gate.closing()) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          lock.wait(Math.max(1, Math.min(500, TimeUnit.NANOSECONDS.toMillis(left))));
          if (space0 >= 0 && usableSpace() > space0) {
            break;
          }
        }
      }
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while parked on ENOSPC");
    } finally {
      parked.decrementAndGet();
    }
  }

  private long usableSpace() {
    try {
      return file != null && Files.exists(file) ? Files.getFileStore(file).getUsableSpace() : -1;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Lets parked writes retry now (space was freed, or the disk is closing). */
  void wake() {
    synchronized (lock) {
      generation++;
      lock.notifyAll();
    }
  }

  /** Returns true once per ENOSPC event not yet taken. */
  boolean takeEvent() {
    return event.getAndSet(false);
  }

  /** Returns the number of parkings since open. */
  long events() {
    return events.get();
  }

  /** Returns the number of requests parked right now. */
  long parkedNow() {
    return parked.get();
  }
}
