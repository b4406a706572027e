package org.jploop.check;

/** What the checker did about a {@link Finding}; the words are ploop's log suffixes. */
public enum Resolution {
  /** Repaired in the image. */
  FIXED("Fixed"),
  /** Not repaired because the check is read-only or lacks the flag; not fatal by itself. */
  SKIPPED("Skipped"),
  /** Not repairable, accepted because {@code -F} was given (duplicate blocks). */
  IGNORED("Ignored"),
  /** Not repaired and fatal: the image stays corrupted. */
  FATAL("FATAL");

  private final String word;

  Resolution(String word) {
    this.word = word;
  }

  /** Returns ploop's word for it. */
  public String word() {
    return word;
  }
}
