package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.daemon.MountFixture.awaitExit;
import static org.jploop.daemon.MountFixture.forceCleanup;
import static org.jploop.daemon.MountFixture.ploop;
import static org.jploop.daemon.MountFixture.qemuCheckClean;
import static org.jploop.daemon.MountFixture.sh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.host.FilesystemGrower;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.junit.jupiter.api.Test;

/**
 * Online operations on a mounted disk through the shipped jar (real FUSE, loop devices, ext4/xfs,
 * qemu-img): snapshots and a merge under a continuous fsyncing writer, compact after fstrim, grow
 * with the partition and filesystem inside, and kill -9 of the daemon in the middle of a merge.
 */
class OnlineIT extends MountFixture {

  /** Writes files of seeded random content with fsync (file and directory) until stopped. */
  static final class FsyncWriter implements Runnable {
    final Path dir;
    final Random rnd;
    final Map<Path, String> synced = new LinkedHashMap<>();
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    FsyncWriter(Path dir, long seed) {
      this.dir = dir;
      this.rnd = new Random(seed);
    }

    @Override
    public void run() {
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        for (int i = 0; !stop.get(); i++) {
          byte[] b = new byte[64 * 1024 + rnd.nextInt(1 << 20)];
          rnd.nextBytes(b);
          Path f = dir.resolve("w" + i);
          try (FileChannel ch =
              FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(b));
            ch.force(true);
          }
          d.force(true);
          synchronized (synced) {
            synced.put(f, sha(b));
          }
        }
      } catch (Throwable t) {
        failure.set(t);
      }
    }

    int count() {
      synchronized (synced) {
        return synced.size();
      }
    }
  }

  static String sha(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private static void assertFiles(Map<Path, String> files, long seed) throws Exception {
    for (Map.Entry<Path, String> e : files.entrySet()) {
      assertThat(sha(Files.readAllBytes(e.getKey())))
          .as("%s, seed %d", e.getKey(), seed)
          .isEqualTo(e.getValue());
    }
  }

  private List<Path> chainFiles() throws IOException {
    return DiskDescriptor.read(xml).topChainFiles(xml);
  }

  /** The visible content of the chain via qemu-img convert (nested json backing), to a file. */
  private static Path qemuVisible(List<Path> baseFirst, Path out) throws Exception {
    String spec = null;
    for (Path p : baseFirst) {
      spec =
          "{\"driver\":\"parallels\",\"file\":{\"driver\":\"file\",\"filename\":\""
              + p
              + "\"}"
              + (spec == null ? "" : ",\"backing\":" + spec)
              + "}";
    }
    sh(600, "qemu-img", "convert", "-O", "raw", "json:" + spec, out.toString()).ok();
    return out;
  }

  private static String fileSha(Path f) throws Exception {
    return MountFixture.sha256(f);
  }

  /** Unmounts the inner filesystem and detaches the loop device, leaving disk.img served. */
  private static void detachInner(MountStatus st, Path mnt) throws Exception {
    sh(60, "umount", mnt.toString()).ok();
    sh(60, "losetup", "-d", st.loopDevice()).ok();
  }

  /** e2fsck -fn on partition 1 of a raw disk image file. */
  private static void fsckPartition(Path raw) throws Exception {
    String start =
        sh(60, "partx", "-g", "-o", "START", "-n", "1", raw.toString()).ok().out().strip();
    String loop =
        sh(
                60,
                "losetup",
                "-r",
                "-o",
                Long.toString(Long.parseLong(start) * 512),
                "--find",
                "--show",
                raw.toString())
            .ok()
            .out()
            .strip();
    try {
      MountFixture.Run r = sh(600, "e2fsck", "-fn", loop);
      assertThat(r.exitCode()).as("e2fsck -fn: %s %s", r.out(), r.err()).isZero();
    } finally {
      sh(60, "losetup", "-d", loop);
    }
  }

  @Test
  void testSnapshotsAndMergeUnderAFsyncingWriter_loseNothing() throws Exception {
    ploop("init", "-s", "512M", "-t", "ext4", image.toString()).ok();
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    long seed = System.nanoTime();
    FsyncWriter w = new FsyncWriter(Files.createDirectory(mnt.resolve("w")), seed);
    Thread t = new Thread(w, "fsync-writer");
    t.start();
    List<String> guids = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        int before = w.count();
        waitForMoreFiles(w, before + 3);
        String out = ploop("snapshot", xml.toString()).ok().out();
        Matcher m = Pattern.compile("ploop snapshot (\\{[^}]+\\})").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        guids.add(m.group(1));
      }
      assertThat(chainFiles()).hasSize(4);
      waitForMoreFiles(w, w.count() + 3);
      assertThat(ploop("snapshot-merge", xml.toString()).ok().out()).contains("merged");
      assertThat(chainFiles()).hasSize(3);
      waitForMoreFiles(w, w.count() + 3);
    } finally {
      w.stop.set(true);
      t.join(60_000);
    }
    assertThat(w.failure.get()).as("writer, seed %d", seed).isNull();
    assertThat(w.count()).as("files written").isGreaterThan(12);
    long bytes = 0;
    for (Path f : w.synced.keySet()) {
      bytes += Files.size(f);
    }
    System.out.printf(
        Locale.ROOT,
        "fsync writer: %d files, %d MiB across 3 online snapshots and 1 merge%n",
        w.count(),
        bytes >> 20);
    String snapList = ploop("snapshot-list", xml.toString()).ok().out();
    for (String g : guids.subList(0, 2)) {
      assertThat(snapList).contains(g);
    }
    Map<Path, String> files = new LinkedHashMap<>(w.synced);
    assertFiles(files, seed);

    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    detachInner(st, mnt);
    String shown = fileSha(Path.of(st.diskImage()));
    ploop("umount", xml.toString()).ok();
    List<Path> chain = chainFiles();
    for (Path p : chain) {
      qemuCheckClean(p);
      try (FileBlockFile f = FileBlockFile.open(p, true)) {
        assertThat(ImageReader.readHeader(f).inUse()).as("in-use flag of %s", p).isFalse();
      }
    }
    Path raw = qemuVisible(chain, dir.resolve("visible.raw"));
    assertThat(fileSha(raw)).as("chain via qemu-img == disk.img before umount").isEqualTo(shown);
    fsckPartition(raw);
    Files.delete(raw);

    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    assertFiles(files, seed);
    ploop("umount", xml.toString()).ok();
  }

  private static void waitForMoreFiles(FsyncWriter w, int n) throws InterruptedException {
    long end = System.currentTimeMillis() + 60_000;
    while (w.count() < n && w.failure.get() == null) {
      assertThat(System.currentTimeMillis()).as("writer progress").isLessThan(end);
      Thread.sleep(20);
    }
  }

  @Test
  void testCompactAfterFstrim_apparentSizeAndDuDrop_dataIntact() throws Exception {
    ploop("init", "-s", "512M", "-t", "ext4", image.toString()).ok();
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    for (String f : List.of("c", "e", "g")) {
      sh(
              120,
              "dd",
              "if=/dev/urandom",
              "of=" + mnt.resolve(f),
              "bs=1M",
              "count=40",
              "conv=fsync",
              "status=none")
          .ok();
    }
    String g = fileSha(mnt.resolve("g"));
    long duFull = MountFixture.du(dir);
    Files.delete(mnt.resolve("c"));
    Files.delete(mnt.resolve("e"));
    sh(60, "sync").ok();
    sh(120, "fstrim", mnt.toString()).ok();
    long apparentBefore = Files.size(image);
    String out = ploop("compact", xml.toString()).ok().out();
    Matcher m = Pattern.compile("moved (\\d+) clusters, size (\\d+) -> (\\d+) bytes").matcher(out);
    assertThat(m.find()).as(out).isTrue();
    long moved = Long.parseLong(m.group(1));
    long closedSize = Long.parseLong(m.group(2));
    long compacted = Long.parseLong(m.group(3));
    assertThat(moved).as("clusters moved into the holes of c and e: %s", out).isGreaterThan(30);
    assertThat(compacted).isLessThan(closedSize - 30L * (1 << 20));
    assertThat(Files.size(image))
        .as("apparent size right after compact")
        .isLessThan(apparentBefore)
        .isLessThan(closedSize);
    assertThat(fileSha(mnt.resolve("g"))).isEqualTo(g);
    sh(60, "sync").ok();
    sh(10, "sh", "-c", "echo 3 > /proc/sys/vm/drop_caches").ok();
    assertThat(fileSha(mnt.resolve("g"))).as("g read back from the compacted image").isEqualTo(g);
    ploop("umount", xml.toString()).ok();
    long duAfter = MountFixture.du(dir);
    assertThat(duAfter)
        .as("du after rm + fstrim + compact vs before rm")
        .isLessThan(duFull - 60L * (1 << 20));
    assertThat(Files.size(image)).as("apparent size after umount").isLessThan(closedSize);
    qemuCheckClean(image);
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    assertThat(fileSha(mnt.resolve("g"))).isEqualTo(g);
    ploop("umount", xml.toString()).ok();
  }

  @Test
  void testResizeGrowXfs_diskImgDfAndPartitionGrow_shrinkRefused() throws Exception {
    ploop("init", "-s", "512M", "-t", "xfs", image.toString()).ok();
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    sh(
            120,
            "dd",
            "if=/dev/urandom",
            "of=" + mnt.resolve("a"),
            "bs=1M",
            "count=20",
            "conv=fsync",
            "status=none")
        .ok();
    String a = fileSha(mnt.resolve("a"));
    long dfBefore = dfKb(mnt);
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    String out = ploop("resize", "-s", "1G", xml.toString()).ok().out();
    assertThat(out).contains("Resized to 2097152 sectors", "xfs on");
    assertThat(Files.size(Path.of(st.diskImage()))).isEqualTo(1L << 30);
    assertThat(DiskDescriptor.read(xml).diskSizeSectors()).isEqualTo(2097152);
    long dfAfter = dfKb(mnt);
    assertThat(dfAfter).as("df size in KiB").isGreaterThan(dfBefore + 400_000);
    assertThat(fileSha(mnt.resolve("a"))).isEqualTo(a);
    sh(
            120,
            "dd",
            "if=/dev/urandom",
            "of=" + mnt.resolve("b"),
            "bs=1M",
            "count=50",
            "conv=fsync",
            "status=none")
        .ok();
    sh(60, "fallocate", "-l", "700M", mnt.resolve("big").toString()).ok();
    MountFixture.Run shrink = ploop("resize", "-s", "600M", xml.toString());
    assertThat(shrink.exitCode()).isEqualTo(38);
    assertThat(shrink.err()).contains("Unable to change image size to");
    String b = fileSha(mnt.resolve("b"));
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    assertThat(fileSha(mnt.resolve("a"))).isEqualTo(a);
    assertThat(fileSha(mnt.resolve("b"))).isEqualTo(b);
    assertThat(dfKb(mnt)).isEqualTo(dfAfter);
    ploop("umount", xml.toString()).ok();
  }

  @Test
  void testResizeGrowExt4_growsOnlineOrSaysWhyNot() throws Exception {
    ploop("init", "-s", "256M", "-t", "ext4", image.toString()).ok();
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    sh(
            120,
            "dd",
            "if=/dev/urandom",
            "of=" + mnt.resolve("a"),
            "bs=1M",
            "count=10",
            "conv=fsync",
            "status=none")
        .ok();
    String a = fileSha(mnt.resolve("a"));
    long dfBefore = dfKb(mnt);
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    MountFixture.Run r = ploop("resize", "-s", "512M", xml.toString());
    assertThat(Files.size(Path.of(st.diskImage()))).isEqualTo(512L << 20);
    String part =
        sh(
                30,
                "cat",
                "/sys/block/"
                    + Path.of(st.loopDevice()).getFileName()
                    + "/"
                    + Path.of(st.loopDevice()).getFileName()
                    + "p1/size")
            .ok()
            .out()
            .strip();
    assertThat(Long.parseLong(part)).as("partition 1 sectors").isGreaterThan(1_000_000);
    if (FilesystemGrower.hasSysResource()) {
      assertThat(r.exitCode()).as(r.err()).isZero();
      assertThat(dfKb(mnt)).isGreaterThan(dfBefore + 200_000);
    } else {
      System.err.println(
          "NOTE: no CAP_SYS_RESOURCE here: ext4 cannot grow online; checking the"
              + " refusal message instead");
      assertThat(r.exitCode()).as(r.err()).isEqualTo(26);
      assertThat(r.err()).contains("CAP_SYS_RESOURCE", "resize2fs");
      assertThat(dfKb(mnt)).isEqualTo(dfBefore);
    }
    assertThat(fileSha(mnt.resolve("a"))).isEqualTo(a);
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
  }

  private static long dfKb(Path mnt) throws Exception {
    String[] lines =
        sh(30, "df", "-k", "--output=size", mnt.toString()).ok().out().strip().split("\n");
    return Long.parseLong(lines[lines.length - 1].strip());
  }

  @Test
  void testKill9DuringOnlineMerge_recoveryKeepsEverythingFsynced() throws Exception {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    ploop("init", "-s", "512M", "-t", "ext4", image.toString()).ok();
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    sh(
            120,
            "dd",
            "if=/dev/urandom",
            "of=" + mnt.resolve("a"),
            "bs=1M",
            "count=40",
            "conv=fsync",
            "status=none")
        .ok();
    ploop("snapshot", xml.toString()).ok();
    sh(
            300,
            "dd",
            "if=/dev/urandom",
            "of=" + mnt.resolve("b"),
            "bs=1M",
            "count=300",
            "conv=fsync",
            "status=none")
        .ok();
    sh(60, "sync").ok();
    Map<String, String> sums = new LinkedHashMap<>();
    for (String f : List.of("a", "b")) {
      sums.put(f, fileSha(mnt.resolve(f)));
    }
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    Path log = Path.of(st.logFile());
    long logStart = Files.size(log);
    List<String> argv =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar",
            MountFixture.jar().toString(),
            "snapshot-merge",
            xml.toString());
    Process merge =
        new ProcessBuilder(argv)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("merge.out").toFile())
            .start();
    long end = System.currentTimeMillis() + 60_000;
    while (!Files.readString(log)
        .substring((int) logStart)
        .contains("online merge: Merging image")) {
      assertThat(System.currentTimeMillis()).as("merge started").isLessThan(end);
      Thread.sleep(5);
    }
    long delay = rnd.nextInt(300);
    Thread.sleep(delay);
    sh(10, "kill", "-KILL", Long.toString(st.pid())).ok();
    awaitExit(st.pid(), 10_000);
    assertThat(merge.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(merge.exitValue())
        .as(
            "the merge was cut (kill after %d ms, seed %d): %s",
            delay, seed, Files.readString(dir.resolve("merge.out")))
        .isNotZero();

    MountFixture.Run u = ploop("umount", xml.toString());
    assertThat(u.exitCode()).as("umount after kill -9: %s", u.err()).isZero();
    for (Path p : DiskDescriptor.read(xml).topChainFiles(xml)) {
      MountFixture.Run c = ploop("check", "-F", "-d", p.toString());
      assertThat(c.exitCode()).as("ploop check -F -d %s: %s %s", p, c.out(), c.err()).isZero();
    }
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    for (Map.Entry<String, String> e : sums.entrySet()) {
      assertThat(fileSha(mnt.resolve(e.getKey())))
          .as("%s after kill -9 at %d ms, seed %d", e.getKey(), delay, seed)
          .isEqualTo(e.getValue());
    }
    assertThat(ploop("snapshot-merge", xml.toString()).ok().out()).contains("merged");
    assertThat(chainFiles()).hasSize(1);
    for (Map.Entry<String, String> e : sums.entrySet()) {
      assertThat(fileSha(mnt.resolve(e.getKey()))).isEqualTo(e.getValue());
    }
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
  }

  @Test
  void testKill9DuringOnlineCompact_recoveryKeepsEverythingFsynced() throws Exception {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    ploop("init", "-s", "512M", "-t", "ext4", image.toString()).ok();
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    for (String f : List.of("c", "g")) {
      sh(
              300,
              "dd",
              "if=/dev/urandom",
              "of=" + mnt.resolve(f),
              "bs=1M",
              "count=200",
              "conv=fsync",
              "status=none")
          .ok();
    }
    Files.delete(mnt.resolve("c"));
    sh(60, "sync").ok();
    sh(120, "fstrim", mnt.toString()).ok();
    String g = fileSha(mnt.resolve("g"));
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    Path log = Path.of(st.logFile());
    long logStart = Files.size(log);
    List<String> argv =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar",
            MountFixture.jar().toString(),
            "compact",
            xml.toString());
    Process compact =
        new ProcessBuilder(argv)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("compact.out").toFile())
            .start();
    long end = System.currentTimeMillis() + 60_000;
    while (!Files.readString(log)
        .substring((int) logStart)
        .contains("online compact: suspending")) {
      assertThat(System.currentTimeMillis()).as("compact started").isLessThan(end);
      Thread.sleep(2);
    }
    long delay = rnd.nextInt(150);
    Thread.sleep(delay);
    sh(10, "kill", "-KILL", Long.toString(st.pid())).ok();
    awaitExit(st.pid(), 10_000);
    assertThat(compact.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(compact.exitValue())
        .as(
            "the compaction was cut (kill after %d ms, seed %d): %s",
            delay, seed, Files.readString(dir.resolve("compact.out")))
        .isNotZero();

    assertThat(ploop("umount", xml.toString()).exitCode()).isZero();
    MountFixture.Run c = ploop("check", "-F", "-d", image.toString());
    assertThat(c.exitCode()).as("ploop check -F -d: %s %s", c.out(), c.err()).isZero();
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    assertThat(fileSha(mnt.resolve("g")))
        .as("g after kill -9 at %d ms, seed %d", delay, seed)
        .isEqualTo(g);
    String out = ploop("compact", xml.toString()).ok().out();
    assertThat(out).contains("moved");
    assertThat(fileSha(mnt.resolve("g"))).isEqualTo(g);
    ploop("umount", xml.toString()).ok();
    assertThat(Files.size(image)).as("compacted after recovery").isLessThan(300L << 20);
    qemuCheckClean(image);
  }

  @Test
  void testReadOnlyRefused_rawImageSnapshotAndMergeOnline() throws Exception {
    ploop("init", "-s", "64M", "-t", "none", image.toString()).ok();
    Path img = Path.of(ploop("mount", "-r", xml.toString()).ok().out().strip());
    MountFixture.Run r = ploop("compact", xml.toString());
    assertThat(r.exitCode()).as(r.err()).isEqualTo(38);
    assertThat(r.err()).contains("read-only");
    assertThat(Files.size(img)).isEqualTo(64L << 20);
    ploop("umount", xml.toString()).ok();

    Path rawDir = Files.createDirectory(dir.resolve("raw"));
    Path rawXml = rawDir.resolve("DiskDescriptor.xml");
    try {
      ploop("init", "-s", "64M", "-t", "none", "-f", "raw", rawDir.resolve("root.hdd").toString())
          .ok();
      img = Path.of(ploop("mount", rawXml.toString()).ok().out().strip());
      byte[] first = {1, 2, 3};
      byte[] second = {4, 5, 6, 7};
      try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap(first), 4096);
        ch.force(true);
      }
      // online snapshot and merge work on a raw base; resize and compact are refused
      ploop("snapshot", rawXml.toString()).ok();
      assertThat(DiskDescriptor.read(rawXml).images()).hasSize(2);
      try (FileChannel ch =
          FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.allocate(3);
        ch.read(b, 4096);
        assertThat(b.array()).as("raw data seen through the new delta").isEqualTo(first);
        ch.write(ByteBuffer.wrap(second), 8192);
        ch.force(true);
      }
      r = ploop("compact", rawXml.toString());
      assertThat(r.exitCode()).as(r.err()).isEqualTo(38);
      assertThat(r.err()).contains("raw");
      r = ploop("snapshot", "-o", rawXml.toString());
      assertThat(r.exitCode()).as("snapshot -o on a mounted disk: %s", r.err()).isEqualTo(17);
      ploop("snapshot-merge", rawXml.toString()).ok();
      assertThat(DiskDescriptor.read(rawXml).images()).hasSize(1);
      try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
        ByteBuffer b = ByteBuffer.allocate(4);
        ch.read(b, 8192);
        assertThat(b.array())
            .as("served from the raw image after the online merge")
            .isEqualTo(second);
      }
      ploop("umount", rawXml.toString()).ok();
      byte[] raw = Files.readAllBytes(rawDir.resolve("root.hdd"));
      assertThat(java.util.Arrays.copyOfRange(raw, 4096, 4099)).isEqualTo(first);
      assertThat(java.util.Arrays.copyOfRange(raw, 8192, 8196)).isEqualTo(second);
    } finally {
      forceCleanup(rawXml);
    }
  }
}
