package org.jploop.image;

import java.io.IOException;

/**
 * Called by every multi-step image operation right after each step that changed the files on disk
 * (a write made durable, a rename, a truncation). Production code passes {@link #NONE}; crash tests
 * pass a hook that stops the operation dead at step N to prove that every intermediate state is a
 * valid image.
 */
@FunctionalInterface
public interface StepHook {
  /** The hook that does nothing. */
  StepHook NONE = step -> {};

  /** Reports that {@code step} (a short description) has completed. */
  void reached(String step) throws IOException;
}
