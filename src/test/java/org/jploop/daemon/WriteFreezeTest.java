package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The write freeze: drains writes in flight, holds new ones until thaw or the lease ends. */
class WriteFreezeTest {

  @Test
  void freezeWaitsForInFlightWritesAndHoldsNewOnesUntilThaw() throws Exception {
    WriteFreeze f = new WriteFreeze();
    f.enter();
    AtomicBoolean frozen = new AtomicBoolean();
    Thread freezer =
        new Thread(
            () -> {
              try {
                f.freeze(60_000);
                frozen.set(true);
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            },
            "freezer");
    freezer.start();
    Thread.sleep(200);
    assertThat(frozen).as("freeze returned with a write in flight").isFalse();
    f.exit();
    freezer.join(5000);
    assertThat(frozen).isTrue();

    CountDownLatch passed = new CountDownLatch(1);
    Thread writer =
        new Thread(
            () -> {
              try {
                f.enter();
                f.exit();
                passed.countDown();
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            },
            "writer");
    writer.start();
    assertThat(passed.await(300, TimeUnit.MILLISECONDS)).as("write passed a freeze").isFalse();
    assertThat(f.thaw()).isTrue();
    assertThat(passed.await(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aFreezeNotThawedEndsWithItsLease() throws Exception {
    WriteFreeze f = new WriteFreeze();
    f.freeze(300);
    long t0 = System.nanoTime();
    f.enter();
    f.exit();
    assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(100L, 5000L);
    assertThat(f.thaw()).as("thaw after the lease ran out").isFalse();
  }
}
