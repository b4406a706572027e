package org.jploop.daemon;

import java.io.IOException;
import java.io.InterruptedIOException;

/**
 * The write half of the suspend gate, for a live copy's frozen passes: while frozen, every write,
 * punch and zero-range of the {@link SwappableDisk} waits at {@link #enter} (reads go on, so the
 * copy can read what it sends); {@link #freeze} returns once the writes in flight have completed.
 * Not thread-owned (freeze and thaw come in separate control requests), and self-limiting: a freeze
 * not thawed within its lease thaws by itself, so a sender killed while the disk is frozen stalls
 * the disk's writers for at most the lease (ploop's sender, killed then, leaves the dm device
 * suspended until {@code ploop copy} cleanup). This object's monitor guards every field.
 */
public final class WriteFreeze {
  private int inFlight;
  private boolean frozen;
  private long thawAtNanos;

  /** Before a write-type call; waits while frozen. */
  void enter() throws IOException {
    synchronized (this) {
      while (frozen) {
        long left = thawAtNanos - System.nanoTime();
        if (left <= 0) {
          frozen = false;
          notifyAll();
          break;
        }
        try {
          wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while the disk is frozen for a copy");
        }
      }
      inFlight++;
    }
  }

  /** After a write-type call. */
  synchronized void exit() {
    if (--inFlight == 0) {
      notifyAll();
    }
  }

  /**
   * Freezes: new writes wait, and this returns once none is in flight; the freeze lasts until
   * {@link #thaw} or {@code leaseMs}.
   */
  public synchronized void freeze(long leaseMs) throws InterruptedIOException {
    frozen = true;
    thawAtNanos = System.nanoTime() + leaseMs * 1_000_000;
    while (inFlight > 0) {
      try {
        wait(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        frozen = false;
        notifyAll();
        throw new InterruptedIOException("interrupted while draining writes");
      }
    }
  }

  /** Thaws; returns whether the disk was still frozen (false: the lease had run out). */
  public synchronized boolean thaw() {
    boolean was = frozen && System.nanoTime() < thawAtNanos;
    frozen = false;
    notifyAll();
    return was;
  }
}
