package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.jploop.host.BalloonFile;
import org.jploop.host.MountException;
import org.jploop.io.FileUsage;

/**
 * ploop's {@code struct ploop_discard_stat} ({@code ploop_discard_get_stat_by_dev}): what {@code
 * ploop-balloon discard --stat} prints and {@code vzctl compact} logs before and after. {@code
 * ploop} = disk size minus the balloon; {@code image} = bytes the top delta takes on the host
 * ({@code st_blocks × 512}, what {@code du} counts); {@code data} = {@code ploop} minus the
 * filesystem's free space; {@code balloon} = the hidden balloon's size. Immutable.
 *
 * @param balloonBytes the balloon's size
 * @param dataBytes what the filesystem holds
 * @param ploopBytes the disk less the balloon
 * @param imageBytes the top delta's space on the host
 */
public record DiscardStat(long balloonBytes, long dataBytes, long ploopBytes, long imageBytes) {

  /** Measures the disk whose filesystem is mounted (the attachment has a mount point). */
  public static DiscardStat measure(DiskAttachment a) throws IOException {
    Path balloon = BalloonFile.pathIn(a.mountPoint());
    long b;
    try {
      b = Files.size(balloon);
    } catch (IOException e) {
      throw new MountException(
          MountException.Reason.BALLOON_OPEN,
          "Cannot open balloon at " + a.mountPoint() + ": " + e.getMessage(),
          e);
    }
    FileStore fs = Files.getFileStore(a.mountPoint());
    long ploop = a.diskBytes() - b;
    return new DiscardStat(
        b, ploop - fs.getUnallocatedSpace(), ploop, FileUsage.bytesOnDisk(a.topImage()));
  }

  /** The four lines of {@code ploop-balloon discard --stat}. */
  public List<String> statLines() {
    return List.of(
        String.format(Locale.ROOT, "Balloon size: %8dMB", balloonBytes >> 20),
        String.format(Locale.ROOT, "Data size:    %8dMB", dataBytes >> 20),
        String.format(Locale.ROOT, "Ploop size:   %8dMB", ploopBytes >> 20),
        String.format(Locale.ROOT, "Image size:   %8dMB", imageBytes >> 20));
  }

  /** The line {@code ploop_compact} logs: {@code ploop=..MB image=..MB data=..MB balloon=..MB}. */
  public String compactLine() {
    return "ploop="
        + (ploopBytes >> 20)
        + "MB image="
        + (imageBytes >> 20)
        + "MB data="
        + (dataBytes >> 20)
        + "MB balloon="
        + (balloonBytes >> 20)
        + "MB";
  }

  /** Returns ploop_compact's rate: the share of the disk the image holds beyond the data, %. */
  public double rate() {
    return Math.max(0, (double) (imageBytes - dataBytes) / ploopBytes * 100);
  }
}
