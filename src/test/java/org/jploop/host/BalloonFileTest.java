package org.jploop.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jploop.testing.ForeignFlock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The balloon on the test machine's own filesystem (a directory standing for a mount point):
 * ploop's size rounding and messages, and flock conflicts with another process holding it.
 */
class BalloonFileTest {
  @TempDir Path mnt;

  @Test
  void testChange_inflateTruncateNothing_withPloopsMessages() throws Exception {
    Files.createFile(BalloonFile.pathIn(mnt));
    List<String> out = new ArrayList<>();
    try (BalloonFile b = BalloonFile.open(mnt, BalloonFile.Lock.EXCLUSIVE)) {
      long bs = b.blockSize();
      BalloonFile.Change c = b.change(7, out::add); // 3584 bytes: rounded up to the block
      assertThat(c.inflated()).isTrue();
      assertThat(b.size()).isEqualTo(bs);
      assertThat(out)
          .containsExactly(
              "Changing balloon size old_size=0 new_size=" + bs,
              "Successfully inflated balloon from 0 to " + bs + " bytes");
      out.clear();
      b.change(bs * 4 / 512, out::add);
      assertThat(b.size()).isEqualTo(4 * bs);
      out.clear();
      b.change(bs * 4 / 512, out::add);
      assertThat(out).last().isEqualTo("Nothing to do: new_size == old_size");
      out.clear();
      BalloonFile.Change t = b.change(0, out::add);
      assertThat(t.inflated()).isFalse();
      assertThat(b.size()).isZero();
      assertThat(out)
          .last()
          .isEqualTo("Successfully truncated balloon from " + 4 * bs + " to 0 bytes");
    }
  }

  @Test
  void testLocks_busyInAnotherProcess_stateFollowsTheHolder() throws Exception {
    Path p = Files.createFile(BalloonFile.pathIn(mnt));
    assertThat(BalloonFile.state(mnt)).isEqualTo("OFF");
    for (boolean exclusive : new boolean[] {true, false}) {
      Process holder = ForeignFlock.hold(p, exclusive);
      try {
        waitHeld(p);
        assertThat(BalloonFile.state(mnt)).isEqualTo(exclusive ? "BALLOON" : "DISCARD");
        MountException e =
            org.junit.jupiter.api.Assertions.assertThrows(
                MountException.class, () -> BalloonFile.open(mnt, BalloonFile.Lock.EXCLUSIVE));
        assertThat(e.reason()).isEqualTo(MountException.Reason.BALLOON_BUSY);
        assertThat(e.getMessage()).isEqualTo("Hidden balloon is in use by someone else!");
      } finally {
        holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        waitReleased(p);
      }
    }
    MountException missing =
        org.junit.jupiter.api.Assertions.assertThrows(
            MountException.class,
            () -> BalloonFile.open(mnt.resolve("nothing"), BalloonFile.Lock.NONE));
    assertThat(missing.reason()).isEqualTo(MountException.Reason.BALLOON_OPEN);
    assertThat(missing.getMessage()).startsWith("Cannot open balloon at " + mnt.resolve("nothing"));
  }

  /** Waits until no process holds a lock on {@code p}. */
  private static void waitReleased(Path p) throws Exception {
    long end = System.currentTimeMillis() + 10_000;
    while (!BalloonFile.state(p.getParent()).equals("OFF")) {
      assertThat(System.currentTimeMillis()).as("flock holder gone").isLessThan(end);
      Thread.sleep(20);
    }
  }

  /** Waits until another process holds a lock on {@code p}. */
  private static void waitHeld(Path p) throws Exception {
    long end = System.currentTimeMillis() + 10_000;
    while (BalloonFile.state(p.getParent()).equals("OFF")) {
      assertThat(System.currentTimeMillis()).as("flock holder started").isLessThan(end);
      Thread.sleep(20);
    }
  }
}
