package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.daemon.MountFixture.awaitExit;
import static org.jploop.daemon.MountFixture.ploop;
import static org.jploop.daemon.MountFixture.qemuCheckClean;
import static org.jploop.daemon.MountFixture.sh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.jploop.format.ImageHeader;
import org.jploop.host.FilesystemMaker;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountTable;
import org.jploop.host.RunPaths;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real mounts of ploop1 images through the shipped jar: FUSE, loop devices, mkfs.ext4, qemu-img.
 * Covers the round trip, refusals (second mount, busy or bad mount point, dirty image), SIGTERM to
 * the daemon under a mounted ext4, and recovery after kill -9. The tests where the front end
 * matters (data through disk.img, loop and ext4, teardown on stop, SIGTERM and kill -9) run with
 * both front ends; the refusals and snapshot views are the daemon's and run on the default.
 */
class MountIT extends MountFixture {

  private long daemonPid() throws IOException {
    return MountStatus.forDescriptor(xml).orElseThrow().pid();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"kernel", "jnr-fuse"})
  void testMountUmount_dataRoundTripThroughDiskImg(String frontend) throws Exception {
    use(frontend);
    ploop("init", "-s", "256M", "-t", "none", image.toString()).ok();
    Path img = Path.of(mount(xml.toString()).ok().out().strip());
    assertThat(img.getFileName().toString()).isEqualTo("disk.img");
    assertThat(Files.size(img)).isEqualTo(256L << 20);
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    long[] offsets = new long[40];
    byte[][] blocks = new byte[offsets.length][];
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
      for (int i = 0; i < offsets.length; i++) {
        offsets[i] = (long) rnd.nextInt(256 * 1024 - 64) * 1024;
        blocks[i] = new byte[4096 + rnd.nextInt(60_000)];
        rnd.nextBytes(blocks[i]);
        ch.write(ByteBuffer.wrap(blocks[i]), offsets[i]);
      }
      ch.force(true);
    }
    assertThat(ploop("list").ok().out()).contains(img + "\t" + image.toRealPath());
    assertThat(ploop("list", "--json").ok().out()).contains("\"frontend\" : \"" + frontend + "\"");
    assertThat(ploop("info", xml.toString()).ok().out())
        .containsPattern("front end:\\s+" + frontend);
    assertThat(ploop("info", "--json", xml.toString()).ok().out())
        .contains("\"frontend\" : \"" + frontend + "\"");
    ploop("umount", xml.toString()).ok();
    assertThat(MountStatus.forDescriptor(xml)).isEmpty();
    qemuCheckClean(image);
    try (FileBlockFile f = FileBlockFile.open(image, true)) {
      assertThat(ImageReader.readHeader(f).inUse()).as("in-use flag after umount").isFalse();
    }
    img = Path.of(mount("-r", xml.toString()).ok().out().strip());
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
      // later writes may overlap earlier ones: replay into a model first
      for (int i = 0; i < offsets.length; i++) {
        boolean overwritten = false;
        for (int j = i + 1; j < offsets.length; j++) {
          overwritten |=
              offsets[j] < offsets[i] + blocks[i].length
                  && offsets[i] < offsets[j] + blocks[j].length;
        }
        if (overwritten) {
          continue;
        }
        ByteBuffer back = ByteBuffer.allocate(blocks[i].length);
        ch.read(back, offsets[i]);
        assertThat(back.array())
            .as("block %d at %d, seed %d", i, offsets[i], seed)
            .isEqualTo(blocks[i]);
      }
    }
    try (FileChannel w = FileChannel.open(img, StandardOpenOption.WRITE)) {
      throw new AssertionError("read-only mount opened disk.img for writing");
    } catch (IOException expected) {
      assertThat(expected.getMessage()).contains("Read-only file system");
    }
    ploop("umount", xml.toString()).ok();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"kernel", "jnr-fuse"})
  void testMountExt4_fileSurvivesRemount_andUmountByMountPoint(String frontend) throws Exception {
    use(frontend);
    ploop("init", "-s", "512M", image.toString()).ok();
    qemuCheckClean(image);
    mount("-m", mnt.toString(), xml.toString()).ok();
    sh(120, "dd", "if=/dev/urandom", "of=" + mnt.resolve("f"), "bs=1M", "count=16", "oflag=direct")
        .ok();
    String sum = MountFixture.sha256(mnt.resolve("f"));
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    assertThat(st.loopDevice()).startsWith("/dev/loop");
    assertThat(st.mountPoint()).isEqualTo(mnt.toRealPath().toString());
    assertThat(ploop("list", "--json").ok().out()).contains(st.loopDevice(), st.mountPoint());
    ploop("umount", "-m", mnt.toString()).ok();
    awaitExit(st.pid(), 10_000);
    assertThat(MountTable.at(mnt.toRealPath())).isEmpty();
    assertThat(LoopDevice.backedBy(Path.of(st.diskImage()))).isEmpty();
    qemuCheckClean(image);
    mount("-m", mnt.toString(), xml.toString()).ok();
    assertThat(MountFixture.sha256(mnt.resolve("f"))).isEqualTo(sum);
    assertThat(mnt.resolve(FilesystemMaker.BALLOON_FILE)).exists();
    ploop("umount", xml.toString()).ok();
  }

  /** Returns the line of /proc/self/mounts for {@code dir}. */
  private static String mountsLine(Path dir) throws IOException {
    String d = dir.toRealPath().toString();
    return Files.readAllLines(Path.of("/proc/self/mounts")).stream()
        .filter(l -> l.split(" ")[1].equals(d))
        .findFirst()
        .orElse("(not mounted)");
  }

  private static String superblockField(String device, String field) throws Exception {
    return sh(30, "tune2fs", "-l", device)
        .ok()
        .out()
        .lines()
        .filter(l -> l.startsWith(field + ":"))
        .map(l -> l.substring(field.length() + 1).strip())
        .findFirst()
        .orElseThrow();
  }

  @Test
  void testMountOptions_typeOptionsAndFsck() throws Exception {
    ploop("init", "-s", "256M", image.toString()).ok();
    MountFixture.Run noMnt = ploop("mount", "-o", "noatime", xml.toString());
    assertThat(noMnt.exitCode()).as(noMnt.toString()).isEqualTo(38);
    assertThat(noMnt.err()).contains("need -m");
    MountFixture.Run wrongType = ploop("mount", "-m", mnt.toString(), "-t", "xfs", xml.toString());
    assertThat(wrongType.exitCode()).as(wrongType.toString()).isEqualTo(21);
    assertThat(MountStatus.forDescriptor(xml)).as("nothing left mounted").isEmpty();
    assertThat(MountTable.at(mnt.toRealPath())).isEmpty();
    qemuCheckClean(image);

    Thread.sleep(1100); // so that fsck's "Last checked" differs from mkfs's time
    ploop("mount", "-m", mnt.toString(), "-t", "ext4", "-o", "noatime,nodev", "-F", xml.toString())
        .ok();
    String line = mountsLine(mnt);
    assertThat(line).contains(" ext4 ").contains("noatime").contains("nodev").contains("lazytime");
    String dev = MountTable.at(mnt.toRealPath()).orElseThrow().source();
    assertThat(superblockField(dev, "Last checked"))
        .as("-F ran a forced fsck")
        .isNotEqualTo(superblockField(dev, "Filesystem created"));
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
  }

  @Test
  void testRawBaseWithSnapshot_servedThroughTheDelta() throws Exception {
    ploop("init", "-s", "64M", "-f", "raw", "-t", "none", image.toString()).ok();
    byte[] base = new byte[3 << 20];
    new java.util.Random(42).nextBytes(base);
    try (var ch =
        java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(base), 0);
    }
    String baseSum = MountFixture.sha256(image);
    ploop("snapshot", xml.toString()).ok();
    Path img = Path.of(ploop("mount", xml.toString()).ok().out().strip());
    byte[] seen = new byte[base.length];
    try (var in = Files.newInputStream(img)) {
      assertThat(in.readNBytes(seen, 0, seen.length)).isEqualTo(seen.length);
    }
    assertThat(seen).as("disk.img shows the raw base, not the delta's header").isEqualTo(base);
    byte[] patch = "written over the raw base".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    try (var ch = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(patch), 1000);
      ch.force(true);
    }
    ploop("umount", xml.toString()).ok();
    assertThat(MountFixture.sha256(image))
        .as("the raw base is read-only under a snapshot")
        .isEqualTo(baseSum);
    System.arraycopy(patch, 0, base, 1000, patch.length);
    img = Path.of(ploop("mount", "-r", xml.toString()).ok().out().strip());
    try (var in = Files.newInputStream(img)) {
      assertThat(in.readNBytes(seen, 0, seen.length)).isEqualTo(seen.length);
    }
    assertThat(seen).as("the write is in the delta after a remount").isEqualTo(base);
    ploop("umount", xml.toString()).ok();
    ploop("snapshot-merge", xml.toString()).ok();
    byte[] merged = new byte[base.length];
    try (var in = Files.newInputStream(image)) {
      assertThat(in.readNBytes(merged, 0, merged.length)).isEqualTo(merged.length);
    }
    assertThat(merged).as("the merge wrote the delta into the raw base").isEqualTo(base);
    assertThat(Files.size(image)).isEqualTo(64L << 20);
    img = Path.of(ploop("mount", "-r", xml.toString()).ok().out().strip());
    assertThat(readAt0(img, base.length)).as("the lone raw image after the merge").isEqualTo(base);
    ploop("umount", xml.toString()).ok();
  }

  private static void writeAt0(Path img, byte[] data) throws IOException {
    try (var ch = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(data), 0);
      ch.force(true);
    }
  }

  private static byte[] readAt0(Path img, int n) throws IOException {
    try (var in = Files.newInputStream(img)) {
      return in.readNBytes(n);
    }
  }

  @Test
  void testMountSnapshot_readOnlyShowsItsContent() throws Exception {
    ploop("init", "-s", "64M", "-t", "none", image.toString()).ok();
    byte[] a = new byte[3 << 20];
    byte[] b = new byte[3 << 20];
    java.util.Random r = new java.util.Random(7);
    r.nextBytes(a);
    r.nextBytes(b);
    writeAt0(Path.of(ploop("mount", xml.toString()).ok().out().strip()), a);
    ploop("umount", xml.toString()).ok();
    String out = ploop("snapshot", xml.toString()).ok().out();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{[0-9a-f-]{36}\\}").matcher(out);
    assertThat(m.find()).as(out).isTrue();
    String snap = m.group();
    writeAt0(Path.of(ploop("mount", xml.toString()).ok().out().strip()), b);
    ploop("umount", xml.toString()).ok();

    MountFixture.Run rw = ploop("mount", "-u", snap, xml.toString());
    assertThat(rw.exitCode()).as(rw.toString()).isEqualTo(38);
    assertThat(rw.err()).contains("-r");
    MountFixture.Run unknown =
        ploop("mount", "-r", "-u", "{11111111-2222-3333-4444-555555555555}", xml.toString());
    assertThat(unknown.exitCode()).as(unknown.toString()).isEqualTo(43);
    assertThat(MountStatus.forDescriptor(xml)).as("nothing mounted by the refusals").isEmpty();

    Path img = Path.of(ploop("mount", "-r", "-u", snap, xml.toString()).ok().out().strip());
    assertThat(readAt0(img, a.length)).as("the snapshot's content").isEqualTo(a);
    ploop("umount", xml.toString()).ok();
    img = Path.of(ploop("mount", "-r", xml.toString()).ok().out().strip());
    assertThat(readAt0(img, b.length)).as("the top's content").isEqualTo(b);
    ploop("umount", xml.toString()).ok();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"kernel", "jnr-fuse"})
  void testUmount_busyFilesystemRefused_daemonKeepsServing(String frontend) throws Exception {
    use(frontend);
    ploop("init", "-s", "256M", image.toString()).ok();
    mount("-m", mnt.toString(), xml.toString()).ok();
    Process holder = new ProcessBuilder("sleep", "300").directory(mnt.toFile()).start();
    try {
      MountFixture.Run busy = ploop("umount", xml.toString());
      assertThat(busy.exitCode()).as("umount of a busy fs: %s", busy.err()).isEqualTo(46);
      assertThat(busy.err()).contains("Cannot unmount " + mnt.toRealPath());
      MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
      assertThat(st.state()).isEqualTo(MountStatus.READY);
      assertThat(st.daemonAlive()).isTrue();
      assertThat(MountTable.at(mnt.toRealPath())).isPresent();
      Files.writeString(mnt.resolve("still-writable"), "yes");
    } finally {
      holder.destroyForcibly().waitFor();
    }
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"kernel", "jnr-fuse"})
  void testKill9_staleFuseMountClearedByNextMount_unlessALoopUsesIt(String frontend)
      throws Exception {
    use(frontend);
    ploop("init", "-s", "128M", "-t", "none", image.toString()).ok();
    Path img = Path.of(mount(xml.toString()).ok().out().strip());
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    String loop = sh(30, "losetup", "--find", "--show", img.toString()).ok().out().strip();
    sh(10, "kill", "-KILL", Long.toString(st.pid())).ok();
    awaitExit(st.pid(), 10_000);
    MountFixture.Run refused = mount(xml.toString());
    assertThat(refused.exitCode()).isEqualTo(21);
    assertThat(refused.err()).contains("A loop device still uses", "ploop umount");
    sh(30, "losetup", "-d", loop).ok();
    assertThat(MountTable.at(Path.of(st.fuseDir()))).as("dead FUSE mount still there").isPresent();
    assertThat(refused.out())
        .as("the dirty image was checked before the refusal")
        .contains("was not closed cleanly");
    MountFixture.Run again = mount(xml.toString());
    assertThat(again.exitCode())
        .as("stale mount cleared, the repaired image mounted: %s", again.err())
        .isZero();
    assertThat(MountStatus.forDescriptor(xml).orElseThrow().pid()).isNotEqualTo(st.pid());
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
  }

  @Test
  void testSecondMount_refused() throws Exception {
    ploop("init", "-s", "128M", "-t", "none", image.toString()).ok();
    ploop("mount", xml.toString()).ok();
    long pid = daemonPid();
    MountFixture.Run second = ploop("mount", xml.toString());
    assertThat(second.exitCode()).isEqualTo(21);
    assertThat(second.err()).contains("already mounted", "pid " + pid);
    assertThat(daemonPid()).isEqualTo(pid);
    ploop("umount", xml.toString()).ok();
    MountFixture.Run again = ploop("umount", xml.toString());
    assertThat(again.exitCode()).isEqualTo(40);
    assertThat(again.err()).contains("is not mounted");
  }

  @Test
  void testBusyOrMissingMountPoint_refusedWithNothingMounted() throws Exception {
    ploop("init", "-s", "128M", "-t", "none", image.toString()).ok();
    sh(30, "mount", "-t", "tmpfs", "tmpfs", mnt.toString()).ok();
    MountFixture.Run busy = ploop("mount", "-m", mnt.toString(), xml.toString());
    assertThat(busy.exitCode()).isEqualTo(21);
    assertThat(busy.err()).contains("Mount point " + mnt, "busy");
    sh(30, "umount", mnt.toString()).ok();
    Path file = Files.createFile(dir.resolve("plain-file"));
    MountFixture.Run notDir = ploop("mount", "-m", file.toString(), xml.toString());
    assertThat(notDir.exitCode()).isEqualTo(21);
    assertThat(notDir.err()).contains("not a directory");
    assertThat(MountStatus.forDescriptor(xml)).isEmpty();
  }

  @Test
  void testDirtyImage_checkedAndRepairedAtMount() throws Exception {
    ploop("init", "-s", "128M", "-t", "none", image.toString()).ok();
    try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
      ch.write(
          ByteBuffer.allocate(4)
              .order(java.nio.ByteOrder.LITTLE_ENDIAN)
              .putInt(0, (int) ImageHeader.IN_USE),
          ImageHeader.OFFSET_DISK_IN_USE);
    }
    MountFixture.Run r = ploop("mount", xml.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).contains("was not closed cleanly", "in-use flag dropped");
    ploop("umount", xml.toString()).ok();
    try (FileBlockFile f = FileBlockFile.open(image, true)) {
      assertThat(ImageReader.readHeader(f).inUse()).isFalse();
    }
    assertThat(RunPaths.of(xml).runDir()).as("run directory after umount").doesNotExist();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"kernel", "jnr-fuse"})
  void testSigterm_withMountedExt4_stopsSafely(String frontend) throws Exception {
    use(frontend);
    ploop("init", "-s", "512M", image.toString()).ok();
    mount("-m", mnt.toString(), xml.toString()).ok();
    sh(120, "dd", "if=/dev/urandom", "of=" + mnt.resolve("f"), "bs=1M", "count=8").ok();
    String sum = MountFixture.sha256(mnt.resolve("f"));
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    sh(10, "kill", "-TERM", Long.toString(st.pid())).ok();
    awaitExit(st.pid(), 60_000);
    assertThat(MountTable.at(mnt.toRealPath())).as("ext4 unmounted").isEmpty();
    assertThat(MountTable.at(Path.of(st.fuseDir()))).as("FUSE unmounted").isEmpty();
    assertThat(LoopDevice.backedBy(Path.of(st.diskImage()))).as("loop detached").isEmpty();
    assertThat(MountStatus.forDescriptor(xml)).isEmpty();
    qemuCheckClean(image);
    try (FileBlockFile f = FileBlockFile.open(image, true)) {
      assertThat(ImageReader.readHeader(f).inUse()).isFalse();
    }
    // e2fsck the partition read-only through a fresh mount, then check the data
    Path img = Path.of(mount("-r", xml.toString()).ok().out().strip());
    String loop =
        sh(30, "losetup", "--find", "--show", "--read-only", "--partscan", img.toString())
            .ok()
            .out()
            .strip();
    try {
      LoopDevice ld = new LoopDevice(loop);
      String part = ld.filesystemDevice();
      MountFixture.Run fsck = sh(300, "e2fsck", "-fn", part);
      assertThat(fsck.exitCode()).as("e2fsck -fn: %s %s", fsck.out(), fsck.err()).isZero();
    } finally {
      sh(30, "losetup", "-d", loop);
    }
    ploop("umount", xml.toString()).ok();
    mount("-m", mnt.toString(), xml.toString()).ok();
    assertThat(MountFixture.sha256(mnt.resolve("f"))).isEqualTo(sum);
    ploop("umount", xml.toString()).ok();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"kernel", "jnr-fuse"})
  void testKill9_umountCleansUp_checkThenMountWorks(String frontend) throws Exception {
    use(frontend);
    ploop("init", "-s", "512M", image.toString()).ok();
    mount("-m", mnt.toString(), xml.toString()).ok();
    sh(120, "dd", "if=/dev/urandom", "of=" + mnt.resolve("f"), "bs=1M", "count=8", "oflag=direct")
        .ok();
    sh(30, "sync").ok();
    MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
    sh(10, "kill", "-KILL", Long.toString(st.pid())).ok();
    awaitExit(st.pid(), 10_000);
    MountFixture.Run list = ploop("list", "--json").ok();
    assertThat(list.out())
        .as("a dead daemon's disk is not listed (issue 13)")
        .doesNotContain(image.toString());
    MountFixture.Run u = ploop("umount", xml.toString());
    assertThat(u.exitCode()).as("umount after kill -9: %s", u.err()).isZero();
    assertThat(u.err()).contains("ploop check");
    assertThat(MountTable.at(mnt.toRealPath())).isEmpty();
    assertThat(MountTable.at(Path.of(st.fuseDir()))).isEmpty();
    assertThat(LoopDevice.backedBy(Path.of(st.diskImage()))).isEmpty();
    assertThat(Path.of(st.fuseDir()).getParent())
        .as("run directory, control socket included")
        .doesNotExist();
    MountFixture.Run dirty = mount("-m", mnt.toString(), xml.toString()).ok();
    assertThat(dirty.out()).contains("was not closed cleanly");
    assertThat(mnt.resolve("f")).exists();
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(image);
  }
}
