package org.jploop.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A loop block device over {@code disk.img}, attached with {@code losetup --direct-io=on -P} (the
 * mode that performs best over FUSE, see the jnr-fuse notes) so partitions appear as {@code
 * /dev/loopNpM}. Lookups read {@code /sys/block/loop*}{@code /loop/backing_file} instead of calling
 * {@code losetup -j}, which would stat the file and fail on a dead FUSE mount.
 *
 * @param device e.g. {@code /dev/loop3}
 */
public record LoopDevice(String device) {
  private static final Path SYS_BLOCK = Path.of("/sys/block");

  /** Attaches a new loop device to {@code file} and returns it. */
  public static LoopDevice attach(Path file, boolean readOnly) throws IOException {
    List<String> argv =
        new ArrayList<>(List.of("losetup", "--find", "--show", "--direct-io=on", "--partscan"));
    if (readOnly) {
      argv.add("--read-only");
    }
    argv.add(file.toString());
    HostCommand c = HostCommand.run(60, argv.toArray(String[]::new));
    if (!c.ok()) {
      throw new MountException(MountException.Reason.MOUNT_FAILED, c.describeFailure());
    }
    return new LoopDevice(c.stdout().strip());
  }

  /** Returns the loop devices whose backing file is {@code file}. */
  public static List<LoopDevice> backedBy(Path file) throws IOException {
    String want = file.toAbsolutePath().normalize().toString();
    List<LoopDevice> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(SYS_BLOCK, "loop*")) {
      for (Path dev : ds) {
        Path bf = dev.resolve("loop/backing_file");
        if (!Files.exists(bf)) {
          continue;
        }
        String backing = Files.readString(bf, StandardCharsets.UTF_8).strip();
        if (backing.endsWith(" (deleted)")) {
          backing = backing.substring(0, backing.length() - " (deleted)".length());
        }
        if (backing.equals(want)) {
          out.add(new LoopDevice("/dev/" + dev.getFileName()));
        }
      }
    }
    return out;
  }

  /**
   * Returns the block device holding the filesystem: partition 1 if the disk has a partition table
   * (ploop's layout: GPT, one partition at 1 MiB), else the whole device. Partitions are added with
   * {@code partx -a} when the kernel's own scan found none: kernels built without GPT support (this
   * machine's, for one) leave that to user space.
   */
  public String filesystemDevice() throws IOException {
    String name = Path.of(device).getFileName().toString();
    Path sysPart = SYS_BLOCK.resolve(name).resolve(name + "p1");
    if (!Files.exists(sysPart)) {
      HostCommand.run(60, "partx", "-a", device);
    }
    if (!Files.exists(sysPart)) {
      return device;
    }
    Path part = Path.of(device + "p1");
    for (int i = 0; i < 100 && !Files.exists(part); i++) {
      sleep(50);
    }
    if (!Files.exists(part)) {
      throw new MountException(
          MountException.Reason.MOUNT_FAILED,
          "Partition " + part + " did not appear after attaching " + device);
    }
    return part.toString();
  }

  /**
   * Detaches the device, retrying while the kernel still reports it busy. A device that a process
   * holds open (fio, dd, a VM; found in /proc/PID/fd, asked again for a second so that udev's short
   * probes pass) is refused with BUSY before anything is done: the kernel would only mark it to
   * detach at its last close, {@code losetup -d} would succeed all the same, and the change
   * disturbs the I/O in progress (fio's verify fails, also on a plain file). If the device is still
   * attached after a successful {@code losetup -d} (opened meanwhile, or by the kernel), this waits
   * a moment (udev's probes close quickly) and throws BUSY too: the device then detaches itself
   * once closed.
   */
  public void detach() throws IOException {
    List<String> users = openers();
    for (int i = 0; i < 10 && !users.isEmpty(); i++) {
      sleep(100);
      users = openers();
    }
    if (!users.isEmpty()) {
      throw new MountException(
          MountException.Reason.BUSY,
          device
              + " is in use by "
              + String.join(", ", users)
              + "; stop "
              + (users.size() == 1 ? "it" : "them")
              + " and unmount again");
    }
    HostCommand c = null;
    for (int i = 0; i < 50; i++) {
      c = HostCommand.run(60, "losetup", "-d", device);
      if (c.ok() || !isAttached()) {
        break;
      }
      sleep(100);
    }
    if (c != null && !c.ok() && isAttached()) {
      throw new MountException(MountException.Reason.UMOUNT_FAILED, c.describeFailure());
    }
    for (int i = 0; i < 10 && isAttached(); i++) {
      sleep(100);
    }
    if (isAttached()) {
      throw new MountException(
          MountException.Reason.BUSY,
          device
              + " is in use by another"
              + " process; it will detach itself when closed, then unmount again");
    }
  }

  /**
   * Returns the processes that hold this device or one of its partitions open, as "pid N
   * (command)", from the /proc/PID/fd links; processes that vanish meanwhile are skipped.
   */
  public List<String> openers() throws IOException {
    List<String> out = new ArrayList<>();
    Pattern mine = Pattern.compile(Pattern.quote(device) + "(p\\d+)?");
    long self = ProcessHandle.current().pid();
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path proc : procs) {
        if (proc.getFileName().toString().equals(Long.toString(self))) {
          continue;
        }
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
          for (Path fd : fds) {
            if (mine.matcher(Files.readSymbolicLink(fd).toString()).matches()) {
              String comm = Files.readString(proc.resolve("comm")).strip();
              out.add("pid " + proc.getFileName() + " (" + comm + ")");
              break;
            }
          }
        } catch (IOException | SecurityException e) {
          // gone, or not ours to see
        }
      }
    }
    return out;
  }

  /** Returns whether the device still has a backing file. */
  public boolean isAttached() {
    return Files.exists(
        SYS_BLOCK.resolve(Path.of(device).getFileName()).resolve("loop/backing_file"));
  }

  public static void sleep(long ms) throws IOException {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
