package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.util.ArrayList;
import java.util.List;
import org.jploop.host.MountTable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One disk's failure in a host daemon leaves the others serving (issue 13): a corrupt image at
 * mount is refused with ploop's message and exit code while writers on two mounted disks go on; a
 * disk whose FUSE connection is aborted stops alone, the host daemon and the other disks carry on,
 * and {@code ploop umount} leaves nothing of it. Real FUSE mounts, loop devices and ext4 (skipped
 * loudly without /dev/fuse or root).
 */
class HostIsolationIT extends MountFixture {
  private final long seed = System.nanoTime();
  private HostDisks disks;

  @AfterEach
  void cleanupDisks() {
    if (disks != null) {
      disks.forceCleanup();
    }
  }

  @Test
  void testCorruptImageAtMount_othersKeepServing() throws Exception {
    System.out.println("HostIsolationIT: seed " + seed);
    disks = new HostDisks(dir, 3, "64M", seed);
    ploop("mount", "-m", disks.mnt(0).toString(), disks.xml(0).toString()).ok();
    ploop("mount", "-m", disks.mnt(1).toString(), disks.xml(1).toString()).ok();
    long host = disks.pid(0);
    List<HostDisks.Writer> writers = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      writers.add(new HostDisks.Writer(disks.mnt(i), 12, 512 << 10, seed, i).start());
    }
    try (RandomAccessFile f = new RandomAccessFile(disks.image(2).toFile(), "rw")) {
      f.write(new byte[16]); // the signature
    }
    Run bad = ploop("mount", "-m", disks.mnt(2).toString(), disks.xml(2).toString());
    assertThat(bad.exitCode()).as("corrupt image: %s", bad.err()).isNotZero();
    assertThat(bad.err()).contains(disks.image(2).toString());
    assertThat(MountStatus.forDescriptor(disks.xml(2))).isEmpty();
    for (HostDisks.Writer w : writers) {
      w.join(120_000);
      assertThat(w.failure).as("%s, seed %d", w.dir, seed).isNull();
      w.verify(w.dir, seed);
    }
    assertThat(disks.pid(0)).isEqualTo(host);
    assertThat(disks.pid(1)).isEqualTo(host);
    ploop("umount", disks.xml(0).toString()).ok();
    ploop("umount", disks.xml(1).toString()).ok();
    MountFixture.awaitExit(host, 10_000);
  }

  @Test
  void testAbortedFuseSessionOfOneDisk_othersKeepServing() throws Exception {
    System.out.println("HostIsolationIT: seed " + seed);
    disks = new HostDisks(dir, 3, "64M", seed);
    disks.mountAll(3);
    long host = disks.pid(0);
    MountStatus lost = MountStatus.forDescriptor(disks.xml(1)).orElseThrow();
    List<HostDisks.Writer> writers = new ArrayList<>();
    for (int i : new int[] {0, 2}) {
      writers.add(new HostDisks.Writer(disks.mnt(i), 12, 512 << 10, seed, i).start());
    }
    assertThat(FuseWatchdog.of(disks.xml(1)).abort()).isEqualTo("aborted");
    for (HostDisks.Writer w : writers) {
      w.join(120_000);
      assertThat(w.failure).as("%s, seed %d", w.dir, seed).isNull();
      w.verify(w.dir, seed);
    }
    assertThat(MountStatus.running(host)).as("host daemon").isTrue();
    assertThat(ploop("list").ok().out())
        .contains(disks.image(0).toString(), disks.image(2).toString())
        .doesNotContain(disks.image(1).toString());
    Run u = ploop("umount", disks.xml(1).toString());
    assertThat(u.exitCode()).as("umount of the lost disk: %s", u.err()).isIn(0, 40);
    assertThat(MountTable.at(disks.mnt(1).toRealPath())).isEmpty();
    assertThat(MountTable.at(java.nio.file.Path.of(lost.fuseDir()))).isEmpty();
    ploop("umount", disks.xml(0).toString()).ok();
    ploop("umount", disks.xml(2).toString()).ok();
    MountFixture.awaitExit(host, 10_000);
  }
}
