package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.daemon.MountFixture.ploop;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of the balloon, shrink and device mount tests, on top of {@link MountFixture} (the disk's
 * paths, the loud skip without FUSE or root, the cleanup after every test): a seeded random whose
 * seed is printed; {@code ploop} runs under a {@link FuseWatchdog} deadline; and the steps the kill
 * -9 tests share: a mounted disk with dead clusters, the remount after the daemon's death, the
 * judges.
 */
abstract class MountedDiskBase extends MountFixture {
  static final long MIB = 1 << 20;
  final long seed = System.nanoTime();
  final Random rnd = new Random(seed);

  @BeforeEach
  void printSeed() {
    System.out.println(getClass().getSimpleName() + ": seed " + seed);
  }

  /**
   * Puts a disk of {@code size} here, mounts it at {@code mnt}, writes {@code keepMib} MiB of
   * random data to {@code name} and {@code garbageMib} MiB more that are deleted again (dead
   * clusters the image still holds); returns the sha256 of {@code name}.
   */
  String mountWithGarbage(String size, String name, int keepMib, int garbageMib) throws Exception {
    SpaceFixture.initDisk(dir, size);
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    String sha = SpaceFixture.write(mnt.resolve(name), keepMib);
    SpaceFixture.garbage(mnt, garbageMib);
    return sha;
  }

  /**
   * Runs {@code ploop args...} against the mounted disk {@code dog} watches: past {@code timeoutS}
   * the watchdog aborts this disk's FUSE connection (so nothing stays hung in it) and fails the
   * test.
   */
  MountFixture.Run guarded(FuseWatchdog dog, long timeoutS, String... args) throws Exception {
    Path out = Files.createTempFile(dir, "ploop-", ".out");
    Path err = Files.createTempFile(dir, "ploop-", ".err");
    List<String> argv =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                MountFixture.jar().toString()));
    argv.addAll(List.of(args));
    Process p =
        new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    int rc = dog.await(p, timeoutS, "ploop " + String.join(" ", args));
    MountFixture.Run r = new MountFixture.Run(rc, Files.readString(out), Files.readString(err));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  /**
   * After kill -9 of the mount daemon: {@code ploop umount} clears the dead mount, the next {@code
   * ploop mount -m} finds the image dirty and repairs it, and {@code name} still has {@code sha}
   * ({@code kill} says where the kill fell, for the failure message).
   */
  void remountAfterDaemonKill(String name, String sha, String kill) throws Exception {
    assertThat(ploop("umount", xml.toString()).exitCode()).isZero();
    MountFixture.Run m = ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    assertThat(m.out()).contains("was not closed cleanly", "Mounted ");
    assertThat(MountFixture.sha256(mnt.resolve(name)))
        .as("after kill -9 %s, seed %d", kill, seed)
        .isEqualTo(sha);
  }

  /** Unmounts the disk; e2fsck -fn through a fresh ploop device and qemu-img check judge it. */
  void umountAndJudge() throws Exception {
    ploop("umount", xml.toString()).ok();
    SpaceFixture.fsckThroughDevice(xml, SpaceFixture.freshDevice(rnd));
    MountFixture.qemuCheckClean(image);
  }
}
