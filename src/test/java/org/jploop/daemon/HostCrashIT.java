package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountTable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of a host daemon serving several disks at once (issue 13), with a writer on each: every
 * disk recovers as one served by its own daemon does. The first two are cleaned by {@code ploop
 * umount} (which says the image may be dirty; the second's descriptor is removed first, and umount
 * of its path still finds it), the third by the next host daemon as it starts; {@code ploop check
 * -F} repairs each image, and every file whose fsync had returned is intact after a remount. Real
 * FUSE mounts, loop devices, ext4 and kill -9 (skipped loudly without /dev/fuse or root).
 */
class HostCrashIT extends MountFixture {
  private static final int DISKS = 3;
  private final long seed = System.nanoTime();
  private HostDisks disks;

  @AfterEach
  void cleanupDisks() {
    if (disks != null) {
      disks.forceCleanup();
    }
  }

  @Test
  void testKill9OfHostDaemon_withWritersOnAllDisks_everyDiskRecovers() throws Exception {
    System.out.println("HostCrashIT: seed " + seed);
    disks = new HostDisks(dir, DISKS, "128M", seed);
    disks.mountAll(DISKS);
    long host = disks.pid(0);
    List<MountStatus> before = new ArrayList<>();
    for (int i = 0; i < DISKS; i++) {
      assertThat(disks.pid(i)).isEqualTo(host);
      before.add(MountStatus.forDescriptor(disks.xml(i)).orElseThrow());
    }
    List<HostDisks.Writer> writers = new ArrayList<>();
    for (int i = 0; i < DISKS; i++) {
      writers.add(new HostDisks.Writer(disks.mnt(i), 1000, 256 << 10, seed, i).start());
    }
    // kill while all of them write, once each has made a few files durable
    long end = System.currentTimeMillis() + 60_000;
    while (writers.stream().anyMatch(w -> w.durable.size() < 3 && w.failure == null)) {
      assertThat(System.currentTimeMillis()).as("writers too slow, seed %d", seed).isLessThan(end);
      Thread.sleep(20);
    }
    for (HostDisks.Writer w : writers) {
      assertThat(w.failure).as("%s before the kill, seed %d", w.dir, seed).isNull();
    }
    sh(10, "kill", "-KILL", Long.toString(host)).ok();
    MountFixture.awaitExit(host, 20_000);
    for (HostDisks.Writer w : writers) {
      w.stop = true;
      w.join(60_000);
    }
    assertThat(ploop("list").ok().out())
        .as("no dead disk listed")
        .doesNotContain(disks.root.toString());

    // two cleaned by ploop umount of each, the second with its descriptor gone meanwhile
    Path moved = disks.dir(1).resolve("moved.xml");
    java.nio.file.Files.move(disks.xml(1), moved);
    for (int i = 0; i < 2; i++) {
      Run u = ploop("umount", disks.xml(i).toString());
      assertThat(u.exitCode()).as("umount after kill -9: %s", u.err()).isZero();
      assertThat(u.err()).contains("ploop check");
      assertGone(before.get(i), disks.mnt(i));
    }
    java.nio.file.Files.move(moved, disks.xml(1));
    // the third by the next host daemon, which the next mount starts
    ploop("mount", disks.xml(0).toString()).ok();
    assertThat(disks.pid(0)).isNotEqualTo(host);
    assertGone(before.get(2), disks.mnt(2));
    assertThat(ploop("umount", disks.xml(2).toString()).exitCode())
        .as("already cleaned: not mounted")
        .isEqualTo(40);
    ploop("umount", disks.xml(0).toString()).ok();

    for (int i = 0; i < DISKS; i++) {
      Run c = ploop("check", "-F", disks.xml(i).toString());
      assertThat(c.exitCode())
          .as("ploop check -F %s: %s %s", disks.xml(i), c.out(), c.err())
          .isZero();
      qemuCheckClean(disks.image(i));
    }
    disks.mountAll(DISKS);
    for (int i = 0; i < DISKS; i++) {
      writers.get(i).verify(disks.mnt(i), seed);
    }
    disks.umountAll(DISKS);
  }

  /** Asserts nothing of the mount {@code st} is left: inner mount, loop, FUSE, run directory. */
  private static void assertGone(MountStatus st, Path mnt) throws Exception {
    assertThat(MountTable.at(mnt.toRealPath())).as("inner mount %s", mnt).isEmpty();
    assertThat(MountTable.at(Path.of(st.fuseDir()))).as("FUSE mount %s", st.fuseDir()).isEmpty();
    assertThat(LoopDevice.backedBy(Path.of(st.diskImage()))).as("loop devices").isEmpty();
    assertThat(st.runPaths().runDir()).as("run directory").doesNotExist();
  }
}
