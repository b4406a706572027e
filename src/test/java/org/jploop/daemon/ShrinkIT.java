package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.daemon.MountFixture.du;
import static org.jploop.daemon.MountFixture.forceCleanup;
import static org.jploop.daemon.MountFixture.ploop;
import static org.jploop.daemon.MountFixture.qemuCheckClean;
import static org.jploop.daemon.MountFixture.sh;
import static org.jploop.daemon.SpaceFixture.balloon;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.host.FilesystemGrower;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ploop resize} to a smaller size and back, on real mounts: online through the balloon,
 * offline through fsck + resize2fs + the discarded tail; a shrink below the data refused with
 * ploop's message and exit code and nothing changed; an offline grow the filesystem sees,
 * finishing an online ext4 grow that could only exit 26; kill -9 of the daemon in the middle of
 * an online shrink. {@code Disk_size} never changes on a shrink, as in ploop.
 */
class ShrinkIT {
  private static final long MIB = 1 << 20;
  @TempDir Path dir;
  private Path xml;
  private Path image;
  private Path mnt;
  private final Random rnd = new Random(System.nanoTime());

  @BeforeEach
  void setUp() throws Exception {
    MountFixture.requireFuse();
    xml = dir.resolve("DiskDescriptor.xml");
    image = dir.resolve("root.hds");
    mnt = Files.createDirectory(dir.resolve("mnt"));
  }

  @AfterEach
  void tearDown() throws Exception {
    forceCleanup(xml);
    sh(30, "umount", mnt.toString());
  }

  private long diskSize() throws Exception {
    return DiskDescriptor.read(xml).diskSizeSectors();
  }

  @Test
  void testOnlineShrink_balloonTakesTheTop_belowDataRefused_infoKeepsTheSize() throws Exception {
    ploop("init", "-s", "512M", image.toString()).ok();
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    String a = SpaceFixture.write(mnt.resolve("a"), 60);
    SpaceFixture.garbage(mnt, 340);
    long[] df0 = SpaceFixture.df(mnt);
    MountFixture.Run r = ploop("resize", "-s", "256M", xml.toString()).ok();
    long target = 524288 - 4 * 2048;
    assertThat(r.out()).contains("Changing balloon size old_size=0 new_size=",
        "Successfully inflated balloon from 0 to ", "Setting reserved blocks count to "
            + target / 100 * 5 * 512 / 4096, "TRUNCATED: ",
        "Resized the filesystem to " + target + " sectors; the disk keeps 1048576 sectors");
    long[] df1 = SpaceFixture.df(mnt);
    long b = Files.size(balloon(mnt));
    System.out.printf("online shrink 512M -> 256M: df size/used/avail %d/%d/%d -> %d/%d/%d KiB,"
        + " balloon %d KiB, ploop info -s size %d sectors%n", df0[0], df0[1], df0[2], df1[0],
        df1[1], df1[2], b >> 10, diskSize());
    assertThat(df1[1] - df0[1]).as("used grew by the balloon").isBetween((b >> 10) - 1024,
        (b >> 10) + 1024);
    assertThat(df1[1] - (b >> 10) + df1[2]).as("what the data can still use, KiB")
        .isLessThan(target / 2);
    assertThat(diskSize()).as("Disk_size is kept").isEqualTo(1048576);
    assertThat(ploop("info", "-s", xml.toString()).ok().out()).contains("size:\t\t1048576");
    assertThat(SpaceFixture.superblock(MountStatus.forDescriptor(xml).orElseThrow().loopDevice()
        + "p1", "Reserved block count")).isEqualTo(target / 100 * 5 * 512 / 4096);

    String c = SpaceFixture.write(mnt.resolve("c"), 60);
    MountFixture.Run below = ploop("resize", "-s", "100M", xml.toString());
    assertThat(below.exitCode()).as(below.toString()).isEqualTo(38);
    assertThat(below.err().strip()).matches("Unable to change image size to 196608 sectors,"
        + " minimal size is \\d+");
    assertThat(Files.size(balloon(mnt))).as("refused: the balloon is as it was").isEqualTo(b);

    ploop("resize", "-s", "512M", xml.toString()).ok();
    assertThat(Files.size(balloon(mnt))).as("back to the whole disk: ploop's 4-cluster reserve")
        .isLessThan(8 * MIB);
    assertThat(MountFixture.sha256(mnt.resolve("a"))).isEqualTo(a);
    assertThat(MountFixture.sha256(mnt.resolve("c"))).isEqualTo(c);
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
    SpaceFixture.fsckThroughDevice(xml, SpaceFixture.freshDevice(rnd));
    SpaceFixture.realPloopJudges(xml, image, 1048576);
  }

  @Test
  void testOfflineShrinkThenGrowBackAndGrow_filesystemSeesIt() throws Exception {
    ploop("init", "-s", "512M", image.toString()).ok();
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    String a = SpaceFixture.write(mnt.resolve("a"), 60);
    SpaceFixture.garbage(mnt, 340);
    long dfInit = SpaceFixture.df(mnt)[0];
    ploop("umount", xml.toString()).ok();
    String dev = SpaceFixture.freshDevice(rnd);
    long fs0 = SpaceFixture.fsckThroughDevice(xml, dev);
    long du0 = du(dir);
    long len0 = Files.size(image);

    byte[] before = Files.readAllBytes(image);
    MountFixture.Run below = ploop("resize", "-s", "64M", xml.toString());
    assertThat(below.exitCode()).as(below.toString()).isEqualTo(38);
    assertThat(below.err().strip()).matches("Unable to change image size to 122880 sectors,"
        + " minimal size is \\d+");
    assertThat(Files.readAllBytes(image)).as("refused before anything changed").isEqualTo(before);

    MountFixture.Run r = ploop("resize", "-s", "256M", xml.toString()).ok();
    long target = 524288 - 4 * 2048;
    assertThat(r.out()).contains("Offline shrink  dev=", "new_size=" + target, "TRUNCATED: ",
        "Resized the filesystem to " + target + " sectors; the disk keeps 1048576 sectors");
    long fs1 = SpaceFixture.fsckThroughDevice(xml, dev);
    long du1 = du(dir);
    System.out.printf("offline shrink 512M -> 256M: filesystem %d -> %d sectors, image file %d ->"
        + " %d bytes, du %d -> %d KiB, ploop info -s size %d%n", fs0, fs1, len0,
        Files.size(image), du0 >> 10, du1 >> 10, diskSize());
    assertThat(fs1).isEqualTo(target);
    assertThat(Files.size(image)).isLessThan(len0 - 100 * MIB);
    assertThat(du1).isLessThan(du0 - 100 * MIB);
    assertThat(diskSize()).isEqualTo(1048576);
    SpaceFixture.realPloopJudges(xml, image, 1048576);

    ploop("resize", "-s", "512M", xml.toString()).ok();
    assertThat(SpaceFixture.fsckThroughDevice(xml, dev)).as("grown back to ploop's target")
        .isEqualTo(1048576 - 4 * 2048);
    assertThat(ploop("resize", "-s", "1G", xml.toString()).ok().out())
        .contains("Resized to 2097152 sectors");
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    long dfGrown = SpaceFixture.df(mnt)[0];
    System.out.printf("offline grow 512M -> 1G: df size %d -> %d KiB%n", dfInit, dfGrown);
    assertThat(dfGrown).isGreaterThan(dfInit + 400_000);
    assertThat(MountFixture.sha256(mnt.resolve("a"))).isEqualTo(a);
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
    SpaceFixture.realPloopJudges(xml, image, 2097152);
  }

  @Test
  void testOnlineExt4Grow_exit26NamesTheCommand_whichFinishesTheGrowth() throws Exception {
    ploop("init", "-s", "256M", image.toString()).ok();
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    String a = SpaceFixture.write(mnt.resolve("a"), 10);
    long df0 = SpaceFixture.df(mnt)[0];
    MountFixture.Run r = ploop("resize", "-s", "512M", xml.toString());
    if (FilesystemGrower.hasSysResource()) {
      assertThat(r.exitCode()).as(r.toString()).isZero();
      assertThat(SpaceFixture.df(mnt)[0]).isGreaterThan(df0 + 200_000);
      ploop("umount", xml.toString()).ok();
    } else {
      String umount = "ploop umount " + xml.toRealPath();
      String resize = "ploop resize -s 1048576 " + xml.toRealPath();
      assertThat(r.exitCode()).as(r.toString()).isEqualTo(26);
      assertThat(r.err()).contains("CAP_SYS_RESOURCE", umount + " && " + resize);
      assertThat(SpaceFixture.df(mnt)[0]).isEqualTo(df0);
      ploop("umount", xml.toRealPath().toString()).ok();
      ploop("resize", "-s", "1048576", xml.toRealPath().toString()).ok();
    }
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    long df1 = SpaceFixture.df(mnt)[0];
    System.out.printf("ext4 grow 256M -> 512M (%s): df size %d -> %d KiB%n",
        FilesystemGrower.hasSysResource() ? "online" : "online exit 26, then offline", df0, df1);
    assertThat(df1).isGreaterThan(df0 + 200_000);
    assertThat(MountFixture.sha256(mnt.resolve("a"))).isEqualTo(a);
  }

  /**
   * The daemon killed while {@code ploop resize} inflates the balloon, punches the clusters under
   * it or waits for the compaction. This is the test that hung the machine when the daemon did
   * that work itself: its thread stayed in a FUSE request to its own mount, so kill -9 left an
   * unkillable zombie. Now the daemon must die at once and the verb fail with an error; a {@link
   * FuseWatchdog} fails the test (aborting the FUSE connection so nothing stays hung) otherwise.
   */
  @Test
  void testKill9DuringOnlineShrink_daemonDies_nextMountRepairs_everyFileIntact()
      throws Exception {
    long seed = System.nanoTime();
    Random r = new Random(seed);
    ploop("init", "-s", "512M", image.toString()).ok();
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    String a = SpaceFixture.write(mnt.resolve("a"), 60);
    SpaceFixture.garbage(mnt, 340);
    FuseWatchdog dog = FuseWatchdog.of(xml);
    Path out = dir.resolve("resize.out");
    Process resize = SpaceFixture.ploopInBackground(out, "resize", "-s", "200M", xml.toString());
    SpaceFixture.awaitText(out, 0, "Changing balloon size", 60_000);
    long delay = r.nextInt(350);
    Thread.sleep(delay);
    String said = Files.readString(out);
    sh(10, "kill", "-KILL", Long.toString(dog.daemonPid())).ok();
    dog.awaitDaemonExit(15_000);
    int rc = dog.await(resize, 60, "ploop resize after kill -9 of its daemon");
    String phase = said.contains("TRUNCATED") ? "after the compaction"
        : said.contains("Released") ? "compacting" : said.contains("Successfully inflated")
        ? "releasing" : "inflating";
    System.out.printf("kill -9 %d ms into the online shrink (%s, seed %d): resize exit %d: %s%n",
        delay, phase, seed, rc, Files.readString(out).strip().replace('\n', '|'));

    assertThat(ploop("umount", xml.toString()).exitCode()).isZero();
    MountFixture.Run m = ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    assertThat(m.out()).contains("was not closed cleanly");
    assertThat(MountFixture.sha256(mnt.resolve("a"))).as("after kill -9 at %d ms, seed %d",
        delay, seed).isEqualTo(a);
    ploop("balloon", "repair", "-m", mnt.toString()).ok();
    ploop("resize", "-s", "200M", xml.toString()).ok();
    assertThat(MountFixture.sha256(mnt.resolve("a"))).isEqualTo(a);
    ploop("umount", xml.toString()).ok();
    SpaceFixture.fsckThroughDevice(xml, SpaceFixture.freshDevice(r));
    qemuCheckClean(image);
    assertThat(diskSize()).isEqualTo(1048576);
  }
}
