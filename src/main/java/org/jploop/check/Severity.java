package org.jploop.check;

/** How bad a {@link Finding} is, following ploop's soft/hard fix classes. */
public enum Severity {
  /** Harmless to ploop but worth saying (a leaked tail that qemu-img reports as a leak). */
  NOTICE,
  /** A soft problem: ploop fixes it without {@code -F} (a slot past the disk size). */
  WARNING,
  /** A hard problem: fatal unless repaired with {@code -F} (or, for duplicates, ignored). */
  ERROR
}
