package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jploop.io.NoSpaceException;
import org.jploop.testing.MemoryBlockFile;
import org.jploop.testing.TestImages;
import org.junit.jupiter.api.Test;

/**
 * A BAT writeback by the background thread that meets a full host filesystem must not fail a later
 * flush once space is back: the pages stay queued and the flush writes them. Regression test for
 * what the reliability suite's EnospcIT found (fsync returned EIO "an earlier BAT writeback failed"
 * after the host had been freed).
 */
class MdWritebackEnospcTest {
  private static final int CLUSTER = 1 << 20;

  @Test
  void testBackgroundWritebackEnospc_thenSpaceFreed_flushSucceeds() throws Exception {
    MemoryBlockFile top = TestImages.empty("top.hds", 64L << 20, CLUSTER);
    AtomicBoolean full = new AtomicBoolean(true);
    AtomicInteger refused = new AtomicInteger();
    // only whole BAT page writes (4 KiB in the header cluster) meet ENOSPC; data writes succeed
    top.setFault(
        (op, pos, len) -> {
          if (full.get() && op.equals("write") && pos < CLUSTER && len == 4096) {
            refused.incrementAndGet();
            return new NoSpaceException(top.path(), op, pos, len);
          }
          return null;
        });
    EngineOptions opts =
        EngineOptions.defaults().mdSubmitDelayMs(10).mdMaxDelayMs(20).backgroundThreads(true);
    try (PloopDisk disk = PloopDisk.open(List.of(top), opts)) {
      byte[] data = new byte[8192];
      java.util.Arrays.fill(data, (byte) 0x6b);
      disk.write(ByteBuffer.wrap(data), 5L * CLUSTER + 100);
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (refused.get() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(refused.get()).as("the background writeback never ran").isPositive();
      full.set(false);
      disk.flush(); // must not throw: the refused page is written now
      ByteBuffer back = ByteBuffer.allocate(data.length);
      disk.read(back, 5L * CLUSTER + 100);
      assertThat(back.array()).isEqualTo(data);
    } catch (IOException e) {
      throw new AssertionError("flush after space was freed failed: " + e.getMessage(), e);
    }
  }
}
