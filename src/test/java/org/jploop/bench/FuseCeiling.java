package org.jploop.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jploop.engine.DiskStats;
import org.jploop.engine.VirtualDisk;
import org.jploop.frontend.jnrfuse.DiskFilesystem;
import org.jploop.frontend.jnrfuse.FuseSession;
import org.jploop.host.EventLog;
import org.jploop.host.MountTable;

/**
 * Benchmark instrument, not a product: serves a {@code disk.img} that reads zeros and drops writes
 * through the same front end as the mount daemon ({@link DiskFilesystem} over jnr-fuse and
 * libfuse2, {@link FuseSession}'s options), with no engine and no backing file behind it. What it
 * reaches is the ceiling of the FUSE path on this machine; {@code bench.sh} runs the same workload
 * on it as row {@code fuse-null} (and {@code fuse-null-loop}), so our rows can be read against it.
 *
 * <p>Usage: {@code FuseCeiling DIR SIZE_BYTES}. Prints the disk.img path once mounted, then serves
 * until the file {@code DIR.stop} appears (or someone else unmounts DIR), unmounts and exits. Single-threaded apart from the FUSE
 * session thread; nothing is shared.
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
    if (args.length != 2) {
      System.err.println("usage: FuseCeiling DIR SIZE_BYTES");
      System.exit(2);
    }
    Path dir = Path.of(args[0]).toAbsolutePath();
    Path stop = prepare(dir);
    DiskFilesystem fs = new DiskFilesystem(new NullDisk(Long.parseLong(args[1])), 0, 0,
        new EventLog(System.err));
    FuseSession session = FuseSession.start(fs, dir);
    announceAndAwaitStop(session.diskImage(), dir, stop);
    session.unmount();
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
