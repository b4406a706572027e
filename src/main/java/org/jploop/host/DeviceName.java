package org.jploop.host;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A ploop device name for a mounted disk: {@code /dev/ploopN} (ploop 7.x and 1.15) or {@code
 * /dev/mapper/ploopN} (ploop 9.x), with partition 1 at the same name plus {@code p1}. jploop has no
 * ploop kernel device; the name is a symbolic link to the loop device over {@code disk.img} (and
 * {@code ...p1} to the loop's partition), created when the loop device is attached and removed
 * before it is detached.
 *
 * <p>Links rather than device nodes: a link always resolves to the loop device the kernel currently
 * has (partition minors of loop devices are allocated dynamically), every tool that canonicalises
 * paths (mount, findmnt, lsblk, losetup) sees the one real device, and removing the link can never
 * affect the device. Which names belong to which loop device is read back from the links
 * themselves, so nothing else records it. The directory is {@code /dev}, or the system property
 * {@code jploop.dev.dir} (tests). Immutable.
 *
 * @param path the name as the user writes it, e.g. {@code /dev/ploop0}
 */
public record DeviceName(String path) {
  private static final Pattern NAME = Pattern.compile("/dev/(mapper/)?ploop(\\d{1,9})");

  /** ploop 9.x picks N at random in this range (lib/ploop.c get_free_minor). */
  private static final int FIRST_FREE = 1000;

  private static final int FREE_SPAN = 0xffff;

  public DeviceName {
    if (!NAME.matcher(path).matches()) {
      throw new IllegalArgumentException(
          "Invalid ploop device name " + path + ": use /dev/ploopN or /dev/mapper/ploopN");
    }
  }

  /** Returns the /dev directory names live in. */
  static Path devRoot() {
    return Path.of(System.getProperty("jploop.dev.dir", "/dev"));
  }

  /**
   * Parses a device given to {@code umount -d} or {@code balloon -d}: a trailing {@code p1} after a
   * digit is the partition and is dropped, as ploop does.
   */
  public static DeviceName parseDevice(String s) {
    String d =
        s.endsWith("p1") && s.length() > 2 && Character.isDigit(s.charAt(s.length() - 3))
            ? s.substring(0, s.length() - 2)
            : s;
    return new DeviceName(d);
  }

  /** Returns the name as the user writes it. */
  @Override
  public String toString() {
    return path;
  }

  /** Returns the kernel-style name, e.g. {@code ploop0}. */
  public String name() {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /** Returns N of ploopN. */
  public int minor() {
    Matcher m = NAME.matcher(path);
    m.matches();
    return Integer.parseInt(m.group(2));
  }

  /** Returns the name of partition 1, e.g. {@code /dev/ploop0p1}. */
  public String partition() {
    return path + "p1";
  }

  /** Returns where the link for {@code name} lives on this machine. */
  private static Path fileOf(String name) {
    return devRoot().resolve(name.substring("/dev/".length()));
  }

  /**
   * Creates the name for {@code loop}, and for its partition 1 if {@code partition} is not null.
   *
   * @throws MountException DEVICE if the name exists already
   */
  public void link(LoopDevice loop, String partition) throws IOException {
    Path link = fileOf(path);
    Files.createDirectories(link.getParent());
    try {
      Files.createSymbolicLink(link, Path.of(loop.device()));
    } catch (FileAlreadyExistsException e) {
      throw new MountException(
          MountException.Reason.DEVICE,
          "Failed to create ploop device " + path + ": File exists" + describeTarget(link));
    }
    if (partition != null) {
      linkPartition(partition);
    }
  }

  /** Creates (or re-points) the partition name at {@code partition}, e.g. after partx added it. */
  public void linkPartition(String partition) throws IOException {
    Path p = fileOf(partition());
    Files.deleteIfExists(p);
    Files.createSymbolicLink(p, Path.of(partition));
  }

  private static String describeTarget(Path link) {
    try {
      return Files.isSymbolicLink(link)
          ? " (it points to " + Files.readSymbolicLink(link) + ")"
          : "";
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * Chooses a free {@code /dev/mapper/ploopN} as ploop 9.x does (random N from 1000, no device
   * {@code dm-N}), links it to {@code loop} and returns it. Creating the link is the claim: two
   * mounts racing for one N cannot both win.
   */
  public static DeviceName linkFree(LoopDevice loop, String partition) throws IOException {
    Random rnd = new Random();
    int start = rnd.nextInt(FREE_SPAN);
    for (int i = 0; i < FREE_SPAN; i++) {
      int n = (start + i) % FREE_SPAN + FIRST_FREE;
      DeviceName d = new DeviceName("/dev/mapper/ploop" + n);
      if (Files.exists(Path.of("/sys/block/dm-" + n)) || d.exists()) {
        continue;
      }
      try {
        d.link(loop, partition);
        return d;
      } catch (MountException e) {
        if (e.reason() != MountException.Reason.DEVICE) {
          throw e;
        }
      }
    }
    throw new MountException(MountException.Reason.DEVICE, "Can't generate minor value");
  }

  /** Returns whether something (link, node, file) has this name. */
  public boolean exists() {
    return Files.exists(fileOf(path), LinkOption.NOFOLLOW_LINKS);
  }

  /** Returns the loop device this name links to, if it is one of ours. */
  public Optional<LoopDevice> loop() {
    Path link = fileOf(path);
    try {
      if (!Files.isSymbolicLink(link)) {
        return Optional.empty();
      }
      String target = Files.readSymbolicLink(link).toString();
      return target.matches("/dev/loop\\d+")
          ? Optional.of(new LoopDevice(target))
          : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Returns the names linked to {@code loop}, {@code /dev/ploopN} ones first. */
  public static List<DeviceName> of(LoopDevice loop) throws IOException {
    List<DeviceName> out = new ArrayList<>();
    for (String dir : List.of("/dev/", "/dev/mapper/")) {
      Path d = fileOf(dir + "x").getParent();
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(d, "ploop*")) {
        for (Path p : ds) {
          String name = dir + p.getFileName();
          if (!NAME.matcher(name).matches()) {
            continue;
          }
          DeviceName n = new DeviceName(name);
          if (n.loop().map(l -> l.equals(loop)).orElse(false)) {
            out.add(n);
          }
        }
      }
    }
    return out;
  }

  /** Removes every name of {@code loop} and of its partition; returns the names removed. */
  public static List<DeviceName> unlinkAll(LoopDevice loop) throws IOException {
    List<DeviceName> names = of(loop);
    for (DeviceName n : names) {
      Path part = fileOf(n.partition());
      if (Files.isSymbolicLink(part)
          && Files.readSymbolicLink(part).toString().startsWith(loop.device() + "p")) {
        Files.delete(part);
      }
      Files.deleteIfExists(fileOf(n.path()));
    }
    return names;
  }
}
