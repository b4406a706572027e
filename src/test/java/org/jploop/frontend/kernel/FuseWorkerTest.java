package org.jploop.frontend.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jploop.engine.RawDisk;
import org.jploop.frontend.DiskImageFile;
import org.jploop.frontend.Errno;
import org.jploop.host.EventLog;
import org.jploop.testing.MemoryBlockFile;
import org.junit.jupiter.api.Test;

/**
 * Tests for {@link FuseWorker}'s loop: read errors that mean "again" are retried, ENODEV and
 * ECONNABORTED end it with a reason, the thread set-up runs first, and a request that is longer
 * than the buffer is never half-read.
 */
class FuseWorkerTest {
  private final EventLog log =
      new EventLog(new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8));

  private FuseDispatcher dispatcher(FuseMetrics m) throws IOException {
    MemoryBlockFile f = new MemoryBlockFile("raw");
    f.truncate(1 << 20);
    return new FuseDispatcher(
        new DiskImageFile(new RawDisk(f), new ReentrantReadWriteLock().readLock(), 0, 0, log),
        4,
        256,
        m,
        log);
  }

  private String run(FakeChannel ch, Runnable setup) throws IOException {
    FuseMetrics m = new FuseMetrics();
    String[] reason = new String[1];
    new FuseWorker(ch, dispatcher(m), m, log, 1 << 20, setup, r -> reason[0] = r).run();
    return reason[0];
  }

  @Test
  void testRetriesEintrEagainEnoent_endsOnEnodev() throws IOException {
    FakeChannel ch =
        new FakeChannel()
            .readError(Errno.EINTR)
            .readError(Errno.EAGAIN)
            .readError(Errno.ENOENT)
            .request(FuseDispatcherTest.init745(2));
    AtomicInteger setups = new AtomicInteger();
    assertThat(run(ch, setups::incrementAndGet)).isEqualTo("unmounted (ENODEV)");
    assertThat(ch.reads).isEqualTo(5);
    assertThat(ch.replies).hasSize(1);
    assertThat(setups).hasValue(1);
  }

  @Test
  void testEndsOnEconnaborted() throws IOException {
    FakeChannel ch =
        new FakeChannel().readError(Errno.ECONNABORTED).request(FuseDispatcherTest.init745(2));
    assertThat(run(ch, () -> {})).isEqualTo("connection aborted (ECONNABORTED)");
    assertThat(ch.replies).as("nothing read after the abort").isEmpty();
  }

  @Test
  void testOtherReadErrors_endTheWorkerWithTheirName() throws IOException {
    FakeChannel ch = new FakeChannel().readError(Errno.EINVAL);
    assertThat(run(ch, () -> {})).contains("EINVAL");
  }

  @Test
  void testBufferHoldsTheLargestWrite() {
    FuseBuffers b = new FuseBuffers(1 << 20);
    try {
      assertThat(b.requestCapacity).isGreaterThanOrEqualTo(Math.max(8192, 80 + (1 << 20)));
      assertThat((b.request + 80) % 4096).as("WRITE data page-aligned").isZero();
      assertThat(b.data % 4096).as("READ data page-aligned").isZero();
    } finally {
      b.free();
    }
  }
}
