package org.jploop.image;

import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The random seed of a test class: {@code -Djploop.seed=N} or a fresh one, printed when a test
 * fails so the run can be repeated. Register it with {@code @RegisterExtension}.
 */
final class Seed implements TestWatcher {
  /** The seed of this test instance. */
  final long value = Long.getLong("jploop.seed", System.nanoTime());

  /** Returns a generator seeded with {@link #value}. */
  Random random() {
    return new Random(value);
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    System.err.println(
        "FAILED "
            + context.getDisplayName()
            + " with seed "
            + value
            + " (repeat with -Djploop.seed="
            + value
            + ")");
  }

  @Override
  public void testDisabled(ExtensionContext context, Optional<String> reason) {}
}
