package org.jploop.engine;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jploop.format.DirtyBitmap;
import org.jploop.io.CbtStore;

/**
 * The change trackers of one open {@link PloopDisk} ({@link PloopDisk#tracking()}), told of every
 * completed write, punch and zero-range: at most one CBT (ploop's changed-block tracking, named,
 * saved into the top delta at a clean close; the kernel keeps it on the block device's queue, so it
 * outlives table reloads) and any number of unnamed trackers a live-copy sender starts and stops
 * (dm-tracking's role). This is the hook the online CBT verbs and {@code ploop copy} use.
 *
 * <p>CBT life cycle (ploop's, §2.3 of the verbs notes): a read-write open of a top closed as v2.1
 * loads the dirty bitmap of its Format Extension ({@link #readSaved}) and cuts the extension's
 * clusters off the file end; a bad extension is not used (its message is in {@link #problems()})
 * and the header's pointer is cleared with the in-use marker either way. A clean close with a CBT
 * running appends the bitmap and marks the top v2.1. A crash leaves the top in use, and {@code
 * ploop check} then clears the pointer: CBT does not survive a crash.
 *
 * <p>Lock-free for the write path: {@link #mark} reads two volatile fields. Changes to the set are
 * serialised by this object's monitor and publish a new array (copy on write); the problem list is
 * a {@link CopyOnWriteArrayList}.
 */
public final class ChangeTracking {
  private static final ChangedBlockTracker[] NONE = new ChangedBlockTracker[0];

  private final long sizeBytes;
  private final RequestGate gate;
  private final String name;
  private volatile ChangedBlockTracker cbt;
  private volatile ChangedBlockTracker[] senders = NONE;
  private final List<String> problems = new CopyOnWriteArrayList<>();

  ChangeTracking(long sizeBytes, RequestGate gate, String name) {
    this.sizeBytes = sizeBytes;
    this.gate = gate;
    this.name = name;
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

  /**
   * At a read-write open, before the top is marked in use: reads the CBT saved in the top's Format
   * Extension (ploop's {@code read_optional_header_from_image}). Returns null if there is none, or
   * if it cannot be used (not cleanly closed, bad magic, MD5 or size, read error): then ploop's
   * message goes to {@link #problems()} and the disk runs without CBT, as ploop only logs these at
   * mount.
   */
  CbtStore.Stored readSaved(DeltaStack stack) {
    try {
      return CbtStore.read(stack.top().file(), stack.top().header(), stack.topDataEnd());
    } catch (IOException | RuntimeException e) {
      problems.add("Error while loading optional header, CBT not loaded: " + e.getMessage());
      return null;
    }
  }

  /** Returns a copy of the running CBT's bits for the save at close, or null if none runs. */
  DirtyBitmap cbtToSave() {
    ChangedBlockTracker c = cbt;
    return c == null ? null : c.snapshot();
  }

  /** Records why a CBT could not be saved at close. */
  void addProblem(String problem) {
    problems.add(problem);
  }

  /** Returns the CBT, if one runs. */
  public Optional<ChangedBlockTracker> cbt() {
    return Optional.ofNullable(cbt);
  }

  /**
   * Starts a CBT named {@code id} with granules of {@code granularityBytes} ({@code BLKCBTSTART};
   * ploop's default block size is 64 KiB). It is saved into the top delta at a clean close.
   *
   * @throws IllegalStateException if a CBT runs already (the kernel's EBUSY)
   * @throws IOException if the disk is read-only or closed
   */
  public ChangedBlockTracker startCbt(UUID id, long granularityBytes) throws IOException {
    ChangedBlockTracker t = new ChangedBlockTracker(id, sizeBytes, granularityBytes);
    adoptCbt(t);
    return t;
  }

  /**
   * Makes {@code t} the disk's CBT: one {@link #stopCbt() stopped} on the disk's previous
   * incarnation (an online operation closes and reopens the engine; the kernel keeps CBT across
   * table reloads), or one received with a copy.
   *
   * @throws IllegalStateException if a CBT runs already
   * @throws IllegalArgumentException if {@code t} has no name or covers another size
   * @throws IOException if the disk is read-only or closed
   */
  public synchronized void adoptCbt(ChangedBlockTracker t) throws IOException {
    gate.checkWritable();
    if (gate.closing()) {
      throw new IOException(name + ": disk is closed");
    }
    if (t.id() == null) {
      throw new IllegalArgumentException("a CBT needs a UUID");
    }
    checkSize(t);
    if (cbt != null) {
      throw new IllegalStateException("CBT " + cbt.id() + " is already running");
    }
    cbt = t;
  }

  /**
   * Stops the CBT ({@code BLKCBTSTOP}): nothing more is marked and nothing is saved at close.
   * Returns it (to hand to a reopened disk with {@link #adoptCbt}), empty if none ran.
   */
  public synchronized Optional<ChangedBlockTracker> stopCbt() {
    ChangedBlockTracker c = cbt;
    cbt = null;
    return Optional.ofNullable(c);
  }

  /**
   * Starts an unnamed tracker for a live-copy sender: from now on every completed write, punch and
   * zero-range marks it, until {@link #stopTracking}. The sender takes the dirty set with {@link
   * ChangedBlockTracker#takeAndClear()} (atomic per word: a write completing meanwhile is either in
   * that set or in the next), then reads what it names through {@link PloopDisk#read}.
   */
  public synchronized ChangedBlockTracker startTracking(long granularityBytes) {
    ChangedBlockTracker t = new ChangedBlockTracker(null, sizeBytes, granularityBytes);
    ChangedBlockTracker[] next = Arrays.copyOf(senders, senders.length + 1);
    next[senders.length] = t;
    senders = next;
    return t;
  }

  /** Stops a tracker of {@link #startTracking}; returns whether it was running. */
  public synchronized boolean stopTracking(ChangedBlockTracker t) {
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

  /**
   * Returns why a CBT found in the top could not be loaded at open, or could not be saved at close
   * (ploop only logs these: the disk works without CBT); for the caller's log.
   */
  public List<String> problems() {
    return List.copyOf(problems);
  }

  private void checkSize(ChangedBlockTracker t) {
    if (t.sizeBytes() != sizeBytes) {
      throw new IllegalArgumentException(
          "tracker covers " + t.sizeBytes() + " bytes, the disk has " + sizeBytes);
    }
  }
}
