package org.jploop.check;

import java.nio.file.Path;
import java.util.List;

/**
 * The verdict of checking one image or a chain: a status, ploop's closing message for it, and the
 * findings in the order they were found.
 *
 * @param file the image (the failing one, for a chain) or the descriptor
 * @param status the verdict
 * @param message ploop's closing line for the verdict ("Dirty flag is set"), empty when clean
 * @param findings everything found, in order
 */
public record CheckResult(Path file, Status status, String message, List<Finding> findings) {

  public CheckResult {
    findings = List.copyOf(findings);
  }

  /** The verdicts; each maps to one ploop exit code. */
  public enum Status {
    /** Content checked and clean (possibly after fixes). Exit 0. */
    CLEAN,
    /** In-use flag clear and no {@code -f}/{@code -c}: nothing scanned. Exit 0. */
    SKIPPED_CLEAN,
    /** File size not cluster-aligned and not rounded up: ploop stops here with exit 0 (quirk). */
    STOPPED_UNALIGNED,
    /** Fatal errors, or soft errors left unrepaired. Exit 11 (PLOOPFMT). */
    CORRUPT,
    /** Content acceptable but the in-use flag is set and {@code -d} was not given. Exit 37. */
    DIRTY,
    /**
     * In-use together with CIF_FmtVersionConvert: a version conversion was interrupted. Exit 17.
     */
    CONVERTING
  }

  /** Returns whether the verdict is a success (exit 0). */
  public boolean ok() {
    return status == Status.CLEAN
        || status == Status.SKIPPED_CLEAN
        || status == Status.STOPPED_UNALIGNED;
  }
}
