package org.jploop.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.jploop.io.LibC;
import org.jploop.io.SuppressForbidden;

/**
 * An fsx-style randomized exerciser for a fixed-size file or block device (disk.img, /dev/loopN, a
 * plain file): seeded random reads, writes, hole punches (fallocate PUNCH_HOLE|KEEP_SIZE),
 * zero-ranges (ZERO_RANGE|KEEP_SIZE) and fsyncs at random, often unaligned and cluster-straddling
 * offsets, checked against a {@link ContentModel}. Every read is verified, and a full read of the
 * region is verified at the end. A mismatch throws {@link AssertionError} naming the seed, the op
 * number, the offset and the tail of the op log.
 *
 * <p>Several exercisers may share one target concurrently if each is confined to its own stripe of
 * clusters ({@link Config#stripes}); each instance is single-threaded and owns its model.
 */
public final class Fsx {
  /** How many recent operations the mismatch report shows. */
  private static final int LOG_TAIL = 40;

  /** The kinds of operation, with their default weights. */
  public enum Op {
    READ(30),
    WRITE(40),
    PUNCH(10),
    ZERO(10),
    FSYNC(3);

    final int defaultWeight;

    Op(int w) {
      this.defaultWeight = w;
    }
  }

  /**
   * One run's parameters.
   *
   * @param seed the random seed (printed in every report)
   * @param ops how many operations (ignored when {@code durationMillis > 0})
   * @param durationMillis run for this long instead of a fixed count, when positive
   * @param start first byte of the exercised region
   * @param length length of the region in bytes
   * @param clusterBytes the image cluster size, to aim offsets at cluster boundaries
   * @param maxOpBytes the largest single read/write/punch
   * @param ioAlign alignment of read/write offsets and lengths (1 = any; 4096 for O_DIRECT)
   * @param fallocAlign alignment of punch/zero-range (512 on a block device)
   * @param directIo open with O_DIRECT
   * @param stripes confine to clusters {@code c} with {@code c % stripes == stripeIndex}
   * @param stripeIndex this exerciser's stripe
   * @param ops2 the operation kinds to use
   */
  public record Config(
      long seed,
      long ops,
      long durationMillis,
      long start,
      long length,
      int clusterBytes,
      int maxOpBytes,
      int ioAlign,
      int fallocAlign,
      boolean directIo,
      int stripes,
      int stripeIndex,
      Set<Op> ops2) {

    /**
     * A configuration over {@code [0, length)} with defaults: 1 MiB clusters, ops up to 256 KiB.
     */
    public static Config of(long seed, long ops, long length) {
      return new Config(
          seed, ops, 0, 0, length, 1 << 20, 256 << 10, 1, 1, false, 1, 0, Set.of(Op.values()));
    }

    public Config withCluster(int bytes) {
      return new Config(
          seed,
          ops,
          durationMillis,
          start,
          length,
          bytes,
          maxOpBytes,
          ioAlign,
          fallocAlign,
          directIo,
          stripes,
          stripeIndex,
          ops2);
    }

    public Config withMaxOpBytes(int bytes) {
      return new Config(
          seed,
          ops,
          durationMillis,
          start,
          length,
          clusterBytes,
          bytes,
          ioAlign,
          fallocAlign,
          directIo,
          stripes,
          stripeIndex,
          ops2);
    }

    public Config withAlignment(int io, int falloc) {
      return new Config(
          seed,
          ops,
          durationMillis,
          start,
          length,
          clusterBytes,
          maxOpBytes,
          io,
          falloc,
          directIo,
          stripes,
          stripeIndex,
          ops2);
    }

    public Config withDirectIo(boolean direct) {
      int a = direct ? Math.max(ioAlign, 4096) : ioAlign;
      return new Config(
          seed,
          ops,
          durationMillis,
          start,
          length,
          clusterBytes,
          maxOpBytes,
          a,
          Math.max(fallocAlign, direct ? 512 : 1),
          direct,
          stripes,
          stripeIndex,
          ops2);
    }

    public Config withStripe(int count, int index) {
      return new Config(
          seed,
          ops,
          durationMillis,
          start,
          length,
          clusterBytes,
          maxOpBytes,
          ioAlign,
          fallocAlign,
          directIo,
          count,
          index,
          ops2);
    }

    public Config withDuration(long millis) {
      return new Config(
          seed,
          ops,
          millis,
          start,
          length,
          clusterBytes,
          maxOpBytes,
          ioAlign,
          fallocAlign,
          directIo,
          stripes,
          stripeIndex,
          ops2);
    }

    public Config withOps(Set<Op> kinds) {
      return new Config(
          seed,
          ops,
          durationMillis,
          start,
          length,
          clusterBytes,
          maxOpBytes,
          ioAlign,
          fallocAlign,
          directIo,
          stripes,
          stripeIndex,
          Set.copyOf(kinds));
    }

    public Config withRegion(long regionStart, long regionLength) {
      return new Config(
          seed,
          ops,
          durationMillis,
          regionStart,
          regionLength,
          clusterBytes,
          maxOpBytes,
          ioAlign,
          fallocAlign,
          directIo,
          stripes,
          stripeIndex,
          ops2);
    }
  }

  /** Counters of one finished run. */
  public record Result(
      long seed,
      long ops,
      long reads,
      long writes,
      long punches,
      long zeroRanges,
      long fsyncs,
      long bytesVerified,
      long bytesWritten,
      List<String> unsupported) {

    /** The one-line summary printed by every test that runs fsx. */
    public String summary() {
      return "fsx: seed="
          + seed
          + " ops="
          + ops
          + " reads="
          + reads
          + " writes="
          + writes
          + " punches="
          + punches
          + " zeroranges="
          + zeroRanges
          + " fsyncs="
          + fsyncs
          + " bytes_verified="
          + bytesVerified
          + (unsupported.isEmpty() ? "" : " unsupported=" + unsupported);
    }
  }

  private final Config cfg;

  /** The target; swapped only by {@link #verifyAllOn}. */
  private FileChannel channel;

  /** libc descriptor for fallocate (FileChannel hides its own). */
  private final int fd;

  private final String target;
  private final Random random;
  private final ContentModel model = new ContentModel();
  private final Deque<String> log = new ArrayDeque<>();
  private final List<String> unsupported = new ArrayList<>();
  private final List<Op> enabled = new ArrayList<>();
  private final int[] weights;
  private long opNo;
  private long reads, writes, punches, zeroRanges, fsyncs, bytesVerified, bytesWritten;

  /**
   * Creates an exerciser over an open channel and libc descriptor of {@code target}; the caller
   * owns (and closes) both. The region's current content is read into the model first.
   */
  public Fsx(String target, FileChannel channel, int fd, Config cfg) throws IOException {
    this.cfg = cfg;
    this.channel = channel;
    this.fd = fd;
    this.target = target;
    this.random = new Random(cfg.seed());
    for (Op op : Op.values()) {
      if (cfg.ops2().contains(op)) {
        enabled.add(op);
      }
    }
    this.weights = new int[enabled.size()];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = enabled.get(i).defaultWeight;
    }
    loadInitialContent();
  }

  /** Opens {@code path}, runs {@code cfg} and closes everything; returns the counters. */
  @SuppressForbidden("O_DIRECT (ExtendedOpenOption.DIRECT) is what fsx's direct-I/O mode tests")
  public static Result run(Path path, Config cfg) throws IOException {
    List<StandardOpenOption> opts = List.of(StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileChannel ch =
        cfg.directIo()
            ? FileChannel.open(
                path,
                Set.of(
                    StandardOpenOption.READ,
                    StandardOpenOption.WRITE,
                    com.sun.nio.file.ExtendedOpenOption.DIRECT))
            : FileChannel.open(path, Set.copyOf(opts));
    int fd = openFd(path);
    try (ch) {
      return new Fsx(path.toString(), ch, fd, cfg).run();
    } finally {
      LibC.get().close(fd);
    }
  }

  /** Opens a libc read-write descriptor for fallocate on {@code path}. */
  public static int openFd(Path path) throws IOException {
    int fd = LibC.get().open(path.toString(), LibC.O_RDWR | LibC.O_CLOEXEC, 0);
    if (fd < 0) {
      throw new IOException(path + ": open failed: errno " + LibC.errno());
    }
    return fd;
  }

  /** Runs the configured operations, then verifies the whole region; returns the counters. */
  public Result run() throws IOException {
    long deadline =
        cfg.durationMillis() > 0
            ? System.nanoTime() + cfg.durationMillis() * 1_000_000L
            : Long.MAX_VALUE;
    long limit = cfg.durationMillis() > 0 ? Long.MAX_VALUE : cfg.ops();
    while (opNo < limit && (deadline == Long.MAX_VALUE || System.nanoTime() < deadline)) {
      step();
    }
    verifyAll();
    return result();
  }

  /** Returns the counters so far. */
  public Result result() {
    return new Result(
        cfg.seed(),
        opNo,
        reads,
        writes,
        punches,
        zeroRanges,
        fsyncs,
        bytesVerified,
        bytesWritten,
        List.copyOf(unsupported));
  }

  /** Performs one random operation. */
  public void step() throws IOException {
    if (enabled.isEmpty()) {
      throw new IllegalStateException("fsx: no operation kinds left to run on " + target);
    }
    Op op = pickOp();
    opNo++;
    boolean falloc = op == Op.PUNCH || op == Op.ZERO;
    long[] range = pickRange(falloc ? cfg.fallocAlign() : cfg.ioAlign());
    long off = range[0];
    int len = (int) range[1];
    switch (op) {
      case READ -> doRead(off, len);
      case WRITE -> doWrite(off, len);
      case PUNCH -> doFallocate(op, LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, off, len);
      case ZERO -> doFallocate(op, LibC.FALLOC_FL_ZERO_RANGE | LibC.FALLOC_FL_KEEP_SIZE, off, len);
      case FSYNC -> {
        record("fsync");
        channel.force(true);
        fsyncs++;
      }
    }
  }

  private Op pickOp() {
    int total = 0;
    for (int w : weights) {
      total += w;
    }
    int r = random.nextInt(total);
    for (int i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) {
        return enabled.get(i);
      }
    }
    return enabled.get(enabled.size() - 1);
  }

  /** Picks {offset, length} inside the region (and the stripe), aligned to {@code align}. */
  private long[] pickRange(int align) {
    long cluster = cfg.clusterBytes();
    int maxLen = Math.max(align, cfg.maxOpBytes());
    long off;
    long len;
    if (cfg.stripes() > 1) {
      // One owned cluster: whole, or a random piece of it.
      long firstCluster = (cfg.start() + cluster - 1) / cluster;
      long clusters = (cfg.start() + cfg.length()) / cluster - firstCluster;
      long owned = (clusters - cfg.stripeIndex() + cfg.stripes() - 1) / cfg.stripes();
      long c =
          firstCluster
              + cfg.stripeIndex()
              + (long) cfg.stripes() * (long) (random.nextDouble() * owned);
      long base = c * cluster;
      if (random.nextInt(4) == 0) {
        return new long[] {base, cluster};
      }
      off = base + alignDown(randomLong(cluster), align);
      len = 1 + randomLong(Math.min(maxLen, base + cluster - off));
      len = Math.max(align, alignDown(len, align));
      if (off + len > base + cluster) {
        off = base + cluster - len;
      }
      return new long[] {off, len};
    }
    int shape = random.nextInt(10);
    if (shape < 3) {
      // straddle a cluster boundary
      long boundaries = Math.max(1, cfg.length() / cluster);
      long b = cfg.start() + cluster * (1 + randomLong(boundaries));
      len = 1 + random.nextInt(maxLen);
      off = b - 1 - randomLong(len);
    } else if (shape < 4) {
      // a whole cluster (or several)
      off = cfg.start() + cluster * randomLong(Math.max(1, cfg.length() / cluster));
      len = cluster * (1 + random.nextInt(2));
    } else if (shape < 7) {
      // small
      off = cfg.start() + randomLong(cfg.length());
      len = 1 + random.nextInt(Math.min(maxLen, 9000));
    } else {
      off = cfg.start() + randomLong(cfg.length());
      len = 1 + random.nextInt(maxLen);
    }
    off = cfg.start() + alignDown(Math.max(0, off - cfg.start()), align);
    len = Math.max(align, alignDown(len, align));
    long end = cfg.start() + cfg.length();
    if (len > cfg.length()) {
      len = alignDown(cfg.length(), align);
    }
    if (off + len > end) {
      off = cfg.start() + alignDown(end - len - cfg.start(), align);
    }
    return new long[] {off, Math.min(len, Integer.MAX_VALUE - 8)};
  }

  private long randomLong(long bound) {
    return bound <= 1 ? 0 : (long) (random.nextDouble() * bound);
  }

  private static long alignDown(long v, long align) {
    return v - Math.floorMod(v, align);
  }

  private ByteBuffer buffer(int len) {
    if (cfg.directIo()) {
      return ByteBuffer.allocateDirect(len + 4096).alignedSlice(4096).limit(len);
    }
    return ByteBuffer.allocate(len);
  }

  private void doRead(long off, int len) throws IOException {
    record("read  off=" + off + " len=" + len);
    byte[] actual = readFully(off, len);
    byte[] expected = new byte[len];
    model.read(off, expected, 0, len);
    compare(off, expected, actual, "read");
    reads++;
  }

  private byte[] readFully(long off, int len) throws IOException {
    ByteBuffer bb = buffer(len);
    while (bb.hasRemaining()) {
      int n = channel.read(bb, off + bb.position());
      if (n < 0) {
        throw new AssertionError(report("unexpected EOF at offset " + (off + bb.position())));
      }
    }
    bb.flip();
    byte[] out = new byte[len];
    bb.get(out);
    return out;
  }

  private void doWrite(long off, int len) throws IOException {
    record("write off=" + off + " len=" + len);
    byte[] data = new byte[len];
    // A recognisable pattern: the op number and the file offset are both in every byte.
    int tag = (int) (opNo * 0x9E3779B1L >>> 7);
    for (int i = 0; i < len; i++) {
      long pos = off + i;
      data[i] = (byte) (tag + pos + (pos >>> 9) * 7);
    }
    if (random.nextInt(16) == 0) {
      java.util.Arrays.fill(data, (byte) 0); // all-zero writes also happen (and must stick)
    }
    ByteBuffer bb = buffer(len);
    bb.put(data).flip();
    while (bb.hasRemaining()) {
      channel.write(bb, off + bb.position());
    }
    model.write(off, data, 0, len);
    writes++;
    bytesWritten += len;
  }

  private void doFallocate(Op op, int mode, long off, long len) throws IOException {
    record(op.name().toLowerCase(java.util.Locale.ROOT) + " off=" + off + " len=" + len);
    int rc = LibC.get().fallocate(fd, mode, off, len);
    if (rc != 0) {
      int errno = LibC.errno();
      if (errno == LibC.EOPNOTSUPP) {
        // The target does not offer this mode (e.g. ZERO_RANGE on some block devices): say so in
        // the summary and stop choosing it, rather than pretending it was exercised.
        unsupported.add(op.name());
        int i = enabled.indexOf(op);
        enabled.remove(i);
        int[] w = new int[enabled.size()];
        for (int k = 0, j = 0; k < weights.length; k++) {
          if (k != i) {
            w[j++] = weights[k];
          }
        }
        System.arraycopy(w, 0, weights, 0, w.length);
        java.util.Arrays.fill(weights, w.length, weights.length, 0);
        opNo--;
        return;
      }
      throw new IOException(
          report(
              "fallocate mode=0x"
                  + Integer.toHexString(mode)
                  + " off="
                  + off
                  + " len="
                  + len
                  + " failed: errno "
                  + errno));
    }
    model.zero(off, len);
    if (op == Op.PUNCH) {
      punches++;
    } else {
      zeroRanges++;
    }
  }

  /**
   * Compares the region (stripe) of another view of the same bytes with the model: e.g. disk.img
   * after a run through a loop device, or a qemu-img conversion of the image.
   */
  public void verifyAllOn(FileChannel other) throws IOException {
    FileChannel saved = channel;
    channel = other;
    try {
      verifyAll();
    } finally {
      channel = saved;
    }
  }

  /** Reads the whole region (stripe) and compares it with the model. */
  public void verifyAll() throws IOException {
    record("verify-all");
    int chunk = 1 << 20;
    long end = cfg.start() + cfg.length();
    if (cfg.stripes() > 1) {
      long cluster = cfg.clusterBytes();
      for (long c = (cfg.start() + cluster - 1) / cluster + cfg.stripeIndex();
          (c + 1) * cluster <= end;
          c += cfg.stripes()) {
        verifyRange(c * cluster, cluster, chunk);
      }
      return;
    }
    verifyRange(cfg.start(), cfg.length(), chunk);
  }

  private void verifyRange(long start, long length, int chunk) throws IOException {
    for (long pos = start; pos < start + length; pos += chunk) {
      int n = (int) Math.min(chunk, start + length - pos);
      byte[] actual = readFully(pos, n);
      byte[] expected = new byte[n];
      model.read(pos, expected, 0, n);
      compare(pos, expected, actual, "final verify");
    }
  }

  private void loadInitialContent() throws IOException {
    if (cfg.stripes() > 1) {
      long cluster = cfg.clusterBytes();
      long end = cfg.start() + cfg.length();
      for (long c = (cfg.start() + cluster - 1) / cluster + cfg.stripeIndex();
          (c + 1) * cluster <= end;
          c += cfg.stripes()) {
        byte[] b = readFully(c * cluster, (int) cluster);
        model.write(c * cluster, b, 0, b.length);
      }
      return;
    }
    int chunk = 1 << 20;
    for (long pos = cfg.start(); pos < cfg.start() + cfg.length(); pos += chunk) {
      int n = (int) Math.min(chunk, cfg.start() + cfg.length() - pos);
      byte[] b = readFully(pos, n);
      model.write(pos, b, 0, n);
    }
  }

  private void compare(long off, byte[] expected, byte[] actual, String what) {
    for (int i = 0; i < expected.length; i++) {
      if (expected[i] != actual[i]) {
        int j = i;
        while (j < expected.length && expected[j] != actual[j]) {
          j++;
        }
        throw new AssertionError(
            report(
                what
                    + " mismatch at offset "
                    + (off + i)
                    + " (op range offset "
                    + off
                    + " len "
                    + expected.length
                    + "): expected 0x"
                    + Integer.toHexString(expected[i] & 0xff)
                    + " got 0x"
                    + Integer.toHexString(actual[i] & 0xff)
                    + ", "
                    + (j - i)
                    + " bytes differ from there"));
      }
    }
    bytesVerified += expected.length;
  }

  private void record(String line) {
    if (log.size() == LOG_TAIL) {
      log.removeFirst();
    }
    log.addLast("#" + opNo + " " + line);
  }

  private String report(String what) {
    StringBuilder sb = new StringBuilder();
    sb.append("fsx FAILED on ")
        .append(target)
        .append(": seed=")
        .append(cfg.seed())
        .append(" op=")
        .append(opNo)
        .append(": ")
        .append(what)
        .append("\nlast operations:\n");
    for (String l : log) {
      sb.append("  ").append(l).append('\n');
    }
    return sb.toString();
  }
}
