package org.jploop.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Makes the filesystem of a new disk as {@code ploop init -t} does (image-format.md §9.4 step 8) on
 * its served {@code disk.img}: writes a GPT with one partition from {@code blocksize} sectors to
 * the aligned end (parted + sgdisk on {@code disk.img}), attaches a loop device with partition
 * scan, runs mkfs on partition 1 (ext4: {@code -j -b4096 -Elazy_itable_init=1,resize=.. -Jsize=128}
 * plus tune2fs; xfs: {@code mkfs.xfs -b size=4096}), creates the hidden balloon file and detaches
 * the loop device. Serving the disk around it is the caller's job. Stateless.
 */
public final class FilesystemMaker {
  /** ploop's hidden balloon file at the filesystem root. */
  public static final String BALLOON_FILE = ".balloon-c3a5ae3d-ce7f-43c4-a1ea-c61e2b4504e8";

  /** ploop's filesystem size limit for resize= (50 TiB). */
  private static final long MAX_FS_BYTES = 50L << 40;

  private static final int FS_BLOCK = 4096;

  /**
   * ploop's {@code -Jsize=128} is refused by mke2fs on small filesystems ("Total journal size too
   * big"); below this size mke2fs picks the journal size itself.
   */
  private static final long MIN_BYTES_FOR_128M_JOURNAL = 1L << 30;

  private static final long MKFS_TIMEOUT_S = 3600;

  private final EventLog log;

  public FilesystemMaker(EventLog log) {
    this.log = log;
  }

  /** Returns whether {@code fsType} is one this class can make ({@code ext4, ext3, xfs}). */
  public static boolean supported(String fsType) {
    return List.of("ext4", "ext3", "xfs").contains(fsType.toLowerCase(Locale.ROOT));
  }

  /**
   * Partitions the disk served as {@code img} ({@code sizeSectors} long, {@code blocksizeSectors}
   * clusters) and makes an {@code fsType} filesystem on it, optionally labelled.
   */
  public void make(Path img, String fsType, long sizeSectors, long blocksizeSectors, String label)
      throws IOException {
    if (!supported(fsType)) {
      throw new MountException(
          MountException.Reason.MKFS_FAILED,
          "Unsupported filesystem type " + fsType + " (ext4, ext3, xfs or none)");
    }
    LoopDevice loop = null;
    IOException failure = null;
    try {
      partition(img, sizeSectors, blocksizeSectors);
      loop = LoopDevice.attach(img, false);
      String part = loop.filesystemDevice();
      if (part.equals(loop.device())) {
        throw new MountException(
            MountException.Reason.MKFS_FAILED,
            "Partition 1 did not appear on " + loop.device() + " after partitioning " + img);
      }
      mkfs(
          part,
          fsType.toLowerCase(Locale.ROOT),
          label,
          partitionEnd(sizeSectors, blocksizeSectors) - blocksizeSectors);
      createBalloon(part);
    } catch (IOException e) {
      failure = e;
    } finally {
      try {
        if (loop != null) {
          loop.detach();
        }
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure instanceof MountException
          ? failure
          : new MountException(MountException.Reason.MKFS_FAILED, failure.getMessage(), failure);
    }
  }

  /**
   * Writes ploop's GPT: partition 1 from {@code blocksize} to {@code floor((size - blocksize) /
   * blocksize) * blocksize} rounded down to 8 sectors (exclusive).
   */
  static void partition(Path img, long sizeSectors, long blocksizeSectors) throws IOException {
    long start = blocksizeSectors;
    long end = partitionEnd(sizeSectors, blocksizeSectors);
    run(60, "parted", "-s", img.toString(), "mklabel", "gpt");
    run(60, "sgdisk", "-n", "1:" + start + ":" + (end - 1), img.toString());
  }

  /** Returns the partition's end sector (exclusive), as ploop computes it. */
  static long partitionEnd(long sizeSectors, long blocksizeSectors) {
    return (sizeSectors - blocksizeSectors) / blocksizeSectors * blocksizeSectors & ~7L;
  }

  private void mkfs(String part, String fsType, String label, long partSectors) throws IOException {
    List<String> argv = new ArrayList<>();
    if (fsType.equals("xfs")) {
      argv.add("mkfs.xfs");
      if (label != null) {
        argv.addAll(List.of("-L", label));
      }
      argv.addAll(List.of("-b", "size=" + FS_BLOCK, part));
    } else {
      argv.addAll(List.of("mkfs", "-t", fsType, "-j"));
      if (label != null) {
        argv.addAll(List.of("-L", label));
      }
      argv.addAll(
          List.of("-b" + FS_BLOCK, "-Elazy_itable_init=1,resize=" + (MAX_FS_BYTES / FS_BLOCK)));
      if (partSectors * 512 >= MIN_BYTES_FOR_128M_JOURNAL) {
        argv.add("-Jsize=128");
      }
      argv.add(part);
    }
    log.info("making the filesystem: " + String.join(" ", argv));
    run(MKFS_TIMEOUT_S, argv.toArray(String[]::new));
    if (!fsType.equals("xfs")) {
      run(60, "tune2fs", "-ouser_xattr,acl", "-c0", "-i0", "-eremount-ro", part);
    }
  }

  private static void createBalloon(String part) throws IOException {
    Path dir = Files.createTempDirectory("jploop-init");
    try {
      run(120, "mount", part, dir.toString());
      try {
        Path b = dir.resolve(BALLOON_FILE);
        Files.createFile(
            b, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } finally {
        run(120, "umount", dir.toString());
      }
    } finally {
      Files.deleteIfExists(dir);
    }
  }

  private static void run(long timeout, String... argv) throws IOException {
    HostCommand c = HostCommand.run(timeout, argv);
    if (!c.ok()) {
      throw new MountException(MountException.Reason.MKFS_FAILED, c.describeFailure());
    }
  }
}
