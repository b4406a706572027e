package org.jploop.frontend;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts requests as a front end serves them: answered, in flight now, most in flight at once.
 * Lock-free (atomics); a request is {@link #begin begun} when read and {@link #end ended} when
 * answered.
 */
public final class RequestMeter {
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong inFlight = new AtomicLong();
  private final AtomicLong maxInFlight = new AtomicLong();

  /** A request was read. */
  public void begin() {
    long now = inFlight.incrementAndGet();
    if (now > maxInFlight.get()) {
      maxInFlight.accumulateAndGet(now, Math::max);
    }
  }

  /** The request begun last on this thread was answered. */
  public void end() {
    inFlight.decrementAndGet();
    requests.incrementAndGet();
  }

  public long requests() {
    return requests.get();
  }

  public long inFlight() {
    return inFlight.get();
  }

  public long maxInFlight() {
    return maxInFlight.get();
  }
}
