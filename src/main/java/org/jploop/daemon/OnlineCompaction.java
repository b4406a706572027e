package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.Path;
import org.jploop.engine.DiskStats;

/**
 * The engine steps the {@code ploop} process asks of a mount daemon while it does the filesystem
 * work itself (balloon, FITRIM, resize2fs; the daemon must not, see {@link
 * org.jploop.host.ServingProcess}): the engine's counters ({@code status}) and an online {@code
 * compact} under the daemon's suspend gate, measured as the bytes it cut off the top delta.
 * Immutable; every call is one control request.
 *
 * @param status the daemon's status when the operation began
 * @param top the top delta's file
 */
public record OnlineCompaction(MountStatus status, Path top)
    implements BalloonDiscard.Compaction, BalloonRelease.FreedCounter {

  /** The compaction of the disk {@code a} is attached to. */
  public static OnlineCompaction of(DiskAttachment a) throws IOException {
    return new OnlineCompaction(a.status(), a.topImage());
  }

  /** Returns the engine's counters as the daemon reports them now. */
  public DiskStats stats() throws IOException {
    return MountStatus.fromJson(DiskMounter.requestOk(status, "status")).stats();
  }

  @Override
  public long clustersFreed() throws IOException {
    return stats().clustersFreed();
  }

  /**
   * Compacts online; returns the bytes the top delta lost, from where its used clusters ended
   * before to its new length ({@link OnlineOperations#truncatedBytes}).
   */
  @Override
  public long truncatedBytes() throws IOException {
    long usedEnd = stats().preallocatedAreaStart();
    return OnlineOperations.truncatedBytes(DiskMounter.requestOk(status, "compact"), top, usedEnd);
  }
}
