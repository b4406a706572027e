package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.daemon.MountFixture.ploop;
import static org.jploop.daemon.MountFixture.sh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jploop.host.FilesystemMaker;

/**
 * Helpers of the balloon, shrink and device tests on top of {@link MountFixture}: files of seeded
 * random content, df and dumpe2fs figures, e2fsck of partition 1 through {@code ploop mount -d},
 * the real ploop 1.15 as a judge when the machine has it, and ploop device names unlikely to
 * collide with other test runs on the same machine.
 */
final class SpaceFixture {
  /** The real ploop wrapper (ploop 1.15, offline verbs), if present. */
  static final Path REAL_PLOOP =
      Path.of(System.getProperty("jploop.realploop", "/work/shared/tools/realploop.sh"));

  /** Disks made by {@code ploop init} once per test JVM, by size; guarded by the class. */
  private static final Map<String, Path> TEMPLATES = new HashMap<>();

  private SpaceFixture() {}

  /**
   * Puts a fresh disk of {@code size} with ext4 ({@code root.hds} and its DiskDescriptor.xml) into
   * {@code dir}, as {@code ploop init -s SIZE dir/root.hds} makes it: a sparse copy of one made
   * once per test JVM ({@code ploop init} takes ~8 s here, a copy well under one). The copies share
   * their GUIDs and filesystem UUID, which no test here minds; {@code MountIT} tests init itself.
   */
  static synchronized void initDisk(Path dir, String size) throws Exception {
    Path t = TEMPLATES.get(size);
    if (t == null) {
      t = Files.createTempDirectory("jploop-template-" + size + "-");
      ploop("init", "-s", size, t.resolve("root.hds").toString()).ok();
      Path made = t;
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      sh(60, "rm", "-rf", made.toString());
                    } catch (Exception e) {
                      // best effort
                    }
                  },
                  "template-cleanup"));
      TEMPLATES.put(size, t);
    }
    for (String f : List.of("root.hds", "DiskDescriptor.xml")) {
      sh(120, "cp", "--sparse=always", t.resolve(f).toString(), dir.resolve(f).toString()).ok();
    }
  }

  /** Returns the balloon of the filesystem mounted at {@code mnt}. */
  static Path balloon(Path mnt) {
    return mnt.resolve(FilesystemMaker.BALLOON_FILE);
  }

  /** Writes {@code mib} MiB of random bytes with fsync; returns the file's sha256. */
  static String write(Path file, int mib) throws Exception {
    sh(
            600,
            "dd",
            "if=/dev/urandom",
            "of=" + file,
            "bs=1M",
            "count=" + mib,
            "conv=fsync",
            "status=none")
        .ok();
    return MountFixture.sha256(file);
  }

  /** Writes then deletes {@code mib} MiB: space the filesystem frees but the image keeps. */
  static void garbage(Path mnt, int mib) throws Exception {
    Path g = mnt.resolve("garbage");
    write(g, mib);
    Files.delete(g);
    sh(60, "sync", "-f", mnt.toString()).ok();
  }

  /**
   * Returns the bytes {@code du -x} counts for {@code dir}: the image files, not the filesystem
   * mounted at {@code dir/mnt}, which plain {@code du} would add.
   */
  static long du(Path dir) throws Exception {
    return Long.parseLong(
        sh(60, "du", "-s", "-x", "-B1", dir.toString()).ok().out().split("\\s+")[0]);
  }

  /** Returns {size, used, available} in KiB as df shows them for {@code mnt}. */
  static long[] df(Path mnt) throws Exception {
    String[] lines =
        sh(30, "df", "-k", "--output=size,used,avail", mnt.toString())
            .ok()
            .out()
            .strip()
            .split("\n");
    String[] w = lines[lines.length - 1].strip().split("\\s+");
    return new long[] {Long.parseLong(w[0]), Long.parseLong(w[1]), Long.parseLong(w[2])};
  }

  /** Returns a superblock field as {@code dumpe2fs -h} prints it. */
  static long superblock(String device, String field) throws Exception {
    return sh(30, "dumpe2fs", "-h", device)
        .ok()
        .out()
        .lines()
        .filter(l -> l.startsWith(field + ":"))
        .map(l -> Long.parseLong(l.substring(field.length() + 1).strip()))
        .findFirst()
        .orElseThrow();
  }

  /** A /dev/ploopN name with N from a seeded random range, printed for reproduction. */
  static String freshDevice(Random rnd) {
    for (int i = 0; i < 1000; i++) {
      String d = "/dev/ploop" + (20000 + rnd.nextInt(40000));
      if (!Files.exists(Path.of(d), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        return d;
      }
    }
    throw new AssertionError("no free /dev/ploopN");
  }

  /**
   * With the disk unmounted: serves it as {@code dev} without mounting the filesystem, runs {@code
   * e2fsck -fn} on {@code dev}p1 as ploop's own tests do, returns the filesystem's size in 512-byte
   * sectors, and unmounts again.
   */
  static long fsckThroughDevice(Path xml, String dev) throws Exception {
    ploop("mount", "-d", dev, xml.toString()).ok();
    try {
      MountFixture.Run r = sh(600, "e2fsck", "-fn", dev + "p1");
      assertThat(r.exitCode()).as("e2fsck -fn %sp1: %s %s", dev, r.out(), r.err()).isZero();
      return superblock(dev + "p1", "Block count") * superblock(dev + "p1", "Block size") / 512;
    } finally {
      ploop("umount", "-d", dev).ok();
    }
  }

  /**
   * The real ploop 1.15 judges the (unmounted) image: {@code ploop check -f -c} on a non-sparse
   * copy (1.15 calls any hole inside the header cluster or a used cluster corrupt; jploop's init
   * leaves the unused BAT area of the header cluster sparse, where ploop writes it out) and {@code
   * ploop info -s} on the descriptor must report {@code sectors}. Skipped with a note where the
   * tool is absent.
   */
  static void realPloopJudges(Path xml, Path image, long sectors) throws Exception {
    if (!Files.isExecutable(REAL_PLOOP)) {
      System.err.println(
          "NOTE: real ploop not found at "
              + REAL_PLOOP
              + " (-Djploop.realploop):"
              + " its check of "
              + image
              + " is skipped");
      return;
    }
    Path copy = image.resolveSibling("judge-copy.hds");
    sh(600, "cp", "--sparse=never", image.toString(), copy.toString()).ok();
    try {
      MountFixture.Run c = sh(600, REAL_PLOOP.toString(), "check", "-f", "-c", copy.toString());
      assertThat(c.exitCode()).as("real ploop check -f -c: %s %s", c.out(), c.err()).isZero();
    } finally {
      Files.deleteIfExists(copy);
    }
    MountFixture.Run i = sh(120, REAL_PLOOP.toString(), "info", "-s", xml.toString());
    assertThat(i.exitCode()).as("real ploop info -s: %s", i.err()).isZero();
    assertThat(i.out()).contains("size:\t\t" + sectors);
  }

  /** Starts {@code ploop args...} in the background with its output in {@code out}. */
  static Process ploopInBackground(Path out, String... args) throws Exception {
    java.util.List<String> argv =
        new java.util.ArrayList<>(
            java.util.List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                MountFixture.jar().toString()));
    argv.addAll(java.util.List.of(args));
    return new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(out.toFile()).start();
  }

  /** Waits until {@code file} contains {@code text} after byte {@code from}. */
  static void awaitText(Path file, long from, String text, long timeoutMs) throws Exception {
    long end = System.currentTimeMillis() + timeoutMs;
    while (true) {
      String s = Files.exists(file) ? Files.readString(file) : "";
      if (s.length() > from && s.substring((int) from).contains(text)) {
        return;
      }
      assertThat(System.currentTimeMillis()).as("'%s' in %s: %s", text, file, s).isLessThan(end);
      Thread.sleep(5);
    }
  }

  /** Kills a process and everything it started (flock's child holds the lock). */
  static void killTree(Process p) throws Exception {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
  }
}
