package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.daemon.MountFixture.ploop;
import static org.jploop.daemon.MountFixture.qemuCheckClean;
import static org.jploop.daemon.MountFixture.sh;
import static org.jploop.daemon.SpaceFixture.balloon;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.host.DeviceName;
import org.jploop.host.LoopDevice;
import org.junit.jupiter.api.Test;

/**
 * The balloon and resize verbs on an xfs disk ({@code ploop init -t xfs}), on real mounts: the
 * balloon made by init, {@code balloon change} and {@code discard} giving space back ({@code du}
 * figures printed), the online shrink through the balloon (xfs cannot shrink otherwise) and its
 * refusal below the data, and the resize of an unmounted xfs, shrink and grow, through a temporary
 * mount at {@code <image>.mnt}; {@code xfs_repair -n} and {@code qemu-img check} judge. mkfs.xfs
 * wants more than 300 MB, so the disk is 320M.
 */
class XfsIT extends MountedDiskBase {
  private static final long DISK = 655360;

  private static long number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("/%s/ in: %s", regex, text).isTrue();
    return Long.parseLong(m.group(1));
  }

  private String device() throws Exception {
    LoopDevice loop = new LoopDevice(MountStatus.forDescriptor(xml).orElseThrow().loopDevice());
    return DeviceName.of(loop).get(0).path();
  }

  @Test
  void testXfs_balloonChangeDiscard_onlineShrink_offlineShrinkAndGrowOnATemporaryMount()
      throws Exception {
    ploop("init", "-t", "xfs", "-s", "320M", image.toString()).ok();
    MountFixture.Run m = ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    assertThat(m.out()).contains("fstype=xfs");
    Path b = balloon(mnt);
    assertThat(Files.size(b)).as("init made an empty balloon").isZero();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(b)))
        .isEqualTo("rw-------");
    String keep = SpaceFixture.write(mnt.resolve("keep"), 20);
    SpaceFixture.garbage(mnt, 150);

    // balloon change over deleted data: the clusters under it leave the image
    String dev = device();
    FuseWatchdog dog = FuseWatchdog.of(xml);
    long du0 = SpaceFixture.du(dir);
    MountFixture.Run c = guarded(dog, 120, "balloon", "change", "-s", "140M", "-d", dev).ok();
    long released = number(c.out(), "Released (\\d+) cluster-blocks");
    long du1 = SpaceFixture.du(dir);
    assertThat(ploop("balloon", "show", "-f", "-m", mnt.toString()).ok().out())
        .isEqualTo("Current size of hidden balloon is " + 140 * MIB + " bytes\n");
    assertThat(ploop("balloon", "check", xml.toString()).ok().out())
        .isEqualTo("No free blocks found\n");
    guarded(dog, 60, "balloon", "change", "-s", "0", "-m", mnt.toString()).ok();

    // discard: no defrag on xfs, the whole FITRIM ladder
    SpaceFixture.garbage(mnt, 100);
    long du2 = SpaceFixture.du(dir);
    MountFixture.Run d =
        guarded(dog, 120, "balloon", "discard", "--defrag", "-m", mnt.toString()).ok();
    assertThat(d.out())
        .contains("Defragmentation skipped", "Call FITRIM, for minlen=1048576", "Discard freed ");
    assertThat(d.out()).doesNotContain("Start defrag");
    long du3 = SpaceFixture.du(dir);
    System.out.printf(
        Locale.ROOT,
        "xfs: balloon change -s 140M over 150 MiB deleted: released %d clusters,"
            + " du %d -> %d KiB; discard over 100 MiB deleted: du %d -> %d KiB (seed %d)%n",
        released,
        du0 >> 10,
        du1 >> 10,
        du2 >> 10,
        du3 >> 10,
        seed);
    assertThat(released).isGreaterThan(80);
    assertThat(du1).isLessThan(du0 - 80 * MIB);
    assertThat(du3).isLessThan(du2 - 60 * MIB);

    // online shrink: only the balloon can do it on xfs; Disk_size stays
    long[] df0 = SpaceFixture.df(mnt);
    long target = 409600 - 4 * 2048;
    MountFixture.Run s = guarded(dog, 120, "resize", "-s", "200M", xml.toString()).ok();
    assertThat(s.out())
        .contains(
            "Successfully inflated balloon from 0 to ",
            "Resized the filesystem to "
                + target
                + " sectors; the disk keeps "
                + DISK
                + " sectors");
    assertThat(s.out()).doesNotContain("reserved blocks");
    long b1 = Files.size(b);
    long[] df1 = SpaceFixture.df(mnt);
    assertThat(df1[1] - df0[1])
        .as("df used grew by the balloon")
        .isBetween((b1 >> 10) - 1024, (b1 >> 10) + 1024);
    assertThat(df1[1] - (b1 >> 10) + df1[2])
        .as("what the data can still use, KiB")
        .isLessThan(target / 2);
    MountFixture.Run below = guarded(dog, 120, "resize", "-s", "30M", xml.toString());
    assertThat(below.exitCode()).as(below.toString()).isEqualTo(38);
    assertThat(below.err().strip())
        .matches(
            "Unable to change image size to " + (61440 - 8192) + " sectors, minimal size is \\d+");
    assertThat(Files.size(b)).as("refused: the balloon is as it was").isEqualTo(b1);
    assertThat(DiskDescriptor.read(xml).diskSizeSectors()).isEqualTo(DISK);
    ploop("umount", xml.toString()).ok();

    // not mounted: a smaller size is the online shrink on <image>.mnt; the balloon grows by
    // more than is free in xfs beside it, but by less than is free
    Path tmp = Path.of(image + ".mnt");
    MountFixture.Run off = ploop("resize", "-s", "150M", xml.toString()).ok();
    assertThat(off.out())
        .contains(
            "Changing balloon size old_size=" + b1,
            "Resized the filesystem to " + (307200 - 8192) + " sectors");
    assertThat(tmp).as("temporary mount point removed").doesNotExist();
    assertThat(MountStatus.forDescriptor(xml)).as("unmounted again").isEmpty();

    // a bigger size than the disk: image and partition grow, xfs_growfs on <image>.mnt
    MountFixture.Run g = ploop("resize", "-s", "420M", xml.toString()).ok();
    assertThat(g.out()).contains("Resized to 860160 sectors");
    assertThat(tmp).doesNotExist();
    assertThat(ploop("info", "-s", xml.toString()).ok().out()).contains("size:\t\t860160");
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    long[] df2 = SpaceFixture.df(mnt);
    System.out.printf(
        Locale.ROOT,
        "xfs: df size/used/avail %d/%d/%d KiB; shrunk online to 200M:"
            + " %d/%d/%d KiB, balloon %d KiB; offline to 150M, then grown offline to 420M:"
            + " %d/%d/%d KiB, balloon %d bytes%n",
        df0[0],
        df0[1],
        df0[2],
        df1[0],
        df1[1],
        df1[2],
        b1 >> 10,
        df2[0],
        df2[1],
        df2[2],
        Files.size(b));
    assertThat(df2[0]).isGreaterThan(df0[0] + 80 * 1024);
    assertThat(Files.size(b)).as("deflated before the grow").isZero();
    assertThat(MountFixture.sha256(mnt.resolve("keep"))).isEqualTo(keep);
    ploop("umount", xml.toString()).ok();

    String judge = SpaceFixture.freshDevice(rnd);
    ploop("mount", "-d", judge, xml.toString()).ok();
    try {
      MountFixture.Run r = sh(300, "xfs_repair", "-n", judge + "p1");
      assertThat(r.exitCode()).as("xfs_repair -n %sp1: %s %s", judge, r.out(), r.err()).isZero();
    } finally {
      ploop("umount", "-d", judge).ok();
    }
    qemuCheckClean(image);
  }
}
