package org.jploop.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jploop.io.LibC;

/**
 * ploop's trim ladder ({@code ploop_trim}, ploop-verbs-2.md §1.8): {@code syncfs}, then {@code
 * FITRIM} over the whole mounted filesystem with a minimum extent length that starts at 32 clusters
 * and halves on every pass down to the floor, the last pass exactly at the floor. The floor is the
 * cluster, or {@code --min-block} rounded up to clusters, or the discard granularity of the host
 * disk holding the image, whichever is largest; if the kernel raises {@code minlen} (the device's
 * own granularity) that becomes the floor. Large free extents go first, so a {@code --to-free}
 * target is met with the least fragmentation of the image.
 *
 * <p>Through a jploop disk each FITRIM becomes loop discards, then {@code fallocate(PUNCH_HOLE)} on
 * {@code disk.img}, which the engine turns into BAT holes: the clusters leave the image file and
 * {@code du} drops. Stateless; the caller's {@code stop} is asked after every pass.
 */
public final class TrimLadder {
  /** _IOWR('X', 121, struct fstrim_range): three u64, start, len, minlen. */
  static final long FITRIM = 0xC0185879L;

  /** ploop's MAX_DISCARD_CLU: extents this large are trimmed first. */
  static final int MAX_DISCARD_CLU = 32;

  /**
   * One FITRIM call.
   *
   * @param minlen the minimum extent length asked, bytes
   * @param trimmedBytes bytes the filesystem reported as trimmed
   */
  public record Pass(long minlen, long trimmedBytes) {}

  /** One FITRIM call on a filesystem: returns {trimmed bytes, minlen as the kernel left it}. */
  @FunctionalInterface
  public interface Fitrim {
    long[] trim(long minlen) throws IOException;
  }

  private final Consumer<String> out;

  /** Prints ploop's "Call FITRIM" lines on {@code out}. */
  public TrimLadder(Consumer<String> out) {
    this.out = out;
  }

  /**
   * Runs the ladder on the filesystem mounted at {@code mountPoint}; {@code stop} is asked after
   * each pass (a {@code --to-free} target reached).
   *
   * @throws MountException TRIM_FAILED with ploop's "Can't trim file system" if FITRIM fails
   */
  public List<Pass> run(
      Path mountPoint, long clusterBytes, long minBlock, long granularity, BooleanSupplier stop)
      throws IOException {
    ServingProcess.refuseSelfIo("FITRIM on " + mountPoint);
    LibC.Native c = LibC.get();
    int fd = c.open(mountPoint.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
    if (fd < 0) {
      throw new MountException(
          MountException.Reason.TRIM_FAILED,
          "Can't open mount point " + mountPoint + ": " + LibC.describe(LibC.errno()));
    }
    try {
      c.syncfs(fd);
      return run(minlen -> fitrim(fd, minlen), clusterBytes, minBlock, granularity, stop);
    } finally {
      c.close(fd);
    }
  }

  /**
   * The ladder over any {@link Fitrim} (tests use a fake one). ploop's loop runs the floor pass
   * twice when the floor is a power-of-two fraction of the start (32M ... 2M, 1M, 1M); this one
   * stops after the first pass at the floor.
   */
  public List<Pass> run(
      Fitrim fitrim, long clusterBytes, long minBlock, long granularity, BooleanSupplier stop)
      throws IOException {
    long floor = floor(clusterBytes, minBlock, granularity);
    long minlen = Math.max(MAX_DISCARD_CLU * clusterBytes, floor);
    List<Pass> passes = new ArrayList<>();
    while (true) {
      out.accept("Call FITRIM, for minlen=" + minlen);
      long[] r = fitrim.trim(minlen);
      passes.add(new Pass(minlen, r[0]));
      if (stop.getAsBoolean()) {
        break;
      }
      if (r[1] > minlen) {
        floor = Math.max(floor, r[1]); // the kernel raised it: its granularity is the floor
      }
      if (minlen <= floor) {
        break;
      }
      minlen = Math.max(minlen / 2, floor);
    }
    return passes;
  }

  /** Returns the smallest minlen of the ladder, as ploop computes it. */
  static long floor(long clusterBytes, long minBlock, long granularity) {
    long f =
        minBlock < clusterBytes
            ? clusterBytes
            : (minBlock + clusterBytes - 1) / clusterBytes * clusterBytes;
    return Math.max(f, granularity);
  }

  private static long[] fitrim(int fd, long minlen) throws MountException {
    byte[] range = new byte[24];
    ByteBuffer b = ByteBuffer.wrap(range).order(ByteOrder.nativeOrder());
    b.putLong(0, 0).putLong(8, -1L).putLong(16, minlen); // len = ULLONG_MAX
    if (LibC.get().ioctl(fd, FITRIM, range) != 0) {
      throw new MountException(
          MountException.Reason.TRIM_FAILED,
          "Can't trim file system: " + LibC.describe(LibC.errno()));
    }
    return new long[] {b.getLong(8), b.getLong(16)};
  }

  /**
   * Returns the discard granularity of the host disk holding {@code image} (sysfs {@code
   * queue/discard_granularity}, of the parent disk for a partition), or {@code clusterBytes} when
   * there is none or it is 0 (a virtual filesystem, a disk without discard).
   */
  public static long discardGranularity(Path image, long clusterBytes) {
    try {
      long dev = (Long) Files.getAttribute(image, "unix:dev");
      long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
      long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
      Path sys = Path.of("/sys/dev/block", major + ":" + minor);
      if (!Files.exists(sys)) {
        return clusterBytes;
      }
      Path real = sys.toRealPath();
      Path disk = Files.exists(real.resolve("partition")) ? real.getParent() : real;
      Path g = disk.resolve("queue/discard_granularity");
      long v = Files.exists(g) ? Long.parseLong(Files.readString(g).strip()) : 0;
      return v == 0 ? clusterBytes : v;
    } catch (IOException | RuntimeException e) {
      return clusterBytes;
    }
  }
}
