package org.jploop.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jploop.engine.DiskStats;
import org.jploop.engine.VirtualDisk;
import org.jploop.frontend.Frontend;
import org.jploop.frontend.FrontendOptions;
import org.jploop.frontend.FrontendStats;
import org.jploop.host.EventLog;
import org.jploop.host.MountTable;

/**
 * Benchmark instrument, not a product: serves a {@code disk.img} that reads zeros and drops writes
 * through one of the product's front ends ({@code kernel} or {@code jnr-fuse}, as {@code ploop
 * mount --frontend} would), with no engine and no backing file behind it. What it reaches is the
 * ceiling of that FUSE path on this machine; {@code bench.sh} runs the same workload on it as rows
 * {@code kernel-null-loop} and {@code jnr-fuse-null-loop}, so our rows can be read against it.
 *
 * <p>Usage: {@code FuseCeiling DIR SIZE_BYTES [FRONTEND [THREADS]]}. Prints the disk.img path once
 * mounted, then serves until the file {@code DIR.stop} appears (or someone else unmounts DIR),
 * unmounts, prints the front end's counters and exits. The main thread only waits; the front end
 * has its own threads; nothing is shared.
 */
public final class FuseCeiling {
  private FuseCeiling() {}

  /** A disk of zeros that forgets what is written: the cheapest possible callback bodies. */
  static final class NullDisk implements VirtualDisk {
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20);
    private final long size;

    NullDisk(long size) {
      this.size = size;
    }

    @Override
    public long size() {
      return size;
    }

    @Override
    public boolean readOnly() {
      return false;
    }

    @Override
    public void read(ByteBuffer dst, long offset) {
      while (dst.hasRemaining()) {
        dst.put(ZEROS.slice(0, Math.min(dst.remaining(), ZEROS.capacity())));
      }
    }

    @Override
    public void write(ByteBuffer src, long offset) {
      src.position(src.limit());
    }

    @Override
    public void punchHole(long offset, long length) {}

    @Override
    public void zeroRange(long offset, long length) {}

    @Override
    public void flush() {}

    @Override
    public boolean takeEnospcEvent() {
      return false;
    }

    @Override
    public DiskStats stats() {
      return new DiskStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    @Override
    public void close() {}
  }

  public static void main(String[] args) throws IOException, InterruptedException {
    if (args.length < 2 || args.length > 4) {
      System.err.println("usage: FuseCeiling DIR SIZE_BYTES [kernel|jnr-fuse [THREADS]]");
      System.exit(2);
    }
    Path dir = Path.of(args[0]).toAbsolutePath();
    Path stop = prepare(dir);
    FrontendOptions options =
        FrontendOptions.of(
            args.length > 2 ? args[2] : null, args.length > 3 ? Integer.valueOf(args[3]) : null);
    Frontend frontend = options.create(new EventLog(System.err));
    frontend.checkAvailable();
    frontend.mount(
        new NullDisk(Long.parseLong(args[1])), new ReentrantReadWriteLock().readLock(), dir);
    announceAndAwaitStop(frontend.diskImage(), dir, stop);
    FrontendStats st = frontend.stats();
    frontend.unmount();
    System.err.println(st);
    System.err.println("max requests in flight: " + st.maxInFlight());
    Files.deleteIfExists(stop);
  }

  /** Creates the mount point {@code dir}, removes a stale stop file, returns {@code DIR.stop}. */
  static Path prepare(Path dir) throws IOException {
    Path stop = dir.resolveSibling(dir.getFileName() + ".stop");
    Files.createDirectories(dir);
    Files.deleteIfExists(stop);
    return stop;
  }

  /** Prints {@code img} for bench.sh, then waits until {@code stop} appears or dir is unmounted. */
  static void announceAndAwaitStop(Path img, Path dir, Path stop)
      throws IOException, InterruptedException {
    System.out.println(img);
    System.out.flush();
    while (!Files.exists(stop) && MountTable.at(dir).isPresent()) {
      Thread.sleep(100);
    }
  }
}
