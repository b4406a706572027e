package org.jploop.frontend.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jploop.engine.RawDisk;
import org.jploop.frontend.DiskImageFile;
import org.jploop.host.EventLog;
import org.jploop.testing.MemoryBlockFile;
import org.junit.jupiter.api.Test;

/**
 * INIT negotiation against the offers of the kernels jploop meets, as bytes in and bytes out:
 * Debian 12's Linux 6.1 (protocol 7.37 before 6.1.107, 7.38 after: 104-byte requests with flags2),
 * Linux 6.18 (7.45), older kernels with the 56-byte request (7.31, 7.22, whose reply is 24 bytes),
 * a future minor, a future major, and one too old. The flag sets of 6.1 are those of its {@code
 * fuse_send_init} (no DAX, not virtiofs); that of 6.18 is what this machine's kernel offered.
 */
class FuseConnectionTest {
  /** What Linux 6.1 offers in fuse_init_in.flags (INIT_EXT included). */
  private static final long FLAGS_61 = 0x73fffffbL;

  private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
  private final EventLog log =
      new EventLog(new PrintStream(logBytes, true, StandardCharsets.UTF_8));

  /** Sends one INIT request and returns the reply and the dispatcher. */
  private record Result(byte[] reply, FuseDispatcher dispatcher) {}

  private Result init(byte[] initIn, int workers, int maxPagesLimit) throws IOException {
    MemoryBlockFile f = new MemoryBlockFile("raw");
    f.truncate(1 << 20);
    DiskImageFile file =
        new DiskImageFile(new RawDisk(f), new ReentrantReadWriteLock().readLock(), 0, 0, log);
    FakeChannel ch = new FakeChannel().request(Le.request(26, 2, 0, initIn));
    FuseMetrics m = new FuseMetrics();
    FuseDispatcher d = new FuseDispatcher(file, workers, maxPagesLimit, m, log);
    new FuseWorker(ch, d, m, log, 1 << 20, () -> {}, r -> {}).run();
    assertThat(ch.replies).hasSize(1);
    return new Result(ch.replies.get(0), d);
  }

  /** fuse_init_in of 7.36 and later: 64 bytes, flags2 and unused[11]. */
  private static byte[] initIn64(int minor, long flags, long flags2) {
    return Le.bytes().u32(7).u32(minor).u32(131072).u32(flags).u32(flags2).zeros(44).get();
  }

  /** fuse_init_in before 7.36: 16 bytes. */
  private static byte[] initIn16(int minor, long flags) {
    return Le.bytes().u32(7).u32(minor).u32(131072).u32(flags).get();
  }

  /** The 64-byte fuse_init_out we expect, for {@code flags} and {@code pages}. */
  private static byte[] initOut64(
      int minor, long flags, int background, int congestion, int pages) {
    return Le.bytes()
        .u32(7)
        .u32(minor)
        .u32(131072)
        .u32(flags)
        .u16(background)
        .u16(congestion)
        .u32(pages * 4096L)
        .u32(1)
        .u16(minor >= 28 ? pages : 0)
        .u16(0)
        .u32(0)
        .zeros(28)
        .get();
  }

  @Test
  void testLinux61_737_104ByteRequest() throws IOException {
    Result r = init(initIn64(37, FLAGS_61, 0x1), 16, 256);
    assertThat(r.reply()).isEqualTo(Le.reply(2, 0, initOut64(37, 0x608029, 32, 24, 256)));
    assertThat(r.dispatcher().connection().openFlags())
        .as("no PARALLEL_DIRECT_WRITES in 7.37")
        .isEqualTo(0x1);
  }

  @Test
  void testLinux61_738_104ByteRequest() throws IOException {
    Result r = init(initIn64(38, FLAGS_61, 0x9), 16, 256);
    assertThat(r.reply()).isEqualTo(Le.reply(2, 0, initOut64(38, 0x608029, 32, 24, 256)));
    assertThat(r.dispatcher().connection().openFlags()).isEqualTo(0x41);
    assertThat(r.dispatcher().connection().offeredFlags()).isEqualTo(FLAGS_61 | 0x9L << 32);
  }

  @Test
  void testLinux618_745_workersAndPagesLimitShapeTheReply() throws IOException {
    Result r = init(initIn64(45, FLAGS_61, 0x5fd), 8, 64);
    assertThat(r.reply())
        .as("8 workers: max_background 16; max_pages_limit 64")
        .isEqualTo(Le.reply(2, 0, initOut64(45, 0x608029, 16, 12, 64)));
    assertThat(r.dispatcher().connection().maxWrite()).isEqualTo(64 * 4096);
  }

  @Test
  void testFutureMinor_answeredWithOurs() throws IOException {
    Result r = init(initIn64(46, FLAGS_61, 0x5fd), 16, 256);
    assertThat(r.reply()).isEqualTo(Le.reply(2, 0, initOut64(45, 0x608029, 32, 24, 256)));
  }

  @Test
  void testOffersWithoutSomeFlags_replyHasOnlyTheOfferedOnes() throws IOException {
    // ASYNC_READ | BIG_WRITES | ASYNC_DIO only: no MAX_PAGES, so requests stay at 32 pages
    Result r = init(initIn64(45, 0x1 | 0x20 | 0x8000, 0), 16, 256);
    assertThat(r.reply()).isEqualTo(Le.reply(2, 0, initOut64(45, 0x8021, 32, 24, 32)));
    // WRITEBACK_CACHE, POSIX_LOCKS, SPLICE_*, READDIRPLUS offered: never taken
    assertThat(r.dispatcher().connection().has(FuseLayout.WRITEBACK_CACHE)).isFalse();
  }

  @Test
  void testOldKernel_731_56ByteRequest() throws IOException {
    // 7.31 (Linux 5.4..5.10 era): no INIT_EXT, 16-byte fuse_init_in, 64-byte reply
    long flags = FLAGS_61 & ~(1L << 30);
    Result r = init(initIn16(31, flags), 16, 256);
    assertThat(r.reply()).isEqualTo(Le.reply(2, 0, initOut64(31, 0x608029, 32, 24, 256)));
  }

  @Test
  void testOldKernel_722_56ByteRequest_24ByteReply() throws IOException {
    // 7.22 (Linux 3.13): ASYNC_DIO, no MAX_PAGES; fuse_init_out is 24 bytes (COMPAT_22)
    Result r = init(initIn16(22, 0x1 | 0x8 | 0x20 | 0x8000), 16, 256);
    byte[] out =
        Le.bytes().u32(7).u32(22).u32(131072).u32(0x8029).u16(32).u16(24).u32(32 * 4096).get();
    assertThat(out).hasSize(24);
    assertThat(r.reply()).isEqualTo(Le.reply(2, 0, out));
  }

  @Test
  void testInitExtWithShortRequest_flags2Ignored() throws IOException {
    // INIT_EXT set but only 16 bytes of fuse_init_in: flags2 must not be read past the end
    Result r = init(initIn16(36, FLAGS_61), 16, 256);
    assertThat(r.dispatcher().connection().offeredFlags()).isEqualTo(FLAGS_61);
  }

  @Test
  void testTooOldKernel_refusedWithEproto() throws IOException {
    Result r = init(initIn16(21, 0x1), 16, 256);
    assertThat(r.reply()).isEqualTo(Le.reply(2, -71, new byte[0]));
    assertThat(r.dispatcher().initFailure()).contains("7.21", "7.22");
    assertThat(r.dispatcher().connection()).isNull();
  }

  @Test
  void testFutureMajor_answeredWithOurVersionOnly() throws IOException {
    byte[] in = Le.bytes().u32(8).u32(0).u32(131072).u32(0).get();
    Result r = init(in, 16, 256);
    assertThat(r.reply()).isEqualTo(Le.reply(2, 0, Le.bytes().u32(7).u32(45).get()));
    assertThat(r.dispatcher().connection()).as("waiting for the second INIT").isNull();
  }

  @Test
  void testInitOutSizeByMinor() {
    assertThat(
            List.of(
                FuseLayout.initOutSize(4),
                FuseLayout.initOutSize(5),
                FuseLayout.initOutSize(22),
                FuseLayout.initOutSize(23),
                FuseLayout.initOutSize(45)))
        .containsExactly(8, 24, 24, 64, 64);
  }
}
