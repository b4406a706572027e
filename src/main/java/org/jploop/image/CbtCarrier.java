package org.jploop.image;

import java.io.IOException;
import java.io.PrintWriter;
import org.jploop.format.BadExtensionException;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.ImageHeader;
import org.jploop.io.CbtStore;

/**
 * How the offline operations treat the CBT (dirty bitmap in the Format Extension) of a delta they
 * rewrite, as ploop does (verbs notes §2.3): snapshot copies the old top's CBT into the new top,
 * merge and snapshot-delete copy the child's CBT into the parent that survives (the parent's own is
 * dropped, as ploop's {@code clear_delta} voids it), resize and compact keep it (ploop runs them on
 * a mounted device, where the kernel keeps tracking; resize grows the bitmap with clean granules).
 * Each reads the bitmap before it changes the delta, {@link #detach}es it (the extension's clusters
 * would otherwise be overwritten or end up inside the file) and appends it again once the delta is
 * clean ({@link #attach}). Stateless.
 */
final class CbtCarrier {
  private CbtCarrier() {}

  /**
   * Reads the CBT of {@code d} for carrying, or null. A bad extension is not carried: its message
   * goes to {@code log} (ploop logs it and goes on without CBT).
   */
  static DirtyBitmap read(DeltaFile d, PrintWriter log) throws IOException {
    try {
      CbtStore.Stored s = d.readCbt();
      return s == null ? null : s.bitmap();
    } catch (BadExtensionException e) {
      log.println("Warning: " + e.getMessage() + "; the CBT is dropped");
      return null;
    }
  }

  /**
   * Removes any extension from {@code d}: the header loses its pointer (v2.1 becomes v2.0) first,
   * then a valid extension's clusters at the end of the file are cut off. A bad extension's
   * clusters stay where they are (their positions are not trusted); the operation reuses or trims
   * them like any unreferenced cluster.
   */
  static void detach(DeltaFile d) throws IOException {
    ImageHeader h = d.header();
    if (h.formatExtensionOffset() == 0 && h.diskInUse() != ImageHeader.CLOSED_V21) {
      return;
    }
    CbtStore.Stored s;
    try {
      s = d.readCbt();
    } catch (BadExtensionException e) {
      s = null;
    }
    d.writeHeader(
        h.withFormatExtensionOffset(0)
            .withDiskInUse(
                h.diskInUse() == ImageHeader.CLOSED_V21 ? ImageHeader.CLOSED_V20 : h.diskInUse()));
    if (s != null) {
      long end = CbtStore.trimmedEnd(s, d.file().size(), d.clusterBytes());
      if (end < d.file().size()) {
        d.file().truncate(end);
        d.force();
      }
    }
  }

  /**
   * Appends {@code bitmap} to the clean delta {@code d} (a no-op for null), resized to the delta's
   * disk size if that changed, and marks it closed v2.1.
   */
  static void attach(DeltaFile d, DirtyBitmap bitmap) throws IOException {
    if (bitmap == null) {
      return;
    }
    long size = d.header().sizeSectors();
    d.writeCbt(bitmap.sizeSectors() == size ? bitmap : bitmap.resized(size));
  }

  /**
   * Cuts what lies past the clusters the BAT of the clean delta {@code d} references (left over by
   * an extension that an operation voided).
   */
  static void trimTail(DeltaFile d) throws IOException {
    long end = d.dataEnd();
    if (d.file().size() > end) {
      d.file().truncate(end);
      d.force();
    }
  }
}
