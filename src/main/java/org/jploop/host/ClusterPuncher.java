package org.jploop.host;

import java.io.IOException;
import java.nio.file.Path;
import org.jploop.io.LibC;

/**
 * Releases whole clusters of a served disk by punching them through its {@code disk.img}: {@code
 * fallocate(PUNCH_HOLE|KEEP_SIZE)} on the file, which FUSE hands to the engine as a discard (a
 * cluster of the top delta becomes a BAT hole and leaves the image file). Going through the kernel
 * keeps its page cache of {@code disk.img} coherent. A range is first shrunk inward to whole
 * clusters, as ploop does with the balloon's extents: a partial cluster may hold live data of
 * another file. Not thread-safe; one instance per operation, closed after.
 */
public final class ClusterPuncher implements AutoCloseable {
  private final Path diskImage;
  private final long clusterBytes;
  private final int fd;

  /** Clusters asked to be punched so far. */
  private long punched;

  /** Opens {@code diskImage} (a served disk.img) for punching clusters of {@code clusterBytes}. */
  public ClusterPuncher(Path diskImage, long clusterBytes) throws IOException {
    ServingProcess.refuseSelfIo("Punching clusters of " + diskImage);
    this.diskImage = diskImage;
    this.clusterBytes = clusterBytes;
    this.fd = LibC.get().open(diskImage.toString(), LibC.O_RDWR | LibC.O_CLOEXEC, 0);
    if (fd < 0) {
      throw new IOException("Can't open " + diskImage + ": " + LibC.describe(LibC.errno()));
    }
  }

  /** Returns the first whole cluster at or after byte {@code start} of the disk. */
  public long firstCluster(long start) {
    return (start + clusterBytes - 1) / clusterBytes;
  }

  /** Returns the cluster after the last whole cluster ending at or before byte {@code end}. */
  public long endCluster(long end) {
    return end / clusterBytes;
  }

  /**
   * Punches the whole clusters inside disk bytes {@code [start, end)}; returns how many clusters
   * that is (whether or not each was allocated).
   */
  public long punchInside(long start, long end) throws IOException {
    long first = firstCluster(start);
    long last = endCluster(end);
    if (last <= first) {
      return 0;
    }
    int mode = LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE;
    if (LibC.get().fallocate(fd, mode, first * clusterBytes, (last - first) * clusterBytes) != 0) {
      throw new IOException(
          "Can't punch clusters "
              + first
              + ".."
              + (last - 1)
              + " of "
              + diskImage
              + ": "
              + LibC.describe(LibC.errno()));
    }
    punched += last - first;
    return last - first;
  }

  /** Returns the clusters punched so far. */
  public long punched() {
    return punched;
  }

  @Override
  public void close() {
    LibC.get().close(fd);
  }
}
