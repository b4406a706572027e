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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jploop.host.DeviceName;
import org.jploop.host.LoopDevice;
import org.jploop.image.DeltaFile;
import org.jploop.io.FileExtents;
import org.jploop.testing.ForeignFlock;
import org.junit.jupiter.api.Test;

/**
 * {@code ploop balloon} on real mounts (FUSE, loop device, ext4): every subcommand with its
 * messages and exit codes through {@code -d}, {@code -m} and the descriptor; the space a balloon
 * change or a discard takes back, as {@code du} of the image directory shows it; a balloon busy in
 * another process; kill -9 of the mount daemon during a discard.
 */
class BalloonIT extends MountedDiskBase {
  /** The ploop device name the disk got. */
  private String device() throws Exception {
    LoopDevice loop = new LoopDevice(MountStatus.forDescriptor(xml).orElseThrow().loopDevice());
    return DeviceName.of(loop).get(0).path();
  }

  /** Clusters the top delta maps, as its BAT on disk says ({@code ploop info} reads the same). */
  private long mapped() throws Exception {
    try (DeltaFile top = DeltaFile.open(image, true)) {
      return top.mappedCount();
    }
  }

  private static long number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("/%s/ in: %s", regex, text).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void testChangeCheckRepairShowStatusClearComplete_spaceComesBack() throws Exception {
    String a = mountWithGarbage("256M", "a", 20, 150);
    String dev = device();
    long du0 = SpaceFixture.du(dir);
    long mapped0 = mapped();
    // the balloon cannot fit in the never-written free space: it must cover garbage clusters
    MountFixture.Run c = ploop("balloon", "change", "-s", "180M", "-d", dev).ok();
    assertThat(c.out())
        .contains(
            "Changing balloon size old_size=0 new_size=" + 180 * MIB,
            "Successfully inflated balloon from 0 to " + 180 * MIB + " bytes",
            "TRUNCATED: ");
    long released = number(c.out(), "Released (\\d+) cluster-blocks");
    long mapped1 = mapped();
    long du1 = SpaceFixture.du(dir);
    System.out.printf(
        Locale.ROOT,
        "balloon change -s 180M over 150 MiB of deleted data: released %d clusters;"
            + " clusters in the image %d -> %d; du -x of the image directory"
            + " %d -> %d KiB%n",
        released,
        mapped0,
        mapped1,
        du0 >> 10,
        du1 >> 10);
    assertThat(released).isGreaterThan(80);
    assertThat(du1).isLessThan(du0 - 80 * MIB);
    assertThat(mapped1).isLessThanOrEqualTo(mapped0 - released + 8);
    // ploop's own name for the tool: the ploop-balloon launcher beside ./ploop
    Path launcher =
        MountFixture.jar().toAbsolutePath().getParent().getParent().resolve("ploop-balloon");
    assertThat(sh(60, launcher.toString(), "show", xml.toString()).ok().out())
        .isEqualTo("Current size of hidden balloon is " + 180 * MIB + " bytes\n");
    assertThat(ploop("balloon", "check", "-m", mnt.toString()).ok().out())
        .isEqualTo("No free blocks found\n");
    checkExtentsAgainstFilefrag();

    // a change killed before its release leaves an inflated balloon over live clusters: repair
    assertThat(ploop("balloon", "change", "-s", "0", "-m", mnt.toString()).ok().out())
        .contains("Successfully truncated balloon from " + 180 * MIB + " to 0 bytes");
    SpaceFixture.garbage(mnt, 100);
    sh(60, "fallocate", "-l", "150M", balloon(mnt).toString()).ok();
    String chk = ploop("balloon", "check", "-d", dev).ok().out();
    long found =
        number(chk, "Found (\\d+) free blocks\\. Consider using \"ploop-balloon" + " repair\"");
    long mapped2 = mapped();
    MountFixture.Run rep = ploop("balloon", "repair", "-d", dev + "p1").ok();
    assertThat(rep.out()).contains("Found " + found + " free blocks", "TRUNCATED: ");
    long mapped3 = mapped();
    System.out.printf(
        Locale.ROOT,
        "balloon repair after an unreleased inflation: %d free blocks, clusters in"
            + " the image %d -> %d%n",
        found,
        mapped2,
        mapped3);
    assertThat(found).isGreaterThan(20);
    assertThat(mapped3).isLessThanOrEqualTo(mapped2 - found + 8);
    assertThat(ploop("balloon", "check", xml.toString()).ok().out())
        .isEqualTo("No free blocks found\n");

    assertThat(ploop("balloon", "status", "-m", mnt.toString()).ok().out())
        .isEqualTo("Current state of in-kernel maintenance: OFF\n");
    assertThat(ploop("balloon", "clear", xml.toString()).ok().out())
        .isEqualTo("Current state of in-kernel maintenance is OFF now\n");
    assertThat(ploop("balloon", "complete", "-d", dev).ok().out())
        .isEqualTo("Nothing to complete: kernel is in \"OFF\" state\n");

    busyBalloonRefused(dev);
    assertThat(MountFixture.sha256(mnt.resolve("a"))).isEqualTo(a);
    ploop("umount", xml.toString()).ok();
    System.out.printf(
        Locale.ROOT, "du of the image directory unmounted: %d KiB%n", SpaceFixture.du(dir) >> 10);
    qemuCheckClean(image);
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    assertThat(MountFixture.sha256(mnt.resolve("a"))).isEqualTo(a);
    assertThat(Files.size(balloon(mnt))).isEqualTo(150 * MIB);
  }

  /** FIEMAP as jploop reads it agrees with filefrag on the balloon. */
  private void checkExtentsAgainstFilefrag() throws Exception {
    Path b = balloon(mnt);
    List<FileExtents.Extent> mine = FileExtents.of(b, 0, Files.size(b));
    long bytes =
        mine.stream()
            .filter(FileExtents.Extent::unwritten)
            .mapToLong(FileExtents.Extent::length)
            .sum();
    assertThat(bytes).as("unwritten bytes of the balloon").isEqualTo(Files.size(b));
    String ff = sh(60, "filefrag", "-v", "-b1", b.toString()).ok().out();
    Matcher m = Pattern.compile("(?m)^\\s*0:\\s+0\\.\\.\\s*\\d+:\\s+(\\d+)\\.\\.").matcher(ff);
    assertThat(m.find()).as(ff).isTrue();
    assertThat(mine.get(0).physical())
        .as("first extent, filefrag says: %s", ff)
        .isEqualTo(Long.parseLong(m.group(1)));
  }

  /**
   * Another process holds the balloon: every verb that takes its lock gets 17 and nothing changes;
   * {@code -f} ("do not flock", parsed and ignored by ploop 7.x) does not get past it on {@code
   * check} and {@code repair}; {@code show -f} and {@code status -f}, which take no lock, still
   * answer; {@code clear}, {@code complete} and {@code change} have no {@code -f} in ploop (usage,
   * 38).
   */
  private void busyBalloonRefused(String dev) throws Exception {
    long size = Files.size(balloon(mnt));
    Process holder = ForeignFlock.hold(balloon(mnt), true);
    try {
      long end = System.currentTimeMillis() + 10_000;
      while (!ploop("balloon", "status", "-f", "-m", mnt.toString())
          .ok()
          .out()
          .contains("BALLOON")) {
        assertThat(System.currentTimeMillis()).as("flock holder").isLessThan(end);
        Thread.sleep(50);
      }
      for (List<String> verb :
          List.of(
              List.of("change", "-s", "10M"),
              List.of("repair"),
              List.of("repair", "-f"),
              List.of("check"),
              List.of("check", "-f"),
              List.of("clear"),
              List.of("complete"))) {
        List<String> args = new java.util.ArrayList<>(List.of("balloon"));
        args.addAll(verb);
        args.addAll(List.of("-d", dev));
        MountFixture.Run r = ploop(args.toArray(String[]::new));
        assertThat(r.exitCode()).as("%s: %s", verb, r).isEqualTo(17);
        assertThat(r.err().strip())
            .as("%s", verb)
            .isEqualTo("Hidden balloon is in use by someone else!");
        assertThat(r.out()).as("%s", verb).isEmpty();
      }
      assertThat(ploop("balloon", "show", "-f", "-d", dev).ok().out())
          .isEqualTo("Current size of hidden balloon is " + size + " bytes\n");
      for (List<String> verb :
          List.of(List.of("clear"), List.of("complete"), List.of("change", "-s", "0"))) {
        List<String> args = new java.util.ArrayList<>(List.of("balloon"));
        args.addAll(verb);
        args.addAll(List.of("-f", "-d", dev));
        MountFixture.Run r = ploop(args.toArray(String[]::new));
        assertThat(r.exitCode()).as("%s -f: %s", verb, r).isEqualTo(38);
        assertThat(r.err())
            .as("%s -f", verb)
            .contains("Unknown option: '-f'", "Usage: ploop balloon " + verb.get(0));
      }
      assertThat(Files.size(balloon(mnt))).isEqualTo(size);
    } finally {
      SpaceFixture.killTree(holder);
    }
  }

  @Test
  void testDiscard_duDropsWithNoFstrim_statToFreeDefragAutomount() throws Exception {
    String keep = mountWithGarbage("512M", "keep", 30, 200);
    MountFixture.Run st = ploop("balloon", "discard", "--stat", xml.toString()).ok();
    assertThat(st.out())
        .matches(
            "Balloon size: +0MB\nData size: +\\d+MB\nPloop size: +512MB\n"
                + "Image size: +\\d+MB\n");
    long du0 = SpaceFixture.du(dir);
    MountFixture.Run part =
        ploop("balloon", "discard", "--to-free", "20M", "-m", mnt.toString()).ok();
    long du1 = SpaceFixture.du(dir);
    long passes = part.out().lines().filter(l -> l.startsWith("Call FITRIM")).count();
    assertThat(part.out())
        .contains(
            "Trying to find free extents bigger than 1048576 bytes",
            "Call FITRIM, for minlen=33554432",
            "ploop=512MB image=",
            "Discard freed ");
    assertThat(passes).as("--to-free 20M stops the ladder early: %s", part.out()).isLessThan(6);
    SpaceFixture.garbage(mnt, 60);
    long du2 = SpaceFixture.du(dir);
    MountFixture.Run full = ploop("balloon", "discard", "--defrag", "-d", device()).ok();
    long du3 = SpaceFixture.du(dir);
    assertThat(full.out()).contains("Start defrag dev=", "Call FITRIM, for minlen=1048576");
    String stat3 = ploop("balloon", "discard", "--stat", "-m", mnt.toString()).ok().out();
    System.out.printf(
        Locale.ROOT,
        "balloon discard --stat before: %s; after: %s%n",
        st.out().strip().replace('\n', '|'),
        stat3.strip().replace('\n', '|'));
    System.out.printf(
        Locale.ROOT,
        "balloon discard: du of the image directory %d KiB -> %d KiB (--to-free"
            + " 20M, %d FITRIM passes); then %d KiB -> %d KiB (--defrag, full ladder)%n",
        du0 >> 10,
        du1 >> 10,
        passes,
        du2 >> 10,
        du3 >> 10);
    assertThat(du1).isLessThan(du0 - 20 * MIB);
    assertThat(du3).isLessThan(du2 - 50 * MIB);
    assertThat(du3).isLessThan(60 * MIB + 30 * MIB);
    assertThat(MountFixture.sha256(mnt.resolve("keep"))).isEqualTo(keep);
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);

    MountFixture.Run notMounted = ploop("balloon", "discard", xml.toString());
    assertThat(notMounted.exitCode()).isEqualTo(38);
    assertThat(notMounted.err().strip()).isEqualTo("Unable to discard: image is not mounted");
    assertThat(ploop("balloon", "discard", "--automount", xml.toString()).ok().out())
        .contains("Discard freed ");
    assertThat(MountStatus.forDescriptor(xml)).as("automount unmounted again").isEmpty();
    assertThat(Path.of(image + ".mnt")).doesNotExist();
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    assertThat(MountFixture.sha256(mnt.resolve("keep"))).isEqualTo(keep);
  }

  /**
   * {@code --min-block}, {@code --defrag-only} and {@code --image-defrag-threshold} on a real
   * mount. Deleting every other one of 40 files of 2 MiB leaves free extents of 2 MiB between live
   * data: {@code --min-block 4M} ends the ladder at 4 MiB and leaves them in the image, the plain
   * discard after it takes them back. {@code --defrag-only} runs e4defrag and no FITRIM; {@code
   * --defrag} with a threshold the image is below skips the defrag and trims.
   */
  @Test
  void testDiscardMinBlockDefragOnlyThreshold_smallHolesStayUntilTheLadderReachesThem()
      throws Exception {
    SpaceFixture.initDisk(dir, "256M");
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    String[] sha = new String[40];
    for (int i = 0; i < sha.length; i++) {
      sha[i] = SpaceFixture.write(mnt.resolve("f" + i), 2);
    }
    for (int i = 1; i < sha.length; i += 2) {
      Files.delete(mnt.resolve("f" + i));
    }
    sh(60, "sync", "-f", mnt.toString()).ok();
    FuseWatchdog dog = FuseWatchdog.of(xml);
    long du0 = SpaceFixture.du(dir);
    MountFixture.Run big =
        guarded(dog, 120, "balloon", "discard", "--min-block", "4M", "-m", mnt.toString()).ok();
    long du1 = SpaceFixture.du(dir);
    assertThat(big.out())
        .contains(
            "Trying to find free extents bigger than 4194304 bytes",
            "Call FITRIM, for minlen=33554432",
            "Call FITRIM, for minlen=4194304\n");
    assertThat(big.out()).doesNotContain("minlen=2097152", "minlen=1048576");
    MountFixture.Run all = guarded(dog, 120, "balloon", "discard", "-m", mnt.toString()).ok();
    long du2 = SpaceFixture.du(dir);
    assertThat(all.out()).contains("Call FITRIM, for minlen=1048576");

    MountFixture.Run only =
        guarded(dog, 300, "balloon", "discard", "--defrag-only", "-d", device()).ok();
    assertThat(only.out()).contains("Start defrag dev=");
    assertThat(only.out()).doesNotContain("Call FITRIM", "Discard freed");
    MountFixture.Run skip =
        guarded(
                dog,
                120,
                "balloon",
                "discard",
                "--defrag",
                "--image-defrag-threshold",
                "1000000",
                "-m",
                mnt.toString())
            .ok();
    Matcher m =
        Pattern.compile(
                "Image defrag skipped: (\\d+) extents for (\\d+) clusters, below"
                    + " threshold (\\d+) <= 1000000")
            .matcher(skip.out());
    assertThat(m.find()).as(skip.out()).isTrue();
    assertThat(Long.parseLong(m.group(3)))
        .isEqualTo(Long.parseLong(m.group(1)) / Long.parseLong(m.group(2)));
    assertThat(skip.out()).doesNotContain("Start defrag");
    assertThat(skip.out()).contains("Call FITRIM, for minlen=1048576", "Discard freed ");
    System.out.printf(
        Locale.ROOT,
        "discard of 20 free 2 MiB extents between live data: du %d KiB, after"
            + " --min-block 4M %d KiB, after the full ladder %d KiB; %s%n",
        du0 >> 10,
        du1 >> 10,
        du2 >> 10,
        m.group());
    // ext4 may place a few of the files out of order, so that their holes merge (or join the
    // free space behind them) into extents of 4 MiB and more: most holes are 2 MiB, not all
    assertThat(du1 - du2).as("the passes below 4 MiB take the 2 MiB holes").isGreaterThan(16 * MIB);
    assertThat(du0 - du1).as("--min-block 4M leaves most of them").isLessThan(du1 - du2);
    for (int i = 0; i < sha.length; i += 2) {
      assertThat(MountFixture.sha256(mnt.resolve("f" + i))).isEqualTo(sha[i]);
    }
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
  }

  @Test
  void testKill9DuringDiscard_nextMountRepairs_everyFileIntact() throws Exception {
    String keep = mountWithGarbage("512M", "keep", 40, 300);
    FuseWatchdog dog = FuseWatchdog.of(xml);
    Path out = dir.resolve("discard.out");
    Process discard =
        SpaceFixture.ploopInBackground(out, "balloon", "discard", "-m", mnt.toString());
    SpaceFixture.awaitText(out, 0, "Call FITRIM", 60_000);
    long delay = rnd.nextInt(150);
    Thread.sleep(delay);
    sh(10, "kill", "-KILL", Long.toString(dog.daemonPid())).ok();
    dog.awaitDaemonExit(15_000);
    int rc = dog.await(discard, 60, "ploop balloon discard after kill -9 of the daemon");
    System.out.printf(
        Locale.ROOT,
        "kill -9 %d ms into the discard (seed %d): discard exit %d%n",
        delay,
        seed,
        rc);

    remountAfterDaemonKill("keep", keep, delay + " ms into the discard");
    ploop("balloon", "discard", "-m", mnt.toString()).ok();
    assertThat(MountFixture.sha256(mnt.resolve("keep"))).isEqualTo(keep);
    umountAndJudge();
  }
}
