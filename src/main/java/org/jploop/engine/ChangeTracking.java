package org.jploop.engine;

import java.util.Arrays;
import java.util.Optional;

/**
 * The change trackers of one open disk, told of every completed write, punch and zero-range:
 * at most one CBT (ploop's changed-block tracking, named, saved into the top delta at a clean
 * close; the kernel keeps it on the block device's queue, so it outlives table reloads) and any
 * number of unnamed trackers a live-copy sender starts and stops (dm-tracking's role).
 *
 * <p>Lock-free for the write path: {@link #mark} reads two volatile fields. Changes to the set
 * are serialised by this object's monitor and publish a new array (copy on write).
 */
final class ChangeTracking {
  private static final ChangedBlockTracker[] NONE = new ChangedBlockTracker[0];

  private final long sizeBytes;
  private volatile ChangedBlockTracker cbt;
  private volatile ChangedBlockTracker[] senders = NONE;

  ChangeTracking(long sizeBytes) {
    this.sizeBytes = sizeBytes;
  }

  /** Marks {@code [offset, offset+length)} changed in every tracker. */
  void mark(long offset, long length) {
    ChangedBlockTracker c = cbt;
    if (c != null) {
      c.mark(offset, length);
    }
    for (ChangedBlockTracker t : senders) {
      t.mark(offset, length);
    }
  }

  /** Returns the CBT, if one runs. */
  Optional<ChangedBlockTracker> cbt() {
    return Optional.ofNullable(cbt);
  }

  /**
   * Makes {@code t} the disk's CBT ({@code BLKCBTSTART}, or a CBT handed over from the disk's
   * previous incarnation).
   *
   * @throws IllegalStateException if a CBT runs already (the kernel's EBUSY)
   * @throws IllegalArgumentException if {@code t} has no name or covers another size
   */
  synchronized void startCbt(ChangedBlockTracker t) {
    if (t.id() == null) {
      throw new IllegalArgumentException("a CBT needs a UUID");
    }
    checkSize(t);
    if (cbt != null) {
      throw new IllegalStateException("CBT " + cbt.id() + " is already running");
    }
    cbt = t;
  }

  /** Stops the CBT ({@code BLKCBTSTOP}) and returns it; empty if none ran. */
  synchronized Optional<ChangedBlockTracker> stopCbt() {
    ChangedBlockTracker c = cbt;
    cbt = null;
    return Optional.ofNullable(c);
  }

  /** Adds an unnamed tracker for a copy sender. */
  synchronized void addSender(ChangedBlockTracker t) {
    checkSize(t);
    ChangedBlockTracker[] next = Arrays.copyOf(senders, senders.length + 1);
    next[senders.length] = t;
    senders = next;
  }

  /** Removes a tracker added by {@link #addSender}; returns whether it was there. */
  synchronized boolean removeSender(ChangedBlockTracker t) {
    for (int i = 0; i < senders.length; i++) {
      if (senders[i] == t) {
        ChangedBlockTracker[] next = new ChangedBlockTracker[senders.length - 1];
        System.arraycopy(senders, 0, next, 0, i);
        System.arraycopy(senders, i + 1, next, i, senders.length - i - 1);
        senders = next;
        return true;
      }
    }
    return false;
  }

  private void checkSize(ChangedBlockTracker t) {
    if (t.sizeBytes() != sizeBytes) {
      throw new IllegalArgumentException("tracker covers " + t.sizeBytes()
          + " bytes, the disk has " + sizeBytes);
    }
  }
}
