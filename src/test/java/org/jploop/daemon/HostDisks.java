package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.daemon.MountFixture.ploop;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The disks of the host-daemon tests (HostScaleIT, HostCrashIT, HostIsolationIT): {@code n} small
 * ext4 disks under one directory ({@code dN/DiskDescriptor.xml}, mount point {@code mN}), copies of
 * one {@code ploop init} ({@link SpaceFixture#initDisk}); mounting and unmounting them several at a
 * time; and a {@link Writer} per disk that writes seeded random files with fsync and remembers what
 * was durable. Not thread-safe but for the writers.
 */
final class HostDisks {
  final Path root;
  final int n;
  final long seed;

  /** Every {@code step}-th disk of these, 0 first; see {@link #index}. */
  HostDisks subset(int step) {
    return new HostDisks(this, step);
  }

  /** The index among all disks of disk {@code i} of this subset. */
  int index(int i) {
    return i * step;
  }

  private final int step;

  private HostDisks(HostDisks all, int step) {
    this.root = all.root;
    this.n = (all.n + step - 1) / step;
    this.seed = all.seed;
    this.step = step;
  }

  HostDisks(Path root, int n, String size, long seed) throws Exception {
    this.root = root;
    this.n = n;
    this.seed = seed;
    this.step = 1;
    for (int i = 0; i < n; i++) {
      Files.createDirectories(dir(i));
      Files.createDirectories(mnt(i));
      SpaceFixture.initDisk(dir(i), size);
    }
  }

  Path dir(int i) {
    return root.resolve("d" + index(i));
  }

  Path xml(int i) {
    return dir(i).resolve("DiskDescriptor.xml");
  }

  Path image(int i) {
    return dir(i).resolve("root.hds");
  }

  Path mnt(int i) {
    return root.resolve("m" + index(i));
  }

  /** Runs {@code ploop args(i)} for every disk, {@code parallel} at a time; all must succeed. */
  void each(int parallel, java.util.function.IntFunction<String[]> args) throws Exception {
    ExecutorService ex = Executors.newFixedThreadPool(parallel, r -> new Thread(r, "host-disks"));
    try {
      List<Future<MountFixture.Run>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String[] a = args.apply(i);
        fs.add(ex.submit(() -> ploop(a)));
      }
      for (int i = 0; i < n; i++) {
        MountFixture.Run r = fs.get(i).get();
        assertThat(r.exitCode())
            .as("ploop %s: %s %s", String.join(" ", args.apply(i)), r.out(), r.err())
            .isZero();
      }
    } finally {
      ex.shutdownNow();
    }
  }

  /** Mounts every disk at its mount point, {@code parallel} at a time. */
  void mountAll(int parallel, String... extra) throws Exception {
    each(
        parallel,
        i ->
            concat(
                concat(new String[] {"mount"}, extra), "-m", mnt(i).toString(), xml(i).toString()));
  }

  /** Unmounts every disk, {@code parallel} at a time. */
  void umountAll(int parallel) throws Exception {
    each(parallel, i -> new String[] {"umount", xml(i).toString()});
  }

  /** Best effort after a failed test: unmounts whatever of these disks is still mounted. */
  void forceCleanup() {
    for (int i = 0; i < n; i++) {
      MountFixture.forceCleanup(xml(i));
    }
  }

  /** The pid serving disk {@code i} now, from its status. */
  long pid(int i) throws IOException {
    return MountStatus.forDescriptor(xml(i))
        .orElseThrow(() -> new AssertionError(xml(i) + " is not mounted"))
        .pid();
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  /**
   * Writes files {@code w<k>} of {@code fileBytes} seeded random bytes into a directory, each
   * fsync'ed (file and directory) before its sha256 is recorded as durable; stops after {@code
   * files} files, at {@link #stop}, or at the first failure (kept in {@link #failure}). Runs on its
   * own thread "writer-N".
   */
  static final class Writer implements Runnable {
    final Path dir;
    final int files;
    final int fileBytes;
    final Random rnd;
    final Map<String, String> durable = new ConcurrentHashMap<>();
    final Thread thread;
    volatile Throwable failure;
    volatile boolean stop;

    Writer(Path dir, int files, int fileBytes, long seed, int index) {
      this.dir = dir;
      this.files = files;
      this.fileBytes = fileBytes;
      this.rnd = new Random(seed + index);
      this.thread = new Thread(this, "writer-" + index);
      this.thread.setDaemon(true);
    }

    Writer start() {
      thread.start();
      return this;
    }

    @Override
    public void run() {
      byte[] b = new byte[fileBytes];
      try {
        for (int k = 0; k < files && !stop; k++) {
          rnd.nextBytes(b);
          Path f = dir.resolve("w" + k);
          try (FileChannel ch =
              FileChannel.open(
                  f,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.WRITE,
                  StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(b);
            while (buf.hasRemaining()) {
              ch.write(buf);
            }
            ch.force(true);
          }
          try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
          }
          durable.put(f.getFileName().toString(), sha256(b));
        }
      } catch (Throwable t) {
        failure = t;
      }
    }

    /** Waits for the writer; fails the test if it is still running after {@code ms}. */
    Writer join(long ms) throws InterruptedException {
      thread.join(ms);
      assertThat(thread.isAlive()).as("%s still writing to %s", thread.getName(), dir).isFalse();
      return this;
    }

    /** Asserts every durable file under {@code mounted} (the same disk, remounted) is intact. */
    void verify(Path mounted, long seed) throws IOException {
      for (Map.Entry<String, String> e : durable.entrySet()) {
        byte[] got = Files.readAllBytes(mounted.resolve(e.getKey()));
        assertThat(sha256(got))
            .as("%s/%s, seed %d", mounted, e.getKey(), seed)
            .isEqualTo(e.getValue());
      }
    }
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
