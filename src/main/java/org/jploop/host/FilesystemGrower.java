package org.jploop.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * After an online grow of the image, grows what sits on {@code disk.img}, as ploop does after
 * growing the device: waits until {@code stat disk.img} shows the new size (the caller has told the
 * front end, which invalidated the kernel's cached attributes or lets them expire), refreshes the
 * loop device's capacity ({@code losetup -c}), grows GPT partition 1 to ploop's end keeping its
 * start, type and unique GUID ({@code sgdisk -e -d 1 -n ...}), tells the kernel ({@code partx -u})
 * and grows the mounted filesystem ({@code resize2fs} for ext*, {@code xfs_growfs} for xfs). A step
 * that cannot be done ends the sequence with a message saying what the user has to do; the image
 * itself has already grown. Stateless.
 */
public final class FilesystemGrower {
  private static final long SIZE_WAIT_MS = 10_000;

  private final EventLog log;

  public FilesystemGrower(EventLog log) {
    this.log = log;
  }

  /**
   * Grows the loop devices, partition and filesystem over {@code img} (a served {@code disk.img})
   * to a disk of {@code sectors}; returns one line saying what was done.
   */
  public String grow(Path img, long sectors, long blocksizeSectors) throws IOException {
    long bytes = sectors * 512;
    waitForSize(img, bytes);
    List<LoopDevice> loops = LoopDevice.backedBy(img);
    if (loops.isEmpty()) {
      return "(no loop device attached: only the image was grown)";
    }
    StringBuilder done = new StringBuilder();
    for (LoopDevice loop : loops) {
      String dev = loop.device();
      HostCommand.runChecked(60, "losetup", "-c", dev);
      log.info("online resize: " + dev + " capacity refreshed");
      String fsDev = dev;
      String name = Path.of(dev).getFileName().toString();
      Path sysPart = Path.of("/sys/block", name, name + "p1");
      if (Files.exists(sysPart)) {
        fsDev = growPartition(dev, sysPart, sectors, blocksizeSectors);
      }
      done.append(growFilesystem(fsDev));
    }
    return done.toString().strip();
  }

  /** Waits until {@code stat disk.img} (a FUSE getattr once the cache is invalid) shows it. */
  private static void waitForSize(Path img, long bytes) throws IOException {
    long deadline = System.currentTimeMillis() + SIZE_WAIT_MS;
    while (Files.size(img) != bytes) {
      if (System.currentTimeMillis() > deadline) {
        throw new MountException(
            MountException.Reason.RESIZE_FS,
            "The kernel still shows "
                + img
                + " with "
                + Files.size(img)
                + " bytes instead of "
                + bytes);
      }
      LoopDevice.sleep(100);
    }
  }

  /** Re-creates partition 1 up to ploop's end with its start, type and GUID; returns its device. */
  public String growPartition(String dev, Path sysPart, long sectors, long blocksize)
      throws IOException {
    long start = Long.parseLong(Files.readString(sysPart.resolve("start")).strip());
    long end = FilesystemMaker.partitionEnd(sectors, blocksize);
    HostCommand info = HostCommand.runChecked(60, "sgdisk", "-i", "1", dev);
    String type = field(info.stdout(), "Partition GUID code:");
    String uuid = field(info.stdout(), "Partition unique GUID:");
    List<String> argv =
        new java.util.ArrayList<>(
            List.of("sgdisk", "-e", "-d", "1", "-n", "1:" + start + ":" + (end - 1)));
    if (type != null) {
      argv.addAll(List.of("-t", "1:" + type));
    }
    if (uuid != null) {
      argv.addAll(List.of("-u", "1:" + uuid));
    }
    argv.add(dev);
    HostCommand c = HostCommand.run(60, argv.toArray(String[]::new));
    if (!c.ok()) {
      throw new MountException(
          MountException.Reason.RESIZE_FS,
          "The image and "
              + dev
              + " have grown, but partition 1 could not be grown ("
              + c.describeFailure()
              + "); grow it and the filesystem by hand");
    }
    HostCommand p = HostCommand.run(60, "partx", "-u", "--nr", "1", dev);
    if (!p.ok()) {
      throw new MountException(
          MountException.Reason.RESIZE_FS,
          "Partition 1 of "
              + dev
              + " has grown on disk but the kernel was not told ("
              + p.describeFailure()
              + "); run partx -u "
              + dev
              + " and grow the filesystem by hand");
    }
    log.info("online resize: " + dev + " partition 1 now " + start + ".." + (end - 1));
    return dev + "p1";
  }

  /** Returns whether this process has CAP_SYS_RESOURCE (bit 24 of CapEff). */
  public static boolean hasSysResource() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << 24)) != 0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return true;
    }
    return true;
  }

  /** Returns the first word after {@code key} in sgdisk's output, or null. */
  static String field(String text, String key) {
    for (String line : text.split("\n")) {
      int i = line.indexOf(key);
      if (i >= 0) {
        String[] w = line.substring(i + key.length()).strip().split("\\s+");
        return w.length > 0 && !w[0].isEmpty() ? w[0] : null;
      }
    }
    return null;
  }

  /** Grows the filesystem mounted from {@code fsDev}; returns what was done. */
  private String growFilesystem(String fsDev) throws IOException {
    Optional<MountTable.Entry> m = MountTable.fromDevice(fsDev).stream().findFirst();
    if (m.isEmpty()) {
      return "(" + fsDev + " grown; no filesystem mounted from it, so none was resized)";
    }
    String fs = m.get().fsType();
    HostCommand c;
    if (fs.startsWith("ext")) {
      c = HostCommand.run(3600, "resize2fs", fsDev);
    } else if (fs.equals("xfs")) {
      c = HostCommand.run(3600, "xfs_growfs", m.get().mountPoint());
    } else {
      return "("
          + fsDev
          + " grown; "
          + fs
          + " on "
          + m.get().mountPoint()
          + " must be grown by hand)";
    }
    if (!c.ok()) {
      String hint =
          fs.startsWith("ext") && !hasSysResource()
              ? "; the kernel lets only a process with CAP_SYS_RESOURCE grow ext4 online and this one"
                  + " lacks it"
              : "";
      throw new MountException(
          MountException.Reason.RESIZE_FS,
          "The image and "
              + fsDev
              + " have grown, but the "
              + fs
              + " filesystem could not be: "
              + c.describeFailure()
              + hint);
    }
    log.info("online resize: " + fs + " on " + m.get().mountPoint() + " grown");
    return fs + " on " + m.get().mountPoint() + " grown";
  }
}
