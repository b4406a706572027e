package org.jploop.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jploop.testing.ForeignFlock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DiskLock} against another process using ploop 1.15's and 7.x's lock, {@code flock(2)} on
 * {@code DiskDescriptor.xml.lck} (util-linux {@code flock} takes the same lock): neither may get
 * the disk while the other holds it. Issue 15: jploop took only an fcntl lock, which flock does not
 * see.
 */
class DiskLockTest {
  @TempDir Path dir;

  private Path xml() {
    return dir.resolve("DiskDescriptor.xml");
  }

  @Test
  void testHeldLock_blocksAnotherProcessFlock() throws Exception {
    try (DiskLock l = DiskLock.tryAcquire(xml(), "mount").orElseThrow()) {
      assertThat(flockNonBlocking(l.file()))
          .as("flock -n while jploop holds the disk")
          .isEqualTo(1);
      assertThat(DiskLock.holder(xml())).isEqualTo(ProcessHandle.current().pid() + " mount");
      assertThat(DiskLock.tryAcquire(xml(), "again")).as("second acquire in this JVM").isEmpty();
    }
    assertThat(flockNonBlocking(DiskLock.lockFileFor(xml()))).as("after release").isZero();
  }

  @Test
  void testForeignFlock_refusesAcquire() throws Exception {
    Path lck = DiskLock.lockFileFor(xml());
    Files.createFile(lck);
    Process p = ForeignFlock.hold(lck, true);
    try {
      waitUntilLocked(lck);
      Optional<DiskLock> l = DiskLock.tryAcquire(xml(), "snapshot");
      assertThat(l).as("real ploop (flock) holds the disk").isEmpty();
    } finally {
      p.destroy();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    try (DiskLock l = DiskLock.tryAcquire(xml(), "snapshot").orElseThrow()) {
      assertThat(l.file()).isEqualTo(lck);
    }
  }

  /** Runs {@code flock -n FILE true}: 0 if the flock was free, 1 if someone holds it. */
  private static int flockNonBlocking(Path lck) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("flock", "-n", lck.toString(), "true").start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("flock -n did not return");
    }
    return p.exitValue();
  }

  private static void waitUntilLocked(Path lck) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (flockNonBlocking(lck) == 0) {
      if (System.nanoTime() > end) {
        throw new IllegalStateException("the flock helper never took " + lck);
      }
      Thread.sleep(20);
    }
  }
}
