package org.jploop.frontend.kernel;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.jploop.frontend.RequestMeter;

/**
 * The kernel front end's counters: requests in flight and answered ({@link RequestMeter}), per
 * opcode, INTERRUPTs, and replies the kernel refused (EINVAL: a bug of ours, the request was
 * answered again with EIO) or had no waiter for (ENOENT: interrupted or aborted, harmless).
 * Lock-free.
 */
final class FuseMetrics {
  private static final int OPCODES = 64;
  final RequestMeter meter = new RequestMeter();
  private final AtomicLongArray perOpcode = new AtomicLongArray(OPCODES);
  private final AtomicLong interrupts = new AtomicLong();
  private final AtomicLong repliesRejected = new AtomicLong();
  private final AtomicLong repliesUnwanted = new AtomicLong();
  private final AtomicLong malformed = new AtomicLong();

  /** Counts one request of {@code opcode}. */
  void opcode(int opcode) {
    perOpcode.incrementAndGet(opcode >= 0 && opcode < OPCODES ? opcode : 0);
  }

  long opcodeCount(int opcode) {
    return perOpcode.get(opcode);
  }

  long interrupt() {
    return interrupts.incrementAndGet();
  }

  long interrupts() {
    return interrupts.get();
  }

  /** A reply the kernel refused with EINVAL; returns how many so far. */
  long replyRejected() {
    return repliesRejected.incrementAndGet();
  }

  long repliesRejected() {
    return repliesRejected.get();
  }

  /** A reply nobody waited for any more (ENOENT). */
  void replyUnwanted() {
    repliesUnwanted.incrementAndGet();
  }

  long repliesUnwanted() {
    return repliesUnwanted.get();
  }

  /** A request whose length did not match what was read; returns how many so far. */
  long malformed() {
    return malformed.incrementAndGet();
  }

  long malformedCount() {
    return malformed.get();
  }
}
