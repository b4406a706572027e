package org.jploop.bench;

import com.kenai.jffi.MemoryIO;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;
import org.jploop.daemon.DiskOpener;
import org.jploop.engine.VirtualDisk;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.host.MountTable;

/**
 * Benchmark instrument for the closing proposal of issue 7, not a product: what the FUSE path
 * gives once libfuse2 is out of the way. It speaks the kernel's FUSE protocol on {@code /dev/fuse}
 * itself (mount(2) as root, then read requests and write replies), answers INIT with
 * {@code FUSE_ASYNC_DIO} and {@code max_pages=256} (libfuse 2.9 can ask for neither) and serves
 * requests from several threads, each blocking in read(2) on the same descriptor. Only what a
 * one-file disk needs is implemented: LOOKUP, GETATTR, SETATTR (size unchanged), OPEN, READ,
 * WRITE, FSYNC, FLUSH, RELEASE, FALLOCATE, STATFS, INIT, DESTROY; everything else gets ENOSYS.
 *
 * <p>Usage: {@code FuseProtocolProbe DIR THREADS (null SIZE_BYTES | DiskDescriptor.xml)}: serves
 * {@code DIR/disk.img} from a disk of zeros that drops writes, or from our engine over the image,
 * prints the disk.img path, and serves until {@code DIR.stop} appears or DIR is unmounted. The
 * engine is thread-safe (VirtualDisk's contract); each thread owns its request buffer.
 */
public final class FuseProtocolProbe {
  // opcodes (include/uapi/linux/fuse.h)
  static final int LOOKUP = 1;
  static final int FORGET = 2;
  static final int GETATTR = 3;
  static final int SETATTR = 4;
  static final int OPEN = 14;
  static final int READ = 15;
  static final int WRITE = 16;
  static final int STATFS = 17;
  static final int RELEASE = 18;
  static final int FSYNC = 20;
  static final int FLUSH = 25;
  static final int INIT = 26;
  static final int INTERRUPT = 36;
  static final int DESTROY = 38;
  static final int BATCH_FORGET = 42;
  static final int FALLOCATE = 43;
  // INIT flags
  static final int ASYNC_READ = 1;
  static final int BIG_WRITES = 1 << 5;
  static final int ASYNC_DIO = 1 << 15;
  static final int MAX_PAGES = 1 << 22;
  static final int ENOENT = 2;
  static final int EIO = 5;
  static final int EINTR = 4;
  static final int EAGAIN = 11;
  static final int ENOSYS = 38;
  static final int MAX_WRITE = 1 << 20;
  static final int IN_HEADER = 40;
  static final int OUT_HEADER = 16;
  static final long ROOT = 1;
  static final long FILE = 2;

  /** The libc calls the protocol needs. */
  public interface Libc {
    int open(@In String path, int flags, int mode);

    @ssize_t long read(int fd, Pointer buf, @size_t long count);

    @ssize_t long write(int fd, Pointer buf, @size_t long count);

    int mount(@In String source, @In String target, @In String type, long flags,
        @In String data);

    int umount2(@In String target, int flags);
  }

  private final Libc libc;
  private final Runtime rt;
  private final int fd;
  private final VirtualDisk disk;
  private final long size;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();

  private FuseProtocolProbe(Libc libc, int fd, VirtualDisk disk, long size) {
    this.libc = libc;
    this.rt = Runtime.getRuntime(libc);
    this.fd = fd;
    this.disk = disk;
    this.size = size;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: FuseProtocolProbe DIR THREADS (null SIZE_BYTES | XML)");
      System.exit(2);
    }
    Path dir = Path.of(args[0]).toAbsolutePath();
    int threads = Integer.parseInt(args[1]);
    VirtualDisk disk;
    if (args[2].equals("null")) {
      disk = new FuseCeiling.NullDisk(Long.parseLong(args[3]));
    } else {
      Path xml = Path.of(args[2]).toAbsolutePath();
      disk = DiskOpener.open(xml, DiskDescriptor.read(xml), false);
    }
    Path stop = FuseCeiling.prepare(dir);
    Libc libc = LibraryLoader.create(Libc.class).load("c");
    int fd = libc.open("/dev/fuse", 2 | 0x80000, 0); // O_RDWR | O_CLOEXEC
    if (fd < 0) {
      throw new IOException("/dev/fuse: open failed: errno " + LastError.getLastError(
          Runtime.getRuntime(libc)));
    }
    String opts = "fd=" + fd + ",rootmode=40000,user_id=0,group_id=0,max_read=" + MAX_WRITE;
    if (libc.mount("jploop-probe", dir.toString(), "fuse.jploop-probe", 0x2 | 0x4, opts) != 0) {
      throw new IOException(dir + ": mount failed: errno " + LastError.getLastError(
          Runtime.getRuntime(libc)));
    }
    FuseProtocolProbe p = new FuseProtocolProbe(libc, fd, disk, disk.size());
    List<Thread> workers = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(p::serve, "fuse-probe-" + i);
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
    Path img = dir.resolve("disk.img");
    for (int i = 0; i < 300 && !Files.exists(img); i++) {
      Thread.sleep(20);
    }
    FuseCeiling.announceAndAwaitStop(img, dir, stop);
    if (MountTable.at(dir).isPresent() && libc.umount2(dir.toString(), 0) != 0) {
      libc.umount2(dir.toString(), 2); // MNT_DETACH
    }
    for (Thread t : workers) {
      t.join(5000);
    }
    disk.close();
    System.err.println("max requests in flight: " + p.maxInFlight.get());
    Files.deleteIfExists(stop);
  }

  /** One worker: reads a request, answers it, until the mount goes away. */
  private void serve() {
    Pointer in = Memory.allocateDirect(rt, MAX_WRITE + 4096);
    Pointer out = Memory.allocateDirect(rt, MAX_WRITE + 4096);
    while (true) {
      long n = libc.read(fd, in, MAX_WRITE + 4096);
      if (n < 0) {
        int errno = LastError.getLastError(rt);
        if (errno == EINTR || errno == ENOENT || errno == EAGAIN) {
          continue; // interrupted, or the request was aborted before we read it
        }
        return; // ENODEV: unmounted
      }
      int now = inFlight.incrementAndGet();
      maxInFlight.accumulateAndGet(now, Math::max);
      try {
        answer(in, out);
      } catch (Throwable e) {
        reply(out, in.getLong(8), -EIO, 0);
      } finally {
        inFlight.decrementAndGet();
      }
    }
  }

  private void answer(Pointer in, Pointer out) throws IOException {
    int opcode = in.getInt(4);
    long unique = in.getLong(8);
    long node = in.getLong(16);
    int a = IN_HEADER;
    int o = OUT_HEADER;
    switch (opcode) {
      case INIT -> {
        int flags = in.getInt(a + 12);
        out.setMemory(o, 64, (byte) 0);
        out.putInt(o, 7);
        out.putInt(o + 4, 31);
        out.putInt(o + 8, MAX_WRITE); // max_readahead
        out.putInt(o + 12, flags & (ASYNC_READ | BIG_WRITES | ASYNC_DIO | MAX_PAGES));
        out.putShort(o + 16, (short) 16); // max_background
        out.putShort(o + 18, (short) 12); // congestion_threshold
        out.putInt(o + 20, MAX_WRITE);
        out.putInt(o + 24, 1); // time_gran
        out.putShort(o + 28, (short) (MAX_WRITE / 4096)); // max_pages
        reply(out, unique, 0, 64);
      }
      case LOOKUP -> {
        String name = in.getString(a, 256, StandardCharsets.UTF_8);
        if (node != ROOT || !name.equals("disk.img")) {
          reply(out, unique, -ENOENT, 0);
          return;
        }
        out.setMemory(o, 128, (byte) 0);
        out.putLong(o, FILE);
        out.putLong(o + 16, 3600);
        out.putLong(o + 24, 3600);
        attr(out, o + 40, FILE);
        reply(out, unique, 0, 128);
      }
      case GETATTR, SETATTR -> {
        out.setMemory(o, 104, (byte) 0);
        out.putLong(o, 3600);
        attr(out, o + 16, node);
        reply(out, unique, 0, 104);
      }
      case OPEN -> {
        out.setMemory(o, 16, (byte) 0);
        reply(out, unique, 0, 16);
      }
      case READ -> {
        long off = in.getLong(a + 8);
        int len = (int) Math.max(0, Math.min(in.getInt(a + 16), size - off));
        disk.read(buffer(out, o, len), off);
        reply(out, unique, 0, len);
      }
      case WRITE -> {
        long off = in.getLong(a + 8);
        int len = in.getInt(a + 16);
        disk.write(buffer(in, a + 40, len), off);
        out.putInt(o, len);
        out.putInt(o + 4, 0);
        reply(out, unique, 0, 8);
      }
      case FALLOCATE -> {
        long off = in.getLong(a + 8);
        long len = in.getLong(a + 16);
        int mode = in.getInt(a + 24);
        if ((mode & 0x02) != 0) {
          disk.punchHole(off, len);
        }
        reply(out, unique, 0, 0);
      }
      case FSYNC -> {
        disk.flush();
        reply(out, unique, 0, 0);
      }
      case FLUSH, RELEASE, DESTROY -> reply(out, unique, 0, 0);
      case STATFS -> {
        out.setMemory(o, 80, (byte) 0);
        out.putLong(o, size / 4096);
        out.putInt(o + 40, 4096);
        out.putInt(o + 44, 255);
        out.putInt(o + 48, 4096);
        reply(out, unique, 0, 80);
      }
      case FORGET, BATCH_FORGET, INTERRUPT -> { } // no reply
      default -> reply(out, unique, -ENOSYS, 0);
    }
  }

  private static ByteBuffer buffer(Pointer p, int off, int len) {
    return MemoryIO.getInstance().newDirectByteBuffer(p.address() + off, len);
  }

  private void attr(Pointer out, int at, long node) {
    out.putLong(at, node);
    if (node == FILE) {
      out.putLong(at + 8, size);
      out.putLong(at + 16, size / 512);
      out.putInt(at + 60, 0100644);
      out.putInt(at + 64, 1);
    } else {
      out.putInt(at + 60, 040755);
      out.putInt(at + 64, 2);
    }
    out.putInt(at + 80, 4096); // blksize
  }

  private void reply(Pointer out, long unique, int error, int payload) {
    int len = OUT_HEADER + (error == 0 ? payload : 0);
    out.putInt(0, len);
    out.putInt(4, error);
    out.putLong(8, unique);
    libc.write(fd, out, len);
  }
}
