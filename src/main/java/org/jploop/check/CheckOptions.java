package org.jploop.check;

/**
 * The flags of {@code ploop check}, as the library's CHECK_* bits.
 *
 * @param force {@code -f}: check even a clean image, round an unaligned file size up, apply soft
 *     fixes, truncate a leaked tail
 * @param hardForce {@code -F}: also zero entries that point past EOF or are misaligned (v1), and
 *     accept duplicates ("Ignored"); implies {@code force}, as in ploop
 * @param detailed {@code -c}: build the cluster bitmap and report duplicates and entries into the
 *     header; jploop also scans a clean image when this is set
 * @param readOnly {@code -r}: never write, whatever else is asked
 * @param dropInUse {@code -d}: clear the in-use flag of an image whose content is clean
 */
public record CheckOptions(
    boolean force, boolean hardForce, boolean detailed, boolean readOnly, boolean dropInUse) {

  public CheckOptions {
    force |= hardForce;
  }

  /** No flags: look at a dirty image, change nothing. */
  public static final CheckOptions DEFAULT = new CheckOptions(false, false, false, false, false);

  /**
   * Returns whether fixes may be written: some repair flag ({@code -f}, {@code -F} or {@code -d})
   * and no {@code -r}. Without one the check is read-only (jploop: ploop would apply soft fixes to
   * a dirty image even without flags).
   */
  public boolean repairs() {
    return !readOnly && (force || hardForce || dropInUse);
  }

  /** Returns whether a clean image (in-use flag clear) is scanned at all. */
  public boolean scansCleanImage() {
    return force || detailed;
  }

  /** Returns a copy with {@code -c} and {@code -d} set, as the DiskDescriptor.xml form uses. */
  public CheckOptions forDescriptor() {
    return new CheckOptions(force, hardForce, true, readOnly, true);
  }

  /** Returns a read-only copy, for the lower deltas of a chain. */
  public CheckOptions asReadOnly() {
    return new CheckOptions(force, hardForce, detailed, true, dropInUse);
  }
}
