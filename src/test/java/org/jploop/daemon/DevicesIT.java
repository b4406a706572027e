package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.daemon.MountFixture.awaitExit;
import static org.jploop.daemon.MountFixture.ploop;
import static org.jploop.daemon.MountFixture.qemuCheckClean;
import static org.jploop.daemon.MountFixture.sh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.junit.jupiter.api.Test;

/**
 * ploop's device habits on real mounts: {@code mount -d /dev/ploopN} with and without {@code -m},
 * {@code /dev/ploopNp1} usable by fsck between mounts, a free {@code /dev/mapper/ploopN} without
 * {@code -d}, {@code umount -d}, {@code list} ({@code -a}, {@code -f}, {@code --json}), names that
 * are taken or unknown; and a dirty image at mount: repaired and logged, or refused when a cluster
 * is used twice.
 */
class DevicesIT extends MountedDiskBase {
  private static boolean exists(String p) {
    return Files.exists(Path.of(p), LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Puts a fresh 256M disk here and mounts it with {@code mount -d dev -m mnt}: ploop's two lines,
   * and {@code dev} and {@code dev}p1 naming the loop device and its partition.
   */
  private MountStatus mountAs(String dev) throws Exception {
    System.out.println("device " + dev + " (seed " + seed + ")");
    SpaceFixture.initDisk(dir, "256M");
    MountFixture.Run m = ploop("mount", "-d", dev, "-m", mnt.toString(), xml.toString()).ok();
    assertThat(m.out())
        .isEqualTo(
            "Adding delta dev="
                + dev
                + " img="
                + image
                + " (rw)\n"
                + "Mounted "
                + dev
                + "p1 at "
                + mnt.toRealPath()
                + " fstype=ext4 data='lazytime' \n");
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    assertThat(Files.readSymbolicLink(Path.of(dev)).toString()).isEqualTo(st.loopDevice());
    assertThat(Path.of(dev + "p1").toRealPath().toString()).isEqualTo(st.loopDevice() + "p1");
    return st;
  }

  @Test
  void testMountDevice_partitionFsckBetweenMounts_listUmountByDevice() throws Exception {
    String dev = SpaceFixture.freshDevice(rnd);
    MountStatus st = mountAs(dev);
    String f = SpaceFixture.write(mnt.resolve("f"), 4);
    String name = Path.of(dev).getFileName().toString();
    ploop("snapshot", xml.toString()).ok();
    List<Path> chain = DiskDescriptor.read(xml).topChainFiles(xml);
    String list = ploop("list").ok().out();
    assertThat(list).contains(name + "\t" + image + "\n");
    assertThat(ploop("list", "-a").ok().out())
        .contains(name + "\t" + image + "\t" + mnt.toRealPath() + "\n");
    assertThat(ploop("list", "-f").ok().out())
        .contains(name + "\t" + image + "\n\t\t" + chain.get(1) + "\n");
    JsonNode j = null;
    for (JsonNode e : new ObjectMapper().readTree(ploop("list", "--json").ok().out())) {
      if (e.get("name").asText().equals(name)) {
        j = e;
      }
    }
    assertThat(j).as("listed in --json").isNotNull();
    assertThat(j.get("device").asText()).isEqualTo(dev);
    assertThat(j.get("partition").asText()).isEqualTo(dev + "p1");
    assertThat(j.get("loop").asText()).isEqualTo(st.loopDevice());
    assertThat(j.get("state").asText()).isEqualTo("ready");
    assertThat(j.get("status").get("pid").asLong()).isEqualTo(st.pid());

    ploop("umount", "-d", dev + "p1").ok();
    awaitExit(st.pid(), 10_000);
    assertThat(exists(dev)).as("name removed with the mount").isFalse();
    assertThat(exists(dev + "p1")).isFalse();

    MountFixture.Run bare = ploop("mount", "-d", dev, xml.toString()).ok();
    assertThat(bare.out())
        .isEqualTo(
            "Adding delta dev="
                + dev
                + " img="
                + chain.get(0)
                + " (ro)\nAdding delta dev="
                + dev
                + " img="
                + chain.get(1)
                + " (rw)\n");
    MountFixture.Run fsck = sh(300, "fsck", "-fn", dev + "p1");
    assertThat(fsck.exitCode()).as("fsck -fn %sp1: %s", dev, fsck).isZero();
    MountFixture.Run noFs = ploop("balloon", "show", "-d", dev);
    assertThat(noFs.exitCode()).isEqualTo(38);
    assertThat(noFs.err().strip()).isEqualTo("Unable to find mount point for " + dev);

    Path other = Files.createDirectory(dir.resolve("other"));
    ploop("init", "-s", "64M", "-t", "none", other.resolve("root.hds").toString()).ok();
    Path otherXml = other.resolve("DiskDescriptor.xml");
    try {
      MountFixture.Run taken = ploop("mount", "-d", dev, otherXml.toString());
      assertThat(taken.exitCode()).as(taken.toString()).isEqualTo(2);
      assertThat(taken.err().strip())
          .isEqualTo("Failed to create ploop device " + dev + ": File exists");
      assertThat(MountStatus.forDescriptor(otherXml)).as("nothing mounted").isEmpty();
    } finally {
      MountFixture.forceCleanup(otherXml);
    }
    ploop("umount", xml.toString()).ok();
    assertThat(exists(dev)).isFalse();

    MountFixture.Run free = ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    String chosen = free.out().lines().findFirst().orElseThrow().split(" ")[2].substring(4);
    assertThat(chosen).matches("/dev/mapper/ploop\\d+");
    assertThat(free.out()).contains("Mounted " + chosen + "p1 at " + mnt.toRealPath());
    assertThat(Files.isSymbolicLink(Path.of(chosen))).isTrue();
    assertThat(MountFixture.sha256(mnt.resolve("f"))).isEqualTo(f);
    ploop("umount", "-m", mnt.toString()).ok();
    assertThat(exists(chosen)).isFalse();

    MountFixture.Run unknown = ploop("umount", "-d", dev);
    assertThat(unknown.exitCode()).isEqualTo(40);
    assertThat(unknown.err().strip()).isEqualTo("Device " + dev + " is not a mounted ploop device");
    MountFixture.Run notOurs = ploop("umount", "-m", dir.toString());
    assertThat(notOurs.exitCode()).isEqualTo(38);
    assertThat(notOurs.err().strip()).isEqualTo("Unable to find ploop device by " + dir);
    qemuCheckClean(chain.get(1));
  }

  /** A /dev/mapper/ploopN name, N seeded in ploop 9.x's range, with no dm-N and no such name. */
  private String freshMapperDevice() {
    for (int i = 0; i < 1000; i++) {
      int n = 1000 + rnd.nextInt(65535);
      String d = "/dev/mapper/ploop" + n;
      if (!exists(d) && !exists(d + "p1") && !exists("/sys/block/dm-" + n)) {
        return d;
      }
    }
    throw new AssertionError("no free /dev/mapper/ploopN");
  }

  /**
   * ploop 9.x's own form, {@code mount -d /dev/mapper/ploopN}, named explicitly: the name and its
   * {@code p1} while mounted, {@code list} and the balloon verbs find the disk by it, {@code umount
   * -d} takes it with and without {@code p1}, and without {@code -m} the partition is there for
   * {@code fsck -fn}.
   */
  @Test
  void testMountMapperDevice_listBalloonUmountByIt_partitionWithoutMount() throws Exception {
    String dev = freshMapperDevice();
    MountStatus st = mountAs(dev);
    String name = Path.of(dev).getFileName().toString();
    assertThat(ploop("list", "-a").ok().out())
        .contains(name + "\t" + image + "\t" + mnt.toRealPath() + "\n");
    String f = SpaceFixture.write(mnt.resolve("f"), 4);
    assertThat(ploop("balloon", "show", "-d", dev).ok().out())
        .isEqualTo("Current size of hidden balloon is 0 bytes\n");
    assertThat(ploop("balloon", "discard", "--stat", "-d", dev + "p1").ok().out())
        .contains("Ploop size:        256MB");
    ploop("umount", "-d", dev).ok();
    awaitExit(st.pid(), 10_000);
    assertThat(exists(dev)).as("name removed with the mount").isFalse();
    assertThat(exists(dev + "p1")).isFalse();
    assertThat(ploop("list").ok().out()).doesNotContain(name + "\t");

    MountFixture.Run bare = ploop("mount", "-d", dev, xml.toString()).ok();
    assertThat(bare.out()).isEqualTo("Adding delta dev=" + dev + " img=" + image + " (rw)\n");
    MountFixture.Run fsck = sh(300, "fsck", "-fn", dev + "p1");
    assertThat(fsck.exitCode()).as("fsck -fn %sp1: %s", dev, fsck).isZero();
    MountFixture.Run noFs = ploop("balloon", "status", "-d", dev + "p1");
    assertThat(noFs.exitCode()).isEqualTo(38);
    assertThat(noFs.err().strip()).isEqualTo("Unable to find mount point for " + dev + "p1");
    MountStatus bareSt = MountStatus.forDescriptor(xml).orElseThrow();
    ploop("umount", "-d", dev + "p1").ok();
    awaitExit(bareSt.pid(), 10_000);
    assertThat(exists(dev)).isFalse();
    assertThat(exists(dev + "p1")).isFalse();
    MountFixture.Run again = ploop("umount", "-d", dev);
    assertThat(again.exitCode()).isEqualTo(40);
    assertThat(again.err().strip()).isEqualTo("Device " + dev + " is not a mounted ploop device");

    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    assertThat(MountFixture.sha256(mnt.resolve("f"))).isEqualTo(f);
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
  }

  @Test
  void testDirtyImageAtMount_repairedAndLogged_clusterUsedTwiceRefused() throws Exception {
    SpaceFixture.initDisk(dir, "256M");
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    String f = SpaceFixture.write(mnt.resolve("f"), 20);
    sh(30, "sync", "-f", mnt.toString()).ok();
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    sh(10, "kill", "-KILL", Long.toString(st.pid())).ok();
    awaitExit(st.pid(), 10_000);
    assertThat(ploop("umount", xml.toString()).exitCode()).isZero();
    assertThat(inUse()).as("left dirty by kill -9").isTrue();

    MountFixture.Run m = ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    assertThat(m.out())
        .contains(
            "Image "
                + image
                + " was not closed cleanly (in-use flag set):"
                + " checking it as ploop check -F -d does",
            "Mounted ");
    assertThat(Files.readString(Path.of(st.logFile())))
        .contains("mount: Image " + image + " was not closed cleanly");
    assertThat(MountFixture.sha256(mnt.resolve("f"))).isEqualTo(f);
    ploop("umount", xml.toString()).ok();

    // a cluster used twice: ploop treats it as fatal, nothing is repaired or mounted
    setInUseAndDuplicate();
    byte[] before = Files.readAllBytes(image);
    MountFixture.Run dup = ploop("mount", "-m", mnt.toString(), xml.toString());
    assertThat(dup.exitCode()).as(dup.toString()).isEqualTo(11);
    assertThat(dup.err())
        .contains("is used more than once", "is not repaired", "nothing was" + " changed");
    assertThat(dup.err().strip().lines()).hasSize(1);
    assertThat(Files.readAllBytes(image)).as("refused: unchanged").isEqualTo(before);
    assertThat(MountStatus.forDescriptor(xml)).isEmpty();
  }

  private static ByteBuffer le(int v) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, v);
  }

  private boolean inUse() throws Exception {
    try (FileBlockFile fb = FileBlockFile.open(image, true)) {
      return ImageReader.readHeader(fb).inUse();
    }
  }

  /** Points the second mapped BAT entry at the first one's cluster and sets the in-use flag. */
  private void setInUseAndDuplicate() throws Exception {
    int[] slots;
    try (FileBlockFile fb = FileBlockFile.open(image, true)) {
      slots = ImageReader.readBatSlots(fb, ImageReader.readHeader(fb));
    }
    int first = -1;
    int second = -1;
    for (int i = 0; i < slots.length && second < 0; i++) {
      if (slots[i] != 0) {
        if (first < 0) {
          first = i;
        } else {
          second = i;
        }
      }
    }
    assertThat(second).as("two mapped clusters").isPositive();
    try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
      ch.write(le(slots[first]), ImageGeometry.batEntryOffset(second));
      ch.write(le((int) ImageHeader.IN_USE), ImageHeader.OFFSET_DISK_IN_USE);
    }
  }
}
