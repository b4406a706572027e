package org.jploop.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

/**
 * A child process that streams a seeded pattern into a file in 1 MiB chunks and then fsyncs it,
 * printing {@code wrote N} after each chunk and {@code done} at the end (or {@code failed: ...}).
 * JDK only. The ENOSPC test runs it in its own process so that the test JVM holds no descriptor of
 * disk.img while the writes are parked (every close of disk.img, even of a descriptor a fork
 * inherited, waits for the daemon's flush).
 */
public final class PatternWriter {
  /** Bytes per chunk. */
  public static final int CHUNK = 1 << 20;

  private PatternWriter() {}

  /** Returns the pattern of the chunk at {@code off}. */
  public static byte[] chunk(long seed, long off) {
    byte[] b = new byte[CHUNK];
    new Random(seed ^ off).nextBytes(b);
    return b;
  }

  public static void main(String[] args) {
    Path file = Path.of(args[0]);
    long seed = Long.parseLong(args[1]);
    long bytes = Long.parseLong(args[2]);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      for (long off = 0; off < bytes; off += CHUNK) {
        ByteBuffer bb = ByteBuffer.wrap(chunk(seed, off));
        while (bb.hasRemaining()) {
          ch.write(bb, off + bb.position());
        }
        System.out.println("wrote " + (off + CHUNK));
        System.out.flush();
      }
      ch.force(true);
      System.out.println("done");
    } catch (IOException | RuntimeException e) {
      System.out.println("failed: " + e);
      System.exit(1);
    }
  }

  /** Verifies {@code [0, bytes)} of {@code file}; returns the bytes compared. */
  public static long verify(Path file, long seed, long bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      for (long off = 0; off < bytes; off += CHUNK) {
        ByteBuffer bb = ByteBuffer.allocate(CHUNK);
        while (bb.hasRemaining()) {
          if (ch.read(bb, off + bb.position()) < 0) {
            throw new AssertionError(file + ": truncated at " + (off + bb.position()));
          }
        }
        int bad = Arrays.mismatch(bb.array(), chunk(seed, off));
        if (bad >= 0) {
          throw new AssertionError(
              file + ": byte " + (off + bad) + " differs from what was" + " written");
        }
      }
    }
    return bytes;
  }
}
