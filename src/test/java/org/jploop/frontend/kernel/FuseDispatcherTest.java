package org.jploop.frontend.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jploop.engine.RawDisk;
import org.jploop.frontend.DiskImageFile;
import org.jploop.host.EventLog;
import org.jploop.testing.MemoryBlockFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every request and reply struct of the kernel front end, byte for byte: requests are built field
 * by field as include/uapi/linux/fuse.h lays them out ({@link Le}, not {@link FuseLayout}), fed
 * through a {@link FakeChannel} to a real {@link FuseWorker} and {@link FuseDispatcher} over a real
 * {@link RawDisk} in memory, and each reply is compared with bytes computed by hand the same way.
 */
class FuseDispatcherTest {
  private static final long SIZE = 1 << 20;
  private static final long UID = 1000;
  private static final long GID = 1001;
  private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
  private final EventLog log =
      new EventLog(new PrintStream(logBytes, true, StandardCharsets.UTF_8));
  private FakeChannel channel;
  private FuseMetrics metrics;
  private FuseDispatcher dispatcher;
  private DiskImageFile file;
  private String exitReason;

  @BeforeEach
  void setUp() throws IOException {
    MemoryBlockFile f = new MemoryBlockFile("raw");
    f.truncate(SIZE);
    file =
        new DiskImageFile(new RawDisk(f), new ReentrantReadWriteLock().readLock(), UID, GID, log);
    channel = new FakeChannel();
    metrics = new FuseMetrics();
    dispatcher = new FuseDispatcher(file, 16, 256, metrics, log);
  }

  /** Runs a worker over the queued requests until the fake says ENODEV; returns new replies. */
  private List<byte[]> serve(byte[]... requests) {
    int before = channel.replies.size();
    for (byte[] r : requests) {
      channel.request(r);
    }
    new FuseWorker(channel, dispatcher, metrics, log, 1 << 20, () -> {}, r -> exitReason = r).run();
    return List.copyOf(channel.replies.subList(before, channel.replies.size()));
  }

  private byte[] one(byte[] request) {
    List<byte[]> r = serve(request);
    assertThat(r).hasSize(1);
    return r.get(0);
  }

  /** INIT as Linux 6.18 sends it (protocol 7.45, the flags this machine's kernel offers). */
  static byte[] init745(long unique) {
    return Le.request(
        26,
        unique,
        0,
        Le.bytes().u32(7).u32(45).u32(131072).u32(0x73fffffbL).u32(0x5fd).zeros(44).get());
  }

  private void init() {
    byte[] reply = one(init745(2));
    assertThat(reply).hasSize(16 + 64);
  }

  /** fuse_attr of disk.img as the server must send it. */
  private Le fileAttr(Le b, long size) {
    long t = file.mountTime();
    return b.u64(2)
        .u64(size)
        .u64(size / 512)
        .u64(t)
        .u64(t)
        .u64(t)
        .u32(0)
        .u32(0)
        .u32(0)
        .u32(0100600)
        .u32(1)
        .u32(UID)
        .u32(GID)
        .u32(0)
        .u32(4096)
        .u32(0);
  }

  private Le dirAttr(Le b) {
    long t = file.mountTime();
    return b.u64(1)
        .u64(0)
        .u64(0)
        .u64(t)
        .u64(t)
        .u64(t)
        .u32(0)
        .u32(0)
        .u32(0)
        .u32(040755)
        .u32(2)
        .u32(UID)
        .u32(GID)
        .u32(0)
        .u32(4096)
        .u32(0);
  }

  @Test
  void testInit_745_replyIs64BytesWithOfferedFlagsOnly() {
    byte[] reply = one(init745(2));
    // fuse_init_out {major, minor, max_readahead, flags, max_background u16, congestion u16,
    // max_write, time_gran, max_pages u16, map_alignment u16, flags2, max_stack_depth,
    // request_timeout u16, padding u16, unused[5]}
    byte[] out =
        Le.bytes()
            .u32(7)
            .u32(45)
            .u32(131072)
            .u32(0x608029)
            .u16(32)
            .u16(24)
            .u32(1 << 20)
            .u32(1)
            .u16(256)
            .u16(0)
            .u32(0)
            .u32(0)
            .u16(0)
            .u16(0)
            .zeros(20)
            .get();
    assertThat(reply).isEqualTo(Le.reply(2, 0, out));
    assertThat(dispatcher.connection().openFlags()).isEqualTo(0x41);
    assertThat(logBytes.toString(StandardCharsets.UTF_8))
        .contains(
            "FUSE protocol 7.45",
            "ASYNC_DIO",
            "max_write 1048576 (256 pages)",
            "max_background 32");
  }

  @Test
  void testLookup_diskImgIsEntryOut_otherNamesEnoent() {
    init();
    byte[] reply = one(Le.request(1, 4, 1, Le.bytes().cstring("disk.img").get()));
    // fuse_entry_out {nodeid, generation, entry_valid, attr_valid, entry_valid_nsec,
    // attr_valid_nsec, attr}
    byte[] entry = fileAttr(Le.bytes().u64(2).u64(0).u64(3600).u64(3600).u32(0).u32(0), SIZE).get();
    assertThat(entry).hasSize(128);
    assertThat(reply).isEqualTo(Le.reply(4, 0, entry));
    assertThat(one(Le.request(1, 6, 1, Le.bytes().cstring("disk.im").get())))
        .isEqualTo(Le.reply(6, -2, new byte[0]));
    assertThat(one(Le.request(1, 8, 1, Le.bytes().cstring("disk.img2").get())))
        .isEqualTo(Le.reply(8, -2, new byte[0]));
  }

  @Test
  void testGetattr_fileAndRootAreAttrOut() {
    init();
    // fuse_getattr_in {getattr_flags, dummy, fh}
    byte[] in = Le.bytes().u32(0).u32(0).u64(0).get();
    byte[] file104 = fileAttr(Le.bytes().u64(3600).u32(0).u32(0), SIZE).get();
    assertThat(file104).hasSize(104);
    assertThat(one(Le.request(3, 10, 2, in))).isEqualTo(Le.reply(10, 0, file104));
    assertThat(one(Le.request(3, 12, 1, in)))
        .isEqualTo(Le.reply(12, 0, dirAttr(Le.bytes().u64(3600).u32(0).u32(0)).get()));
    assertThat(one(Le.request(3, 14, 7, in))).isEqualTo(Le.reply(14, -2, new byte[0]));
  }

  /**
   * fuse_setattr_in {valid, padding, fh, size, lock_owner, atime, mtime, ctime, atimensec,
   * mtimensec, ctimensec, mode, unused4, uid, gid, unused5}.
   */
  private static byte[] setattr(int valid, long size, int mode, long uid, long gid) {
    return Le.bytes()
        .u32(valid)
        .u32(0)
        .u64(0)
        .u64(size)
        .u64(0)
        .u64(11)
        .u64(22)
        .u64(33)
        .u32(0)
        .u32(0)
        .u32(0)
        .u32(mode)
        .u32(0)
        .u32(uid)
        .u32(gid)
        .u32(0)
        .get();
  }

  @Test
  void testSetattr_timesIgnored_sameSizeAccepted_otherChangesRefused() {
    init();
    byte[] attr = fileAttr(Le.bytes().u64(3600).u32(0).u32(0), SIZE).get();
    // ATIME|MTIME (touch): ignored, attributes back
    assertThat(one(Le.request(4, 20, 2, setattr(16 | 32, 0, 0, 0, 0))))
        .isEqualTo(Le.reply(20, 0, attr));
    // SIZE to the current size: fine; to another size: EPERM
    assertThat(one(Le.request(4, 22, 2, setattr(8, SIZE, 0, 0, 0))))
        .isEqualTo(Le.reply(22, 0, attr));
    assertThat(one(Le.request(4, 24, 2, setattr(8, 0, 0, 0, 0))))
        .isEqualTo(Le.reply(24, -1, new byte[0]));
    // MODE: only the mode it has
    assertThat(one(Le.request(4, 26, 2, setattr(1, 0, 0100600, 0, 0))))
        .isEqualTo(Le.reply(26, 0, attr));
    assertThat(one(Le.request(4, 28, 2, setattr(1, 0, 0100644, 0, 0))))
        .isEqualTo(Le.reply(28, -1, new byte[0]));
    // UID/GID: only the owner it has
    assertThat(one(Le.request(4, 30, 2, setattr(2 | 4, 0, 0, UID, GID))))
        .isEqualTo(Le.reply(30, 0, attr));
    assertThat(one(Le.request(4, 32, 2, setattr(2, 0, 0, 0, 0))))
        .isEqualTo(Le.reply(32, -1, new byte[0]));
    // a short struct is EINVAL
    assertThat(one(Le.request(4, 34, 2, Le.bytes().u32(8).get())))
        .isEqualTo(Le.reply(34, -22, new byte[0]));
  }

  @Test
  void testOpen_openOutWithDirectIoAndParallelWrites_truncRefused() {
    init();
    // fuse_open_in {flags, open_flags}; fuse_open_out {fh, open_flags, backing_id}
    assertThat(one(Le.request(14, 40, 2, Le.bytes().u32(2).u32(0).get())))
        .isEqualTo(Le.reply(40, 0, Le.bytes().u64(0).u32(0x41).u32(0).get()));
    assertThat(one(Le.request(14, 42, 2, Le.bytes().u32(2 | 01000).u32(0).get())))
        .as("O_TRUNC with ATOMIC_O_TRUNC")
        .isEqualTo(Le.reply(42, -1, new byte[0]));
    assertThat(one(Le.request(14, 44, 1, Le.bytes().u32(0).u32(0).get())))
        .isEqualTo(Le.reply(44, -21, new byte[0]));
    // OPENDIR of the root: fh 0, no flags; RELEASE, RELEASEDIR: bare header
    assertThat(one(Le.request(27, 46, 1, Le.bytes().u32(0).u32(0).get())))
        .isEqualTo(Le.reply(46, 0, Le.bytes().u64(0).u32(0).u32(0).get()));
    // fuse_release_in {fh, flags, release_flags, lock_owner}
    byte[] release = Le.bytes().u64(0).u32(2).u32(0).u64(0).get();
    assertThat(one(Le.request(18, 48, 2, release))).isEqualTo(Le.reply(48, 0, new byte[0]));
    assertThat(one(Le.request(29, 50, 1, release))).isEqualTo(Le.reply(50, 0, new byte[0]));
  }

  /** fuse_write_in {fh, offset, size, write_flags, lock_owner, flags, padding} + data. */
  private static byte[] write(long offset, byte[] data) {
    return Le.bytes()
        .u64(0)
        .u64(offset)
        .u32(data.length)
        .u32(0)
        .u64(0)
        .u32(0)
        .u32(0)
        .raw(data)
        .get();
  }

  /** fuse_read_in {fh, offset, size, read_flags, lock_owner, flags, padding}. */
  private static byte[] read(long offset, int size) {
    return Le.bytes().u64(0).u64(offset).u32(size).u32(0).u64(0).u32(0).u32(0).get();
  }

  @Test
  void testWriteThenRead_writeOutAndDataReply_clampedAtEnd() {
    init();
    long seed = System.nanoTime();
    byte[] data = new byte[131072 + 512];
    new Random(seed).nextBytes(data);
    // fuse_write_out {size, padding}
    assertThat(one(Le.request(16, 60, 2, write(4096, data))))
        .isEqualTo(Le.reply(60, 0, Le.bytes().u32(data.length).u32(0).get()));
    assertThat(one(Le.request(15, 62, 2, read(4096, data.length))))
        .as("seed %d", seed)
        .isEqualTo(Le.reply(62, 0, data));
    assertThat(one(Le.request(15, 64, 2, read(SIZE - 100, 4096))))
        .isEqualTo(Le.reply(64, 0, new byte[100]));
    assertThat(one(Le.request(15, 66, 2, read(SIZE, 4096))))
        .isEqualTo(Le.reply(66, 0, new byte[0]));
    // a WRITE whose data is shorter than its size field is EINVAL, not a read past the request
    byte[] lying = Le.bytes().u64(0).u64(0).u32(8192).u32(0).u64(0).u32(0).u32(0).zeros(100).get();
    assertThat(one(Le.request(16, 68, 2, lying))).isEqualTo(Le.reply(68, -22, new byte[0]));
    // past the end of the disk: the engine refuses, EINVAL
    assertThat(one(Le.request(16, 70, 2, write(SIZE - 10, new byte[20]))))
        .isEqualTo(Le.reply(70, -22, new byte[0]));
  }

  @Test
  void testFallocate_punchAndZeroAreHeaderOnly_otherModesEopnotsupp() {
    init();
    one(Le.request(16, 80, 2, write(0, new byte[8192])));
    // fuse_fallocate_in {fh, offset, length, mode, padding}
    assertThat(one(Le.request(43, 82, 2, Le.bytes().u64(0).u64(0).u64(4096).u32(3).u32(0).get())))
        .isEqualTo(Le.reply(82, 0, new byte[0]));
    assertThat(
            one(
                Le.request(
                    43, 84, 2, Le.bytes().u64(0).u64(4096).u64(4096).u32(0x10).u32(0).get())))
        .isEqualTo(Le.reply(84, 0, new byte[0]));
    assertThat(one(Le.request(43, 86, 2, Le.bytes().u64(0).u64(0).u64(4096).u32(0).u32(0).get())))
        .as("mode 0: preallocation")
        .isEqualTo(Le.reply(86, -95, new byte[0]));
  }

  @Test
  void testFsyncFlushStatfs() {
    init();
    // fuse_fsync_in {fh, fsync_flags, padding}; fuse_flush_in {fh, unused, padding, lock_owner}
    assertThat(one(Le.request(20, 90, 2, Le.bytes().u64(0).u32(0).u32(0).get())))
        .isEqualTo(Le.reply(90, 0, new byte[0]));
    assertThat(one(Le.request(25, 92, 2, Le.bytes().u64(0).u32(0).u32(0).u64(7).get())))
        .isEqualTo(Le.reply(92, 0, new byte[0]));
    // fuse_kstatfs {blocks, bfree, bavail, files, ffree, bsize, namelen, frsize, padding,
    // spare[6]}
    byte[] statfs =
        Le.bytes()
            .u64(SIZE / 4096)
            .u64(0)
            .u64(0)
            .u64(2)
            .u64(0)
            .u32(4096)
            .u32(255)
            .u32(4096)
            .u32(0)
            .zeros(24)
            .get();
    assertThat(statfs).hasSize(80);
    assertThat(one(Le.request(17, 94, 1, new byte[0]))).isEqualTo(Le.reply(94, 0, statfs));
  }

  /** fuse_dirent {ino, off, namelen, type, name[]} padded to 8 bytes. */
  private static Le dirent(Le b, long ino, long next, String name, int type) {
    b.u64(ino).u64(next).u32(name.length()).u32(type).raw(name.getBytes(StandardCharsets.UTF_8));
    return b.zeros((8 - (24 + name.length()) % 8) % 8);
  }

  @Test
  void testReaddir_threeEntries_resumesAtOffset_stopsAtSize() {
    init();
    byte[] all =
        dirent(dirent(dirent(Le.bytes(), 1, 1, ".", 4), 1, 2, "..", 4), 2, 3, "disk.img", 8).get();
    assertThat(all).hasSize(32 + 32 + 32);
    assertThat(one(Le.request(28, 100, 1, read(0, 4096)))).isEqualTo(Le.reply(100, 0, all));
    assertThat(one(Le.request(28, 102, 1, read(2, 4096))))
        .isEqualTo(Le.reply(102, 0, dirent(Le.bytes(), 2, 3, "disk.img", 8).get()));
    assertThat(one(Le.request(28, 104, 1, read(3, 4096))))
        .as("past the last entry: empty")
        .isEqualTo(Le.reply(104, 0, new byte[0]));
    assertThat(one(Le.request(28, 106, 1, read(0, 40))))
        .isEqualTo(Le.reply(106, 0, dirent(Le.bytes(), 1, 1, ".", 4).get()));
    assertThat(one(Le.request(28, 108, 2, read(0, 4096))))
        .isEqualTo(Le.reply(108, -20, new byte[0]));
  }

  @Test
  void testInterruptForgetAndUnknownOpcodes() {
    init();
    // INTERRUPT (unique = target | 1, fuse_interrupt_in {unique}): ENOSYS, the kernel stops
    assertThat(one(Le.request(36, 201, 0, Le.bytes().u64(200).get())))
        .isEqualTo(Le.reply(201, -38, new byte[0]));
    assertThat(metrics.interrupts()).isEqualTo(1);
    // FORGET {nlookup} and BATCH_FORGET {count, dummy} + {nodeid, nlookup}: no reply at all
    assertThat(
            serve(
                Le.request(2, 202, 2, Le.bytes().u64(1).get()),
                Le.request(42, 204, 0, Le.bytes().u32(1).u32(0).u64(2).u64(1).get())))
        .isEmpty();
    // GETXATTR, ACCESS, CREATE, SYNCFS: ENOSYS; DESTROY: bare header
    for (int op : new int[] {22, 34, 35, 50}) {
      assertThat(one(Le.request(op, 300 + 2 * op, 2, new byte[16])))
          .isEqualTo(Le.reply(300 + 2 * op, -38, new byte[0]));
    }
    assertThat(one(Le.request(38, 400, 0, new byte[0]))).isEqualTo(Le.reply(400, 0, new byte[0]));
  }

  @Test
  void testMalformedRequests_answeredEioOrEinval_neverHang() {
    init();
    // the header's len disagrees with what read(2) returned
    byte[] r = Le.request(3, 500, 2, new byte[16]);
    r[0] = (byte) (r[0] + 8);
    assertThat(one(r)).isEqualTo(Le.reply(500, -5, new byte[0]));
    assertThat(metrics.malformedCount()).isEqualTo(1);
    // a READ with a truncated struct
    assertThat(one(Le.request(15, 502, 2, new byte[10])))
        .isEqualTo(Le.reply(502, -22, new byte[0]));
    assertThat(exitReason).isEqualTo("unmounted (ENODEV)");
  }

  @Test
  void testRequestBeforeInit_isEio() {
    assertThat(one(Le.request(3, 4, 2, new byte[16]))).isEqualTo(Le.reply(4, -5, new byte[0]));
  }
}
