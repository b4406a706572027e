package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.jploop.format.descriptor.DiskDescriptor;
import org.junit.jupiter.api.Test;

/**
 * {@code ploop replace} on a mounted disk with the shipped jar (real FUSE): the base delta under a
 * snapshot is replaced by a copy while mounted; the disk's content (SHA-256 through disk.img) is
 * the same before and after, the daemon now holds the copy open and no longer the old file, and
 * writes go on (the copy passes qemu-img check after the unmount); the top delta is refused (38), a
 * bad new image too (11). Under a {@link FuseDeadline}.
 */
class ReplaceIT extends MountFixture {
  private static final String SNAP = "{21111111-2222-3333-4444-555555555555}";
  private static final long SEED = 1509;

  @Test
  void testReplaceTheBaseOfAMountedDiskByACopy() throws Exception {
    System.out.println("ReplaceIT seed " + SEED);
    Random rnd = new Random(SEED);
    ploop("init", "-s", "16M", "-t", "none", image.toString()).ok();
    Path img = Path.of(mount(xml.toString()).ok().out().strip());
    try (FuseDeadline deadline = new FuseDeadline(60, "online replace")) {
      FuseWatchdog wd = FuseWatchdog.of(xml);
      deadline.watch(wd);
      writeAt(img, 0, randomBytes(rnd, 4 << 20));
      ploop("snapshot", "-u", SNAP, xml.toString()).ok();
      writeAt(img, 8 << 20, randomBytes(rnd, 1 << 20));
      String before = sha256(img);
      Path copy = dir.resolve("root.copy.hds");
      Files.copy(image, copy); // read-only below the snapshot: a consistent copy

      Run r = ploop("replace", "-u", SNAP, "-i", copy.toString(), xml.toString()).ok();
      assertThat(r.out())
          .contains("Replacing " + image.toRealPath() + " with " + copy + " (ro, level 0)");
      assertThat(DiskDescriptor.read(xml).image(SNAP).file()).isEqualTo("root.copy.hds");
      assertThat(sha256(img)).as("content after replace").isEqualTo(before);
      List<Path> open = openFiles(wd.daemonPid());
      assertThat(open)
          .as("the daemon's open files")
          .contains(copy.toRealPath())
          .doesNotContain(image.toRealPath());

      Run top = ploop("replace", "-l", "1", "-i", copy.toString(), xml.toString());
      assertThat(top.exitCode()).as(top.err()).isEqualTo(38);
      Path bad = dir.resolve("bad.hds");
      Files.write(bad, new byte[1 << 20]);
      Run corrupt = ploop("replace", "-l", "0", "-i", bad.toString(), xml.toString());
      assertThat(corrupt.exitCode()).as(corrupt.err()).isEqualTo(11);
      Run none = ploop("replace", "-i", copy.toString(), xml.toString());
      assertThat(none.exitCode()).as(none.err()).isEqualTo(38);

      writeAt(img, 12 << 20, randomBytes(rnd, 1 << 20));
      assertThat(sha256(img)).as("written after replace").isNotEqualTo(before);
    }
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(dir.resolve("root.copy.hds"));
  }

  private static List<Path> openFiles(long pid) throws IOException {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      for (Path fd : fds.toList()) {
        try {
          out.add(Files.readSymbolicLink(fd));
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    return out;
  }
}
