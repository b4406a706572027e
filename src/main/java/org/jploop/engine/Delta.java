package org.jploop.engine;

import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;

/**
 * One opened delta of a {@link DeltaStack}, the kernel's {@code struct ploop_delta}: its file,
 * header and level (0 = base). A raw ({@code Plain}) base has no header and no BAT: every cluster
 * {@code c} inside the file is cluster {@code c} of the file, loaded into the merged map as
 * physical {@code c + 1} so that 0 still means "unmapped". Immutable; the file is thread-safe.
 */
record Delta(BlockFile file, ImageHeader header, int level) {
  /** Returns whether this is a raw base without header. */
  boolean raw() {
    return header == null;
  }

  /** Returns the byte offset in this delta's file of merged-map cluster {@code phys}. */
  long offsetOf(long phys, long clusterBytes) {
    return (raw() ? phys - 1 : phys) * clusterBytes;
  }
}
