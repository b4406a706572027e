package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.daemon.MountFixture.ploop;
import static org.jploop.daemon.MountFixture.qemuCheckClean;
import static org.jploop.daemon.MountFixture.sh;
import static org.jploop.daemon.SpaceFixture.balloon;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.host.FilesystemGrower;
import org.junit.jupiter.api.Test;

/**
 * {@code ploop resize} to a smaller size and back, on real mounts: online through the balloon,
 * offline through fsck + resize2fs + the discarded tail; a shrink below the data refused with
 * ploop's message and exit code and nothing changed; an offline grow the filesystem sees, finishing
 * an online ext4 grow that could only exit 26; kill -9 of the {@code ploop} process and of the
 * daemon in the middle of an online shrink. {@code Disk_size} never changes on a shrink, as in
 * ploop.
 */
class ShrinkIT extends MountedDiskBase {

  private long diskSize() throws Exception {
    return DiskDescriptor.read(xml).diskSizeSectors();
  }

  @Test
  void testOnlineShrink_belowDataRefused_infoKeepsTheSize_thenGrowPastTheDisk_exit26()
      throws Exception {
    String a = mountWithGarbage("512M", "a", 60, 340);
    long[] df0 = SpaceFixture.df(mnt);
    MountFixture.Run r = ploop("resize", "-s", "256M", xml.toString()).ok();
    long target = 524288 - 4 * 2048;
    assertThat(r.out())
        .contains(
            "Changing balloon size old_size=0 new_size=",
            "Successfully inflated balloon from 0 to ",
            "Setting reserved blocks count to " + target / 100 * 5 * 512 / 4096,
            "TRUNCATED: ",
            "Resized the filesystem to " + target + " sectors; the disk keeps 1048576 sectors");
    long[] df1 = SpaceFixture.df(mnt);
    long b = Files.size(balloon(mnt));
    System.out.printf(
        Locale.ROOT,
        "online shrink 512M -> 256M: df size/used/avail %d/%d/%d -> %d/%d/%d KiB,"
            + " balloon %d KiB, ploop info -s size %d sectors%n",
        df0[0],
        df0[1],
        df0[2],
        df1[0],
        df1[1],
        df1[2],
        b >> 10,
        diskSize());
    assertThat(df1[1] - df0[1])
        .as("used grew by the balloon")
        .isBetween((b >> 10) - 1024, (b >> 10) + 1024);
    assertThat(df1[1] - (b >> 10) + df1[2])
        .as("what the data can still use, KiB")
        .isLessThan(target / 2);
    assertThat(diskSize()).as("Disk_size is kept").isEqualTo(1048576);
    assertThat(ploop("info", "-s", xml.toString()).ok().out()).contains("size:\t\t1048576");
    assertThat(
            SpaceFixture.superblock(
                MountStatus.forDescriptor(xml).orElseThrow().loopDevice() + "p1",
                "Reserved block count"))
        .isEqualTo(target / 100 * 5 * 512 / 4096);

    String c = SpaceFixture.write(mnt.resolve("c"), 60);
    MountFixture.Run below = ploop("resize", "-s", "100M", xml.toString());
    assertThat(below.exitCode()).as(below.toString()).isEqualTo(38);
    assertThat(below.err().strip())
        .matches("Unable to change image size to 196608 sectors," + " minimal size is \\d+");
    assertThat(Files.size(balloon(mnt))).as("refused: the balloon is as it was").isEqualTo(b);

    ploop("resize", "-s", "512M", xml.toString()).ok();
    assertThat(Files.size(balloon(mnt)))
        .as("back to the whole disk: ploop's 4-cluster reserve")
        .isLessThan(8 * MIB);

    // past the disk size: the balloon is deflated, the image, partition and ext4 grow; where
    // ext4 may not grow online (no CAP_SYS_RESOURCE) exit 26 names the command that finishes it
    long df2 = SpaceFixture.df(mnt)[0];
    MountFixture.Run grow = ploop("resize", "-s", "1G", xml.toString());
    boolean online = FilesystemGrower.hasSysResource();
    if (online) {
      grow.ok();
    } else {
      String umount = "ploop umount " + xml.toRealPath();
      String resize = "ploop resize -s 2097152 " + xml.toRealPath();
      assertThat(grow.exitCode()).as(grow.toString()).isEqualTo(26);
      assertThat(grow.err())
          .contains("CAP_SYS_RESOURCE", "to grow it offline run: " + umount + " && " + resize);
      assertThat(SpaceFixture.df(mnt)[0]).isEqualTo(df2);
      ploop("umount", xml.toRealPath().toString()).ok();
      assertThat(ploop("resize", "-s", "2097152", xml.toRealPath().toString()).ok().out())
          .contains("Resized the filesystem to " + (2097152 - 4 * 2048) + " sectors");
      ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    }
    long df3 = SpaceFixture.df(mnt)[0];
    System.out.printf(
        Locale.ROOT,
        "ext4 grow 512M -> 1G (%s): df size %d -> %d KiB, balloon %d bytes%n",
        online ? "online" : "online exit 26, then the command it names",
        df2,
        df3,
        Files.size(balloon(mnt)));
    assertThat(df3).isGreaterThan(df2 + 400_000);
    assertThat(Files.size(balloon(mnt))).as("deflated before the grow").isZero();
    assertThat(MountFixture.sha256(mnt.resolve("a"))).isEqualTo(a);
    assertThat(MountFixture.sha256(mnt.resolve("c"))).isEqualTo(c);
    umountAndJudge();
  }

  @Test
  void testOfflineShrink_belowDataRefused_thenOfflineGrow_filesystemSeesBoth() throws Exception {
    String a = mountWithGarbage("512M", "a", 60, 340);
    long dfInit = SpaceFixture.df(mnt)[0];
    // a balloon left by an online shrink: deflated first, and its blocks are not data
    sh(60, "fallocate", "-l", "100M", balloon(mnt).toString()).ok();
    ploop("umount", xml.toString()).ok();
    long du0 = SpaceFixture.du(dir);
    long len0 = Files.size(image);

    String before = MountFixture.sha256(image);
    MountFixture.Run below = ploop("resize", "-s", "64M", xml.toString());
    assertThat(below.exitCode()).as(below.toString()).isEqualTo(38);
    assertThat(below.err().strip())
        .matches("Unable to change image size to 122880 sectors," + " minimal size is \\d+");
    assertThat(MountFixture.sha256(image)).as("refused before anything changed").isEqualTo(before);

    MountFixture.Run r = ploop("resize", "-s", "256M", xml.toString()).ok();
    long target = 524288 - 4 * 2048;
    assertThat(r.out())
        .contains(
            "Successfully truncated balloon from " + 100 * MIB + " to 0 bytes",
            "Offline shrink  dev=",
            "new_size=" + target,
            "TRUNCATED: ",
            "Resized the filesystem to " + target + " sectors; the disk keeps 1048576 sectors");
    long fs1 = SpaceFixture.fsckThroughDevice(xml, SpaceFixture.freshDevice(rnd));
    long du1 = SpaceFixture.du(dir);
    System.out.printf(
        Locale.ROOT,
        "offline shrink 512M -> 256M: df size %d KiB before, filesystem %d sectors"
            + " after, image file %d -> %d bytes, du %d -> %d KiB, ploop info -s size %d%n",
        dfInit,
        fs1,
        len0,
        Files.size(image),
        du0 >> 10,
        du1 >> 10,
        diskSize());
    assertThat(fs1).isEqualTo(target);
    assertThat(Files.size(image)).isLessThan(len0 - 100 * MIB);
    assertThat(du1).isLessThan(du0 - 100 * MIB);
    assertThat(diskSize()).isEqualTo(1048576);
    SpaceFixture.realPloopJudges(xml, image, 1048576);

    // the shrunk filesystem on the 512M disk grows with the image to the whole 1G
    assertThat(ploop("resize", "-s", "1G", xml.toString()).ok().out())
        .contains("Resized to 2097152 sectors");
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    long dfGrown = SpaceFixture.df(mnt)[0];
    System.out.printf(
        Locale.ROOT,
        "offline grow 512M (filesystem 256M) -> 1G: df size %d -> %d KiB%n",
        dfInit,
        dfGrown);
    assertThat(dfGrown).isGreaterThan(dfInit + 400_000);
    assertThat(MountFixture.sha256(mnt.resolve("a"))).isEqualTo(a);
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
  }

  /**
   * {@code ploop resize -o} of an unmounted ext4 disk: the online shrink (balloon, reserved blocks)
   * on a temporary mount at {@code <image>.mnt}, which is gone afterwards, the disk unmounted
   * again; the filesystem keeps its size, the balloon holds the difference.
   */
  @Test
  void testResizeMinusO_unmountedExt4ShrunkOnlineOnATemporaryMount() throws Exception {
    String a = mountWithGarbage("256M", "a", 10, 100);
    long[] df0 = SpaceFixture.df(mnt);
    ploop("umount", xml.toString()).ok();
    long du0 = SpaceFixture.du(dir);
    long target = 327680 - 4 * 2048;
    MountFixture.Run r = ploop("resize", "-o", "-s", "160M", xml.toString()).ok();
    assertThat(r.out())
        .contains(
            "Successfully inflated balloon from 0 to ",
            "Setting reserved blocks count to " + target / 100 * 5 * 512 / 4096,
            "Resized the filesystem to " + target + " sectors; the disk keeps 524288 sectors");
    assertThat(r.out()).doesNotContain("Offline shrink");
    assertThat(Path.of(image + ".mnt")).as("temporary mount point removed").doesNotExist();
    assertThat(MountStatus.forDescriptor(xml)).as("unmounted again").isEmpty();
    long du1 = SpaceFixture.du(dir);
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    long[] df1 = SpaceFixture.df(mnt);
    long b = Files.size(balloon(mnt));
    System.out.printf(
        Locale.ROOT,
        "resize -o 256M -> 160M unmounted: df size/used/avail %d/%d/%d ->"
            + " %d/%d/%d KiB, balloon %d KiB, du %d -> %d KiB%n",
        df0[0],
        df0[1],
        df0[2],
        df1[0],
        df1[1],
        df1[2],
        b >> 10,
        du0 >> 10,
        du1 >> 10);
    assertThat(df1[0]).as("the filesystem keeps its size").isEqualTo(df0[0]);
    assertThat(df1[1] - df0[1])
        .as("used grew by the balloon")
        .isBetween((b >> 10) - 1024, (b >> 10) + 1024);
    assertThat(df1[1] - (b >> 10) + df1[2])
        .as("what the data can still use, KiB")
        .isLessThan(target / 2);
    assertThat(MountFixture.sha256(mnt.resolve("a"))).isEqualTo(a);
    assertThat(diskSize()).isEqualTo(524288);
    umountAndJudge();
  }

  /** The lines of an online shrink, in order; a kill waits for one of them. */
  private static final List<String> SHRINK_STEPS =
      List.of(
          "Changing balloon size", "Successfully inflated", "Setting reserved blocks", "Released ");

  /** A background {@code ploop resize}, what it had said at the kill and where the kill fell. */
  private record Kill(Process resize, String said, String where) {
    String saidOneLine() {
      return said.strip().replace('\n', '|');
    }
  }

  /**
   * Starts {@code ploop resize -s SIZE} of the mounted disk in the background, waits for a seeded
   * step of {@link #SHRINK_STEPS} (or the end of the resize, if it never says it) and a seeded
   * delay, then kills {@code victim} with SIGKILL ({@code 0}: the resize itself).
   */
  private Kill killDuringShrink(String size, Path out, long victim) throws Exception {
    Process resize = SpaceFixture.ploopInBackground(out, "resize", "-s", size, xml.toString());
    String step = SHRINK_STEPS.get(rnd.nextInt(SHRINK_STEPS.size()));
    long delay = rnd.nextInt(100);
    long end = System.currentTimeMillis() + 60_000;
    while (!Files.readString(out).contains(step) && resize.isAlive()) {
      assertThat(System.currentTimeMillis())
          .as("'%s' from ploop resize: %s", step, Files.readString(out))
          .isLessThan(end);
      Thread.sleep(5);
    }
    Thread.sleep(delay);
    String said = Files.readString(out);
    sh(10, "kill", "-KILL", Long.toString(victim == 0 ? resize.pid() : victim));
    return new Kill(resize, said, delay + " ms after '" + step.strip() + "'");
  }

  /**
   * Kill -9 during an online shrink, first of the {@code ploop resize} process that does the
   * filesystem work (the balloon, tune2fs, the punching through disk.img), then of the mount
   * daemon, each at a seeded step and delay. The first leaves the disk mounted and served, every
   * file intact, the balloon at most inflated over clusters not yet released: {@code ploop balloon
   * repair} releases them and the resize run again finishes. The second is the test that hung the
   * machine when the daemon did the filesystem work itself (its thread stayed in a FUSE request to
   * its own mount, kill -9 left an unkillable zombie): now the daemon dies at once, the verb fails,
   * the next mount repairs the dirty image. A {@link FuseWatchdog} fails the test (aborting this
   * disk's FUSE connection so nothing stays hung) where anything does not end.
   */
  @Test
  void testKill9DuringOnlineShrink_ofPloopThenOfTheDaemon_everyFileIntact() throws Exception {
    String a = mountWithGarbage("512M", "a", 60, 340);
    FuseWatchdog dog = FuseWatchdog.of(xml);

    Kill k1 = killDuringShrink("200M", dir.resolve("resize1.out"), 0);
    int rc1 = dog.await(k1.resize(), 30, "ploop resize after its kill -9");
    System.out.printf(
        Locale.ROOT,
        "kill -9 of ploop resize %s (seed %d): exit %d; it said: %s%n",
        k1.where(),
        seed,
        rc1,
        k1.saidOneLine());
    assertThat(ProcessHandle.of(dog.daemonPid()).map(ProcessHandle::isAlive))
        .as("the daemon" + " serves on")
        .contains(true);
    assertThat(MountFixture.sha256(mnt.resolve("a")))
        .as("after kill -9 of ploop %s, seed %d", k1.where(), seed)
        .isEqualTo(a);
    MountFixture.Run rep = ploop("balloon", "repair", "-m", mnt.toString()).ok();
    assertThat(ploop("balloon", "check", "-m", mnt.toString()).ok().out())
        .isEqualTo("No free blocks found\n");
    MountFixture.Run again = ploop("resize", "-s", "200M", xml.toString()).ok();
    System.out.printf(
        Locale.ROOT,
        "then balloon repair: %s; resize again: %s%n",
        rep.out().strip().replace('\n', '|'),
        again.out().strip().replace('\n', '|'));
    assertThat(again.out())
        .contains(
            "Resized the filesystem to "
                + (409600 - 4 * 2048)
                + " sectors; the disk keeps 1048576 sectors");
    assertThat(MountFixture.sha256(mnt.resolve("a"))).isEqualTo(a);

    Kill k2 = killDuringShrink("170M", dir.resolve("resize2.out"), dog.daemonPid());
    dog.awaitDaemonExit(15_000);
    int rc2 = dog.await(k2.resize(), 60, "ploop resize after kill -9 of its daemon");
    System.out.printf(
        Locale.ROOT,
        "kill -9 of the daemon %s into the online shrink (seed %d): resize exit"
            + " %d; it said at the kill: %s; in all: %s%n",
        k2.where(),
        seed,
        rc2,
        k2.saidOneLine(),
        Files.readString(dir.resolve("resize2.out")).strip().replace('\n', '|'));

    remountAfterDaemonKill("a", a, "of the daemon " + k2.where());
    ploop("balloon", "repair", "-m", mnt.toString()).ok();
    ploop("resize", "-s", "170M", xml.toString()).ok();
    assertThat(MountFixture.sha256(mnt.resolve("a"))).isEqualTo(a);
    umountAndJudge();
    assertThat(diskSize()).isEqualTo(1048576);
  }
}
