package org.jploop.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tests for {@link LoopDevice#openers}, the check that keeps {@code ploop umount} from detaching a
 * loop device under a process that holds it: any path works as the "device", so a plain file held
 * open by a child process stands in for /dev/loopN and its partitions.
 */
class LoopDeviceTest {
  @TempDir Path dir;

  @Test
  void testOpeners_namesTheProcessHoldingTheDeviceOrAPartition() throws Exception {
    Path dev = Files.createFile(dir.resolve("loop9"));
    Path part = Files.createFile(dir.resolve("loop9p1"));
    Files.createFile(dir.resolve("loop99"));
    LoopDevice loop = new LoopDevice(dev.toString());
    assertThat(loop.openers()).as("nobody holds it").isEmpty();
    Process other = hold(dir.resolve("loop99"));
    Process holder = hold(part);
    try {
      assertThat(loop.openers())
          .as("loop99 is another device")
          .containsExactly("pid " + holder.pid() + " (sleep)");
    } finally {
      for (Process p : new Process[] {other, holder}) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    assertThat(loop.openers()).isEmpty();
  }

  /** Starts {@code sleep} holding {@code file} open on fd 3; returns once it does. */
  private static Process hold(Path file) throws Exception {
    Process p = new ProcessBuilder("bash", "-c", "exec 3<'" + file + "'; exec sleep 60").start();
    Path fd = Path.of("/proc", Long.toString(p.pid()), "fd", "3");
    Path comm = Path.of("/proc", Long.toString(p.pid()), "comm");
    long end = System.currentTimeMillis() + 10_000;
    while (!(Files.exists(fd) && Files.readString(comm).strip().equals("sleep"))) {
      assertThat(System.currentTimeMillis()).as("sleep holding " + file).isLessThan(end);
      Thread.sleep(10);
    }
    return p;
  }
}
