package org.jploop.engine;

/** Thread helpers shared by the engine's background workers. Stateless. */
final class Threads {
  private Threads() {}

  /**
   * Waits for {@code t} to end (no-op for null), even if interrupted meanwhile: a closing disk must
   * not return while its worker may still touch the file. The interrupt is re-asserted.
   */
  static void joinUninterruptibly(Thread t) {
    if (t == null) {
      return;
    }
    boolean interrupted = false;
    while (t.isAlive()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
