package org.jploop.copy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Base64;
import java.util.BitSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jploop.daemon.ControlServer;
import org.jploop.daemon.CopyTracking;
import org.jploop.engine.EngineOptions;
import org.jploop.engine.PloopDisk;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.SuppressForbidden;

/**
 * A mounted disk as a {@link CopySource}: tracking and freeze by the mount daemon over its control
 * socket ({@link CopyTracking}'s verbs), data read in this process through {@code disk.img}, i.e.
 * through the daemon's engine. Reading through the engine, not the image files, keeps the copy
 * right under delayed BAT writeback: a cluster just allocated has its mapping only in an md page in
 * memory, which a file read would miss. Order makes it complete: tracking starts before the first
 * pass reads, a cluster's bit is taken before it is read, and a read returns data at least as new
 * as the write that set the bit (the page cache of {@code disk.img} is the one the loop device
 * writes through), so a write is either in what was read or in a later pass. The frozen passes read
 * the image files instead ({@link #frozenView}). Used by one thread.
 */
final class DaemonCopySource implements CopySource {
  private static final Pattern START = Pattern.compile("size=(\\d+) cluster=(\\d+)");
  private static final Pattern CBT = Pattern.compile("uuid=(\\S+) gran=(\\d+) bits=(\\d+)");

  private final Path socket;
  private final Path xml;
  private final FileChannel image;

  /**
   * While frozen: the chain opened read-only in this process. With no write in flight and the md
   * pages flushed, the files are the disk, and reading them needs no FUSE worker (during the freeze
   * those may all be taken by writes waiting at the freeze).
   */
  private PloopDisk frozenView;

  private final long size;
  private final long cluster;
  private boolean closed;

  /** The aligned buffer O_DIRECT reads need. */
  private ByteBuffer direct;

  private DaemonCopySource(Path socket, Path xml, FileChannel image, long size, long cluster) {
    this.socket = socket;
    this.xml = xml;
    this.image = image;
    this.size = size;
    this.cluster = cluster;
  }

  /** Starts tracking on the daemon at {@code socket} and opens {@code diskImage} for reading. */
  @SuppressForbidden(
      "O_DIRECT, which the JDK offers only as com.sun.nio.file.ExtendedOpenOption:"
          + " each pass must read what the daemon serves now, not this process's page cache")
  static DaemonCopySource open(Path socket, Path diskImage, Path xml) throws IOException {
    Matcher m = START.matcher(ask(socket, "copy-start pid=" + ProcessHandle.current().pid()));
    if (!m.find()) {
      throw new CopyException(CopyException.PROTOCOL, "Unexpected reply to copy-start");
    }
    try {
      // O_DIRECT: a page cache kept across passes would serve clusters written since (the
      // loop device's writes to disk.img need not go through this open file's cache)
      FileChannel ch =
          FileChannel.open(
              diskImage, StandardOpenOption.READ, com.sun.nio.file.ExtendedOpenOption.DIRECT);
      DaemonCopySource s =
          new DaemonCopySource(
              socket, xml, ch, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
      // once now, discarded: class loading and the first BAT read of a cold JVM are then not
      // paid while the disk is frozen
      s.openChain().close();
      return s;
    } catch (IOException e) {
      ask(socket, "copy-stop");
      throw e;
    }
  }

  static String ask(Path socket, String request) throws IOException {
    String r = ControlServer.send(socket, request);
    if (r.startsWith("ok")) {
      return r.length() > 3 ? r.substring(3) : "";
    }
    String msg = r.startsWith("error ") ? r.substring(6) : r;
    int code = msg.startsWith("BUSY ") ? CopyException.EBUSY : CopyException.PROTOCOL;
    throw new CopyException(
        code,
        "The mount daemon refused "
            + request.split(" ")[0]
            + ": "
            + msg.replaceFirst("^[A-Z_]+ ", ""));
  }

  @Override
  public long sizeBytes() {
    return size;
  }

  @Override
  public long clusterBytes() {
    return cluster;
  }

  private long clusters() {
    return (size + cluster - 1) / cluster;
  }

  private BitSet pages(String verb, long bits) throws IOException {
    BitSet out = new BitSet();
    for (long from = 0; from < bits; from += CopyTracking.MAX_PAGE) {
      int count = (int) Math.min(CopyTracking.MAX_PAGE, bits - from);
      byte[] b =
          Base64.getDecoder().decode(ask(socket, verb + " from=" + from + " count=" + count));
      for (int i = 0; i < count; i++) {
        if ((b[i >>> 3] & (1 << (i & 7))) != 0) {
          out.set((int) (from + i));
        }
      }
    }
    return out;
  }

  @Override
  public BitSet mapped() throws IOException {
    return pages("copy-mapped", clusters());
  }

  @Override
  public BitSet takeChanged() throws IOException {
    String r = ask(socket, "copy-take");
    return r.equals("count=0") ? new BitSet() : pages("copy-changed", clusters());
  }

  @Override
  public void read(long c, byte[] dst, int len) throws IOException {
    if (frozenView != null) {
      frozenView.read(ByteBuffer.wrap(dst, 0, len), c * cluster);
      return;
    }
    if (direct == null) {
      direct = ByteBuffer.allocateDirect((int) cluster + 4096).alignedSlice(4096);
    }
    ByteBuffer b = direct.clear().limit((len + 511) / 512 * 512);
    long pos = c * cluster;
    while (b.hasRemaining()) {
      if (image.read(b, pos + b.position()) < 0) {
        throw new IOException("disk.img ends at " + (pos + b.position()));
      }
    }
    b.flip().get(dst, 0, len);
  }

  @Override
  public void freeze() throws IOException {
    ask(socket, "copy-freeze");
    frozenView = openChain();
  }

  private PloopDisk openChain() throws IOException {
    DiskDescriptor d = DiskDescriptor.read(xml);
    return PloopDisk.openPaths(
        d.topChainFiles(xml),
        d.raw(),
        EngineOptions.defaults().readOnly(true).allowDirty(true).backgroundThreads(false));
  }

  /**
   * Thaws. A freeze whose lease ran out before this (the sender too slow, or stalled) may have let
   * writes through during the frozen passes: the copy is then refused.
   */
  @Override
  public void thaw() throws IOException {
    if (frozenView != null) {
      frozenView.close();
      frozenView = null;
    }
    if (ask(socket, "copy-thaw").equals("lease expired")) {
      throw new CopyException(
          CopyException.FROZEN_LOOP,
          "The disk thawed by itself (its freeze"
              + " lease ran out) before the frozen passes were done; the copy is not consistent");
    }
  }

  @Override
  public DirtyBitmap cbt() throws IOException {
    String r = ask(socket, "copy-cbt");
    Matcher m = CBT.matcher(r);
    if (!m.find()) {
      return null;
    }
    long bits = Long.parseLong(m.group(3));
    DirtyBitmap.Builder b =
        new DirtyBitmap.Builder(
            UUID.fromString(m.group(1)), size / 512, (int) (Long.parseLong(m.group(2)) / 512));
    BitSet set = pages("copy-cbt-bits", bits);
    for (int i = set.nextSetBit(0); i >= 0; i = set.nextSetBit(i + 1)) {
      b.set(i);
    }
    return b.build();
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (frozenView != null) {
        frozenView.close();
        frozenView = null;
      }
      image.close();
    } finally {
      ask(socket, "copy-stop");
    }
  }
}
