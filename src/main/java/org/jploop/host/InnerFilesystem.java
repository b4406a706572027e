package org.jploop.host;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The filesystem on a disk's partition (or whole device) and the host tools ploop runs on it
 * (lib/fsutils.c): {@code blkid} for its type, {@code dumpe2fs -h} / {@code xfs_info} for its size,
 * {@code fsck.ext4 -p -f}, {@code resize2fs -p DEV NNNk} (size aligned down to 4 KiB, as ploop's
 * resize_ext4), {@code resize2fs -P} for the smallest size the data allows, {@code tune2fs -r} for
 * the reserved blocks and {@code blkdiscard} for a freed tail. Immutable; every call runs the tool
 * afresh.
 *
 * @param device e.g. {@code /dev/loop3p1}
 * @param type what blkid reports ({@code ext4}, {@code xfs}...), empty when none was found
 */
public record InnerFilesystem(String device, String type) {
  private static final long TOOL_TIMEOUT_S = 3600;

  /**
   * The filesystem's size.
   *
   * @param blockCount blocks (xfs: minus 8 per allocation group, as ploop's dump_xfs)
   * @param blockSize bytes per block
   * @param freeBlocks free blocks (ext only; 0 for xfs)
   */
  public record Geometry(long blockCount, long blockSize, long freeBlocks) {
    /** Returns the size in 512-byte sectors. */
    public long sectors() {
      return blockCount * (blockSize / 512);
    }
  }

  /** Probes the type of the filesystem on {@code device} ({@code blkid -p}). */
  public static InnerFilesystem probe(String device) throws IOException {
    HostCommand c = HostCommand.run(60, "blkid", "-p", "-o", "value", "-s", "TYPE", device);
    return new InnerFilesystem(device, c.ok() ? c.stdout().strip() : "");
  }

  /** Returns whether it is ext2/3/4. */
  public boolean ext() {
    return type.startsWith("ext");
  }

  /** Returns whether it is xfs. */
  public boolean xfs() {
    return type.equals("xfs");
  }

  /** Returns its size from the superblock. */
  public Geometry geometry() throws IOException {
    if (xfs()) {
      String out = HostCommand.runChecked(60, "xfs_info", device).stdout();
      long ag = number(out, "agcount=(\\d+)", 1);
      long bsize = number(out, "data\\s+=\\s+bsize=(\\d+)", -1);
      long blocks = number(out, "data\\s+=\\s+bsize=\\d+\\s+blocks=(\\d+)", -1);
      if (bsize < 0 || blocks < 0) {
        throw new IOException("Not enough data: from xfs_info " + device);
      }
      return new Geometry(blocks - ag * 8, bsize, 0);
    }
    String out = HostCommand.runChecked(60, "dumpe2fs", "-h", device).stdout();
    return parseDumpe2fs(out, device);
  }

  /** Parses {@code dumpe2fs -h} output. */
  static Geometry parseDumpe2fs(String out, String device) throws IOException {
    long count = number(out, "(?m)^Block count:\\s+(\\d+)", -1);
    long size = number(out, "(?m)^Block size:\\s+(\\d+)", -1);
    long free = number(out, "(?m)^Free blocks:\\s+(\\d+)", -1);
    if (count < 0 || size < 0 || free < 0) {
      throw new IOException("Not enough data: dumpe2fs -h " + device);
    }
    return new Geometry(count, size, free);
  }

  private static long number(String text, String regex, long otherwise) {
    Matcher m = Pattern.compile(regex).matcher(text);
    return m.find() ? Long.parseLong(m.group(1)) : otherwise;
  }

  /**
   * {@code fsck.ext4 -p -f} (ploop's fsck with E2FSCK_FORCE|E2FSCK_PREEN); exit codes below 4
   * (nothing wrong, errors corrected) are success. Not for xfs (ploop runs no repair there).
   *
   * @throws MountException FSCK_FAILED with ploop's "e2fsck failed (exit code N)"
   */
  public void fsck() throws IOException {
    if (!ext()) {
      return;
    }
    HostCommand c = HostCommand.run(TOOL_TIMEOUT_S, "fsck.ext4", "-p", "-f", device);
    if (c.exitCode() < 0 || c.exitCode() >= 4) {
      throw new MountException(
          MountException.Reason.FSCK_FAILED,
          "e2fsck failed (exit code "
              + c.exitCode()
              + ") on "
              + device
              + ": "
              + c.describeFailure());
    }
  }

  /**
   * Returns the size of the file at {@code path} (absolute inside the filesystem) of an unmounted
   * ext filesystem, read with {@code debugfs -c} (catastrophic mode: read-only, no journal); 0 if
   * there is no such file.
   */
  public long fileSizeOffline(String path) throws IOException {
    HostCommand c = HostCommand.run(300, "debugfs", "-c", "-R", "stat " + path, device);
    return c.ok() ? number(c.stdout(), "Size:\\s+(\\d+)", 0) : 0;
  }

  /** Returns the smallest size in blocks the data allows ({@code resize2fs -P}). */
  public long minimumBlocks() throws IOException {
    String out = HostCommand.runChecked(TOOL_TIMEOUT_S, "resize2fs", "-P", device).stdout();
    long n = number(out, "minimum size of the filesystem:\\s+(\\d+)", -1);
    if (n < 0) {
      throw new IOException("resize2fs -P " + device + " printed no minimum size: " + out.strip());
    }
    return n;
  }

  /**
   * {@code resize2fs -p DEVICE <KiB>k} to {@code sectors} aligned down to 4 KiB, or to fill the
   * device when {@code sectors} is 0.
   *
   * @throws MountException RESIZE_FS with the tool's message
   */
  public void resize(long sectors) throws IOException {
    List<String> argv = new ArrayList<>(List.of("resize2fs", "-p", device));
    if (sectors > 0) {
      argv.add(((sectors >> 3 << 3) >> 1) + "k");
    }
    HostCommand c = HostCommand.run(TOOL_TIMEOUT_S, argv.toArray(String[]::new));
    if (!c.ok()) {
      throw new MountException(MountException.Reason.RESIZE_FS, c.describeFailure());
    }
  }

  /**
   * ploop's tune_fs: reserved blocks to 5 % of a filesystem of {@code sectors} ({@code tune2fs -r};
   * the VZ kernel's EXT4_IOC_SET_RSV_BLOCKS does not exist on a stock kernel). Returns the count
   * set, 0 for xfs.
   */
  public long setReservedBlocks(long sectors, long blockSize) throws IOException {
    if (!ext()) {
      return 0;
    }
    long blocks = sectors / 100 * 5 * 512 / blockSize;
    if (blocks == 0) {
      throw new IOException("Can't set reserved blocks for size " + sectors);
    }
    HostCommand.runChecked(60, "tune2fs", "-r", Long.toString(blocks), device);
    return blocks;
  }

  /** Discards bytes {@code [from, to)} of the device ({@code blkdiscard}, ploop's BLKDISCARD). */
  public void discard(long from, long to) throws IOException {
    if (to <= from) {
      return;
    }
    HostCommand.runChecked(
        TOOL_TIMEOUT_S,
        "blkdiscard",
        "-o",
        Long.toString(from),
        "-l",
        Long.toString(to - from),
        device);
  }
}
