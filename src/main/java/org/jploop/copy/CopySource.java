package org.jploop.copy;

import java.io.IOException;
import java.util.BitSet;
import org.jploop.format.DirtyBitmap;

/**
 * The disk a copy is sent from, as {@link CopySender} sees it: its geometry, which clusters the top
 * delta maps, what changed since the last look (tracked from creation on), cluster reads, the
 * freeze of writes, and its CBT. {@link DaemonCopySource} is a mounted disk (the mount daemon
 * tracks and freezes; data is read through {@code disk.img}); {@link OfflineCopySource} an
 * unmounted one (opened read-only under the disk lock: nothing changes). Used by one thread.
 */
interface CopySource extends AutoCloseable {
  long sizeBytes();

  long clusterBytes();

  /** The clusters the top delta maps (the first pass). */
  BitSet mapped() throws IOException;

  /** Takes and clears the set of clusters written since tracking began or the last call. */
  BitSet takeChanged() throws IOException;

  /** Reads {@code len} bytes of cluster {@code cluster} into {@code dst}. */
  void read(long cluster, byte[] dst, int len) throws IOException;

  /** Holds writes back until {@link #thaw}; returns once none is in flight and md is flushed. */
  void freeze() throws IOException;

  void thaw() throws IOException;

  /** The disk's CBT, or null if none runs. */
  DirtyBitmap cbt() throws IOException;

  /** Stops tracking (and thaws). */
  @Override
  void close() throws IOException;
}
