package org.jploop.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jploop.daemon.MountStatus;

/**
 * A disk under test, driven through the real CLI: {@code ploop init}, {@code mount}, {@code
 * umount}, the daemon's status file, and the clean-up a killed daemon leaves to do (lazy unmount of
 * the inner filesystem, loop detach, {@code fusermount -u -z}). Not thread-safe.
 */
public final class MountedDisk {
  private final Path xml;
  private final Path image;

  public MountedDisk(Path xml) {
    this.xml = xml;
    this.image = xml.resolveSibling(PristineDisks.IMAGE);
  }

  /** Creates {@code dir/root.hds} of {@code size} (a ploop -s value) with {@code -t none}. */
  public static MountedDisk init(Path dir, String size) throws IOException {
    Files.createDirectories(dir);
    Path img = dir.resolve(PristineDisks.IMAGE);
    PloopProcess.Result r =
        PloopProcess.ploop(300, "init", "-s", size, "-t", "none", img.toString());
    if (r.exit() != 0) {
      throw new AssertionError("ploop init failed: " + r.all());
    }
    return new MountedDisk(dir.resolve("DiskDescriptor.xml"));
  }

  public Path xml() {
    return xml;
  }

  public Path image() {
    return image;
  }

  /** Runs {@code ploop mount [-m mnt] xml} and returns the daemon's status; fails with the log. */
  public MountStatus mount(Path mnt) throws IOException {
    return mount(mnt, null);
  }

  /**
   * Like {@link #mount(Path)}, with {@code --frontend frontend} unless that is null (the default
   * front end).
   */
  public MountStatus mount(Path mnt, String frontend) throws IOException {
    List<String> a = new ArrayList<>(List.of("mount"));
    if (frontend != null) {
      a.addAll(List.of("--frontend", frontend));
    }
    if (mnt != null) {
      a.addAll(List.of("-m", mnt.toString()));
    }
    a.add(xml.toString());
    PloopProcess.Result r = PloopProcess.ploop(180, a.toArray(String[]::new));
    if (r.exit() != 0) {
      throw new AssertionError("ploop mount failed: " + r.all() + "\n" + logTail());
    }
    return status().orElseThrow(() -> new AssertionError("mounted but no status file"));
  }

  /** Returns the daemon's status, if one is published. */
  public Optional<MountStatus> status() throws IOException {
    return MountStatus.forDescriptor(xml);
  }

  /** Runs {@code ploop umount xml}. */
  public PloopProcess.Result umount() throws IOException {
    return PloopProcess.ploop(240, "umount", xml.toString());
  }

  /**
   * Leaves nothing of this disk mounted, also after a failed test: if a daemon published a status,
   * {@code ploop umount}; then the leftovers a failed umount leaves ({@link #cleanUpAfterCrash});
   * then a daemon still alive (ours: its status file sits next to our descriptor) is killed by its
   * pid. Returns what it had to do beyond a clean umount, for the test's output ("" if nothing).
   */
  public String tearDown(Path mnt) throws IOException {
    Optional<MountStatus> st = status();
    if (st.isEmpty()) {
      return "";
    }
    StringBuilder extra = new StringBuilder();
    PloopProcess.Result r = umount();
    if (r.exit() != 0) {
      extra.append("umount exit ").append(r.exit()).append(": ").append(r.all().trim());
    }
    if (leftovers(mnt, st.get())) {
      extra.append("; leftovers removed: ").append(cleanUpAfterCrash(mnt, st.get()));
    }
    Optional<ProcessHandle> daemon = ProcessHandle.of(st.get().pid());
    if (daemon.isPresent() && daemon.get().isAlive()) {
      daemon.get().destroyForcibly();
      extra.append("; daemon ").append(st.get().pid()).append(" killed");
    }
    return extra.toString();
  }

  /** Returns the last lines of the daemon log, for failure messages. */
  public String logTail() {
    try {
      Optional<MountStatus> st = status();
      if (st.isEmpty() || st.get().logFile() == null) {
        return "(no daemon log)";
      }
      List<String> lines = Files.readAllLines(Path.of(st.get().logFile()));
      return "daemon log tail:\n  "
          + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 25), lines.size()));
    } catch (IOException | RuntimeException e) {
      return "(daemon log unreadable: " + e + ")";
    }
  }

  /**
   * Removes what a killed daemon leaves behind, as an admin would: lazy-unmount {@code mnt}, detach
   * loop devices backed by disk.img, {@code fusermount -u -z} the FUSE directory. Returns how many
   * leftovers had to be removed.
   */
  public static int cleanUpAfterCrash(Path mnt, MountStatus st) throws IOException {
    int n = 0;
    String mountinfo = Files.readString(Path.of("/proc/self/mountinfo"));
    if (mnt != null && mountinfo.contains(" " + mnt.toRealPath() + " ")) {
      PloopProcess.run(60, "umount", "-l", mnt.toString());
      n++;
    }
    if (st.loopDevice() != null) {
      PloopProcess.Result r = PloopProcess.run(30, "losetup", st.loopDevice());
      if (r.exit() == 0 && r.out().contains(st.diskImage())) {
        PloopProcess.run(60, "losetup", "-d", st.loopDevice());
        n++;
      }
    }
    if (mountinfo.contains(" " + st.fuseDir() + " ")) {
      PloopProcess.run(60, "fusermount", "-u", "-z", st.fuseDir());
      n++;
    }
    return n;
  }

  /** Returns whether anything of {@code st} (inner mount, loop, FUSE mount) is still there. */
  public static boolean leftovers(Path mnt, MountStatus st) throws IOException {
    String mountinfo = Files.readString(Path.of("/proc/self/mountinfo"));
    boolean m =
        mnt != null && Files.isDirectory(mnt) && mountinfo.contains(" " + mnt.toRealPath() + " ");
    boolean f = mountinfo.contains(" " + st.fuseDir() + " ");
    boolean l = false;
    if (st.loopDevice() != null) {
      PloopProcess.Result r = PloopProcess.run(30, "losetup", st.loopDevice());
      l = r.exit() == 0 && r.out().contains(st.diskImage());
    }
    return m || f || l;
  }
}
