package org.jploop.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The victim process of the crash test: writes until it is killed (or its I/O fails because the
 * disk's daemon was killed) and records in a log what was made durable, so that the test can check
 * every such byte after recovery. JDK only; started as {@code java -cp test-classes
 * org.jploop.testing.CrashWriter MODE ...}.
 *
 * <ul>
 *   <li>{@code fs DIR LOG SEED}: creates files of random size inside the mounted filesystem; each
 *       is written, fsync'ed, its directory fsync'ed, and only then logged as {@code add NAME SIZE
 *       SEED}. Deletes old files ({@code delintent} before the unlink, {@code del} after the
 *       directory fsync) and runs {@code fstrim} now and then, so discards reach the image.
 *   <li>{@code raw IMAGE LOG SEED START END}: writes random, unaligned ranges of {@code [START,
 *       END)} of disk.img itself with fdatasync ({@code wintent}/{@code wdone} around each), and
 *       punches holes with {@code fallocate -p} ({@code pintent}/{@code pdone}).
 * </ul>
 *
 * <p>Every log line is fsync'ed before the next step. Single-threaded.
 */
public final class CrashWriter {
  /** The filesystem writer keeps at most this much live data, deleting the oldest files. */
  private static final long FS_BUDGET = 48L << 20;

  private final FileChannel log;

  private CrashWriter(Path logFile) throws IOException {
    this.log =
        FileChannel.open(
            logFile,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.APPEND);
  }

  public static void main(String[] args) throws Exception {
    CrashWriter w = new CrashWriter(Path.of(args[2]));
    long seed = Long.parseLong(args[3]);
    try {
      if (args[0].equals("fs")) {
        w.filesystem(Path.of(args[1]), Path.of(args[2]), seed);
      } else {
        w.raw(Path.of(args[1]), seed, Long.parseLong(args[4]), Long.parseLong(args[5]));
      }
    } catch (IOException e) {
      // Expected once the daemon is killed: the disk goes away under us.
      System.err.println("crash-writer: stopped: " + e);
      System.exit(3);
    }
  }

  private void record(String line) throws IOException {
    log.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
    log.force(true);
  }

  /** Returns the content of file {@code seed} of {@code size} bytes (also used by the verifier). */
  public static byte[] content(long seed, int size) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Returns the bytes of a raw write {@code seed} of {@code len} bytes. */
  public static byte[] rawContent(long seed, int len) {
    return content(seed ^ 0x5DEECE66DL, len);
  }

  private void filesystem(Path dir, Path logFile, long seed) throws Exception {
    Files.createDirectories(dir);
    // Files from earlier runs, in log order: name -> size (only fully logged ones).
    List<String> live = new ArrayList<>();
    List<Long> sizes = new ArrayList<>();
    long total = 0;
    for (String l : Files.readAllLines(logFile)) {
      String[] f = l.split(" ");
      if (f[0].equals("add")) {
        live.add(f[1]);
        sizes.add(Long.parseLong(f[2]));
        total += Long.parseLong(f[2]);
      } else if (f[0].equals("delintent")) {
        int i = live.indexOf(f[1]);
        if (i >= 0) {
          total -= sizes.remove(i);
          live.remove(i);
        }
      }
    }
    // Partially written leftovers of a crashed run were never logged: remove them.
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        if (!live.contains(p.getFileName().toString())) {
          Files.deleteIfExists(p);
        }
      }
    }
    fsyncDir(dir);
    Random r = new Random(seed);
    long n = 0;
    int deletes = 0;
    while (true) {
      if (total > FS_BUDGET || (!live.isEmpty() && r.nextInt(5) == 0)) {
        int i = r.nextInt(Math.min(live.size(), 8));
        String name = live.remove(i);
        total -= sizes.remove(i);
        record("delintent " + name);
        Files.deleteIfExists(dir.resolve(name));
        fsyncDir(dir);
        record("del " + name);
        if (++deletes % 6 == 0) {
          Process p =
              new ProcessBuilder("fstrim", dir.toString()).redirectErrorStream(true).start();
          p.getInputStream().readAllBytes();
          p.waitFor(60, TimeUnit.SECONDS);
          record("trim " + p.exitValue());
        }
        continue;
      }
      long fileSeed = seed * 1_000_003L + n;
      String name = "s" + Long.toUnsignedString(seed, 36) + "-" + n++ + ".dat";
      int size = r.nextInt(4) == 0 ? 1 + r.nextInt(8192) : 4096 + r.nextInt(2 << 20);
      byte[] data = content(fileSeed, size);
      Path f = dir.resolve(name);
      try (FileChannel ch =
          FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer bb = ByteBuffer.wrap(data);
        while (bb.hasRemaining()) {
          ch.write(bb);
        }
        ch.force(true);
      }
      fsyncDir(dir);
      record("add " + name + " " + size + " " + fileSeed);
      live.add(name);
      sizes.add((long) size);
      total += size;
    }
  }

  private static void fsyncDir(Path dir) throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  private void raw(Path image, long seed, long start, long end) throws Exception {
    Random r = new Random(seed);
    long n = 0;
    try (FileChannel ch =
        FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      while (true) {
        long off = start + (long) (r.nextDouble() * (end - start - 1));
        int len =
            (int)
                Math.min(
                    end - off, r.nextInt(3) == 0 ? 1 + r.nextInt(4096) : 1 + r.nextInt(1 << 20));
        if (r.nextInt(6) == 0) {
          record("pintent " + off + " " + len);
          Process p =
              new ProcessBuilder(
                      "fallocate",
                      "-p",
                      "-o",
                      Long.toString(off),
                      "-l",
                      Integer.toString(len),
                      image.toString())
                  .redirectErrorStream(true)
                  .start();
          String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
          p.waitFor(60, TimeUnit.SECONDS);
          if (p.exitValue() != 0) {
            throw new IOException("fallocate -p failed: " + out.trim());
          }
          ch.force(false);
          record("pdone " + off + " " + len);
          continue;
        }
        long wseed = seed * 1_000_003L + n++;
        record("wintent " + off + " " + len + " " + wseed);
        ByteBuffer bb = ByteBuffer.wrap(rawContent(wseed, len));
        while (bb.hasRemaining()) {
          ch.write(bb, off + bb.position());
        }
        ch.force(false);
        record("wdone " + off + " " + len + " " + wseed);
      }
    }
  }
}
