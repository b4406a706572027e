package org.jploop.check;

import java.nio.file.Path;

/**
 * One problem found in an image: the file, the byte offset of the offending field (-1 when no
 * single field is at fault), how bad it is, ploop's message, and what was done about it.
 *
 * @param file the image
 * @param offset byte offset of the field at fault, or -1
 * @param kind what kind of problem it is
 * @param message ploop's text for it, without the file name
 * @param resolution fixed, skipped, ignored or fatal
 */
public record Finding(Path file, long offset, Kind kind, String message, Resolution resolution) {

  /** The problems {@code ploop check} knows, in the order it looks for them. */
  public enum Kind {
    /** File size is not a multiple of the cluster; {@code -f} rounds it up. */
    UNALIGNED_SIZE(Severity.WARNING),
    /** A non-zero slot for a cluster past the disk size (a padding slot); zeroed (soft fix). */
    BEYOND_DISK_SIZE(Severity.WARNING),
    /** A v1 entry that is not a whole cluster; zeroed with {@code -F}. */
    MISALIGNED_V1(Severity.ERROR),
    /** An entry whose cluster ends past the end of the file; zeroed with {@code -F}. */
    BEYOND_EOF(Severity.ERROR),
    /**
     * An entry pointing at a cluster already used (by another entry or the header); never fixed.
     */
    DUPLICATE(Severity.ERROR),
    /**
     * A Format Extension (CBT) on a cleanly closed image that must not be used (bad magic, MD5,
     * size, pointers), or a pointer left on an image closed as v2.0 (ploop ignores it, QEMU parses
     * it); the pointer is cleared with {@code -f} or {@code -F}.
     */
    BAD_EXTENSION(Severity.WARNING),
    /** File longer than the end of the last referenced cluster; truncated with -f or -F. */
    LEAKED_TAIL(Severity.NOTICE),
    /**
     * CIF_Empty set although clusters are mapped, or clear although none is (qemu-img leaves it
     * set); corrected with -f or -F, as ploop 1.15's check does ("CIF_Empty flag is incorrect").
     */
    WRONG_EMPTY_FLAG(Severity.NOTICE);

    private final Severity severity;

    Kind(Severity severity) {
      this.severity = severity;
    }

    /** Returns how bad this kind is. */
    public Severity severity() {
      return severity;
    }
  }

  /** Returns the severity of its kind. */
  public Severity severity() {
    return kind.severity();
  }

  /** Returns whether this finding leaves the image corrupted (ploop's "FATAL"). */
  public boolean fatal() {
    return resolution == Resolution.FATAL;
  }

  /** One line: {@code file: offset N: message Fixed}. */
  @Override
  public String toString() {
    return file
        + ": "
        + (offset >= 0 ? "offset " + offset + ": " : "")
        + message
        + " "
        + resolution.word();
  }
}
