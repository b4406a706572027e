package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.jploop.format.descriptor.DiskDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Component mounts with the shipped jar (real FUSE, loop devices, ext4): {@code ploop tsnapshot} on
 * a mounted disk serves the snapshot read-only beside it, unchanged while the disk is written, with
 * its filesystem at {@code -m}; a merge of the snapshot while mounted is refused (17), a second
 * mount under the same component too (21); {@code umount -c} leaves the plain mount and the merge
 * then works. {@code mount -c} of the top delta the plain mount writes is refused (21), of the
 * snapshot it serves it read-only (compact refused, 17); {@code umount -c} of what is not mounted
 * is 40. Data is compared by SHA-256. Every test runs under a {@link FuseDeadline}.
 */
class ComponentMountIT extends MountFixture {
  private static final String SNAP = "{11111111-2222-3333-4444-555555555555}";
  private static final long SEED = 1501;

  @AfterEach
  void umountComponents() {
    for (String c : new String[] {"C", "X"}) {
      try {
        if (Files.exists(xml) && MountStatus.forDescriptor(xml, c).isPresent()) {
          ploop("umount", "-c", c, xml.toString());
        }
      } catch (IOException | InterruptedException | AssertionError e) {
        // not mounted
      }
    }
  }

  @Test
  void testTsnapshotServesTheSnapshotWhileTheDiskChanges() throws Exception {
    System.out.println("ComponentMountIT seed " + SEED);
    Random rnd = new Random(SEED);
    ploop("init", "-s", "32M", "-t", "none", image.toString()).ok();
    Path img = Path.of(mount(xml.toString()).ok().out().strip());
    try (FuseDeadline deadline = new FuseDeadline(90, "tsnapshot scenario")) {
      deadline.watch(FuseWatchdog.of(xml));
      writeAt(img, 0, randomBytes(rnd, 4 << 20));
      String before = sha256(img);

      Run t = ploop("tsnapshot", "-u", SNAP, "-c", "C", xml.toString()).ok();
      assertThat(t.out())
          .contains("ploop temporary snapshot " + SNAP + " has been successfully created");
      DiskDescriptor d = DiskDescriptor.read(xml);
      assertThat(d.shot(SNAP).temporary()).isEqualTo("Temporary");
      assertThat(Files.readString(xml)).contains("<Temporary/>");
      MountStatus c = MountStatus.forDescriptor(xml, "C").orElseThrow();
      deadline.watch(FuseWatchdog.of(c));
      Path cimg = Path.of(c.diskImage());
      assertThat(cimg).isNotEqualTo(img);
      assertThat(ploop("list").ok().out())
          .containsPattern("(?m)\\t" + xml.getParent().toRealPath().resolve("root.hds") + "\\tC$");
      assertThat(sha256(cimg)).as("the snapshot's content").isEqualTo(before);
      assertThatThrownBy(() -> FileChannel.open(cimg, StandardOpenOption.WRITE).close())
          .as("a component is read-only")
          .isInstanceOf(IOException.class);

      writeAt(img, 1 << 20, randomBytes(rnd, 2 << 20));
      String after = sha256(img);
      assertThat(after).isNotEqualTo(before);
      assertThat(sha256(cimg)).as("the snapshot after writes to the disk").isEqualTo(before);

      Run busy = ploop("snapshot-merge", xml.toString());
      assertThat(busy.exitCode()).as(busy.err()).isEqualTo(17);
      assertThat(busy.err()).contains("Snapshot " + SNAP + " is busy by device(s): ");
      Run again =
          ploop(
              "tsnapshot",
              "-u",
              "{11111111-2222-3333-4444-666666666666}",
              "-c",
              "C",
              xml.toString());
      assertThat(again.exitCode()).as(again.err()).isEqualTo(21);
      assertThat(again.err()).contains("already used by device");
      Run twice = ploop("mount", "-c", "C", xml.toString());
      assertThat(twice.exitCode()).as(twice.err()).isEqualTo(21);
      assertThat(DiskDescriptor.read(xml).images()).hasSize(2);

      ploop("umount", "-c", "C", xml.toString()).ok();
      assertThat(MountStatus.forDescriptor(xml, "C")).isEmpty();
      assertThat(Files.exists(cimg)).isFalse();
      assertThat(sha256(img)).as("the plain mount after umount -c").isEqualTo(after);

      // mount -c: not the top delta the plain mount writes, but a snapshot, read-only
      Run topx = ploop("mount", "-c", "X", xml.toString());
      assertThat(topx.exitCode()).as(topx.err()).isEqualTo(21);
      assertThat(topx.err()).contains("writes its top delta");
      Run x = ploop("mount", "-c", "X", "-u", SNAP, xml.toString()).ok();
      assertThat(x.err()).contains("Mounting read-only: component X");
      Path ximg = Path.of(x.out().strip());
      deadline.watch(FuseWatchdog.of(MountStatus.forDescriptor(xml, "X").orElseThrow()));
      assertThat(sha256(ximg)).isEqualTo(before);
      assertThat(ploop("list").ok().out()).containsPattern("(?m)^" + ximg + "\\t.*\\tX$");
      Run compact = ploop("compact", xml.toString());
      assertThat(compact.exitCode()).as(compact.err()).isEqualTo(17);
      ploop("umount", "-c", "X", xml.toString()).ok();
      Run none = ploop("umount", "-c", "X", xml.toString());
      assertThat(none.exitCode()).as(none.err()).isEqualTo(40);

      ploop("snapshot-merge", xml.toString()).ok();
      assertThat(DiskDescriptor.read(xml).images()).hasSize(1);
      assertThat(sha256(img)).as("after merging the snapshot back").isEqualTo(after);
    }
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
  }

  @Test
  void testTsnapshotMountsTheSnapshotFilesystem() throws Exception {
    ploop("init", "-s", "64M", image.toString()).ok();
    mount("-m", mnt.toString(), xml.toString()).ok();
    Path snapMnt = Files.createDirectory(dir.resolve("snapmnt"));
    try (FuseDeadline deadline = new FuseDeadline(120, "tsnapshot -m scenario")) {
      deadline.watch(FuseWatchdog.of(xml));
      byte[] data = randomBytes(new Random(SEED), 3 << 20);
      Files.write(mnt.resolve("a"), data);
      String want = sha256(mnt.resolve("a"));
      Run t =
          ploop("tsnapshot", "-u", SNAP, "-c", "C", "-m", snapMnt.toString(), xml.toString()).ok();
      assertThat(t.out()).contains("ploop temporary snapshot " + SNAP);
      deadline.watch(FuseWatchdog.of(MountStatus.forDescriptor(xml, "C").orElseThrow()));
      Files.write(mnt.resolve("b"), data);
      assertThat(sha256(snapMnt.resolve("a"))).isEqualTo(want);
      assertThat(snapMnt.resolve("b")).as("written after the snapshot").doesNotExist();
      ploop("umount", "-c", "C", xml.toString()).ok();
      assertThat(sh(10, "mountpoint", "-q", snapMnt.toString()).exitCode()).isNotZero();
      assertThat(sha256(mnt.resolve("b"))).isEqualTo(want);
    }
    ploop("umount", xml.toString()).ok();
  }
}
