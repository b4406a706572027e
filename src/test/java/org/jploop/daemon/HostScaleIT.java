package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Many disks on one host (issue 13): 20 small ext4 disks mounted at once, four {@code ploop mount}
 * at a time, all served by one host daemon; a writer on each writes and fsyncs seeded random files
 * while all are mounted, and each file is read back; then all are unmounted (the host daemon exits
 * with the last), every fifth is remounted read-only, its files verified from the image and judged
 * by {@code ploop check}, and all by {@code qemu-img check}. Real FUSE mounts, loop devices and
 * ext4 (skipped loudly without /dev/fuse or root).
 */
class HostScaleIT extends MountFixture {
  private static final int DISKS = 20;
  private final long seed = System.nanoTime();
  private HostDisks disks;

  @AfterEach
  void cleanupDisks() {
    if (disks != null) {
      disks.forceCleanup();
    }
  }

  @Test
  void test20Disks_oneHostDaemon_writersOnAll_verifiedAfterRemount() throws Exception {
    System.out.println("HostScaleIT: seed " + seed);
    disks = new HostDisks(dir, DISKS, "64M", seed);
    phase("made");
    disks.mountAll(4);
    phase("mounted");
    Set<Long> pids = new HashSet<>();
    for (int i = 0; i < DISKS; i++) {
      pids.add(disks.pid(i));
    }
    assertThat(pids).as("one host daemon serves all %d disks", DISKS).hasSize(1);
    long host = pids.iterator().next();
    assertThat(HostDaemon.runningPid()).isEqualTo(host);
    String list = ploop("list").ok().out();
    for (int i = 0; i < DISKS; i++) {
      assertThat(list).contains(disks.image(i).toString());
    }

    List<HostDisks.Writer> writers = new ArrayList<>();
    for (int i = 0; i < DISKS; i++) {
      writers.add(new HostDisks.Writer(disks.mnt(i), 4, 1 << 20, seed, i).start());
    }
    for (HostDisks.Writer w : writers) {
      w.join(120_000);
      assertThat(w.failure).as("%s, seed %d", w.dir, seed).isNull();
      assertThat(w.durable).hasSize(4);
    }

    for (int i = 0; i < DISKS; i++) {
      writers.get(i).verify(disks.mnt(i), seed);
    }
    phase("mounted and written");
    disks.umountAll(4);
    MountFixture.awaitExit(host, 10_000);
    phase("unmounted");
    // a fifth of them once more from the image alone, read-only
    HostDisks some = disks.subset(5);
    some.mountAll(4, "-r");
    for (int i = 0; i < some.n; i++) {
      writers.get(some.index(i)).verify(some.mnt(i), seed);
    }
    some.umountAll(4);
    phase("remounted and verified");
    some.each(4, i -> new String[] {"check", some.xml(i).toString()});
    for (int i = 0; i < DISKS; i++) {
      qemuCheckClean(disks.image(i));
    }
    phase("judged");
  }

  private long last = System.nanoTime();

  private void phase(String what) {
    long now = System.nanoTime();
    System.out.printf(
        java.util.Locale.ROOT, "HostScaleIT: %s in %.1f s%n", what, (now - last) / 1e9);
    last = now;
  }
}
