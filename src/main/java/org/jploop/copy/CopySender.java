package org.jploop.copy;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.BitSet;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.stream.CbtBatch;

/**
 * {@code ploop copy -s}: ploop 9's sender ({@code ploop_copy_start / next_iteration / stop}, §3.3
 * of the verbs notes) on a {@link CopySource} into a {@link CopySink}: the clusters the top delta
 * maps (all-zero ones skipped), then {@link #LIVE_PASSES} passes over what changed, the stop
 * command through the shell ({@code -F}, ploop 7's flag), {@code sync}, the freeze, frozen passes
 * until one finds nothing (more than {@link #MAX_FROZEN_PASSES} that find something: ploop's {@code
 * Too many iterations on frozen FS, aborting}, 14), the CBT, the thaw, UMOUNT and FINISH. Prints
 * the clusters and bytes of every pass and the time frozen. Used by one thread.
 */
public final class CopySender {
  static final int LIVE_PASSES = 3;
  static final int MAX_FROZEN_PASSES = 3;

  private final CopySource source;
  private final CopySink sink;
  private final PrintWriter log;
  private final byte[] buf;
  private long clustersSent;

  private CopySender(CopySource source, CopySink sink, PrintWriter log) {
    this.source = source;
    this.sink = sink;
    this.log = log;
    this.buf = new byte[(int) source.clusterBytes()];
  }

  /** Sends the mounted disk whose daemon listens on {@code socket}, reading {@code diskImage}. */
  public static void sendMounted(
      java.nio.file.Path socket,
      java.nio.file.Path diskImage,
      java.nio.file.Path xml,
      Target to,
      String stopCommand,
      PrintWriter log)
      throws IOException {
    try (CopySource s = DaemonCopySource.open(socket, diskImage, xml)) {
      new CopySender(s, to.sink, log).run(stopCommand);
    }
  }

  /** Sends the unmounted disk of {@code xml}. */
  public static void sendOffline(
      java.nio.file.Path xml, Target to, String stopCommand, PrintWriter log) throws IOException {
    try (CopySource s = OfflineCopySource.open(xml)) {
      new CopySender(s, to.sink, log).run(stopCommand);
    }
  }

  /** Where to send: a local FILE or a stream. */
  public static final class Target {
    private final CopySink sink;

    private Target(CopySink sink) {
      this.sink = sink;
    }

    /** {@code -d FILE}: FILE becomes a ploop image. */
    public static Target file(java.nio.file.Path file) {
      return new Target(CopySink.local(file));
    }

    /** {@code -o FD}: packets to {@code out}, replies from {@code replies}. */
    public static Target stream(java.io.InputStream replies, java.io.OutputStream out) {
      return new Target(CopySink.stream(replies, out));
    }
  }

  private void run(String stopCommand) throws IOException {
    long t0 = System.nanoTime();
    try {
      sink.init((int) (source.clusterBytes() / 512), source.sizeBytes() / 512);
      pass("first pass", source.mapped(), true);
      for (int i = 1; i <= LIVE_PASSES; i++) {
        if (pass("live pass " + i, source.takeChanged(), false) == 0) {
          break;
        }
      }
      if (stopCommand != null) {
        runStopCommand(stopCommand);
      }
      hostSync();
      long frozenAt = System.nanoTime();
      source.freeze();
      try {
        int passes = 0;
        while (pass("frozen pass " + (passes + 1), source.takeChanged(), false) > 0) {
          if (++passes > MAX_FROZEN_PASSES) {
            throw new CopyException(
                CopyException.FROZEN_LOOP, "Too many iterations on frozen FS, aborting");
          }
        }
        DirtyBitmap cbt = source.cbt();
        if (cbt != null) {
          for (CbtBatch b : CbtBatch.of(cbt)) {
            sink.cbt(b);
          }
          sink.sync();
          log.println("CBT " + cbt.id() + ": " + cbt.cardinality() + " dirty blocks sent");
        }
      } finally {
        source.thaw();
      }
      long frozenMs = (System.nanoTime() - frozenAt) / 1_000_000;
      sink.finish();
      log.println(
          "Copy done: "
              + clustersSent
              + " clusters, "
              + sink.sent()
              + " bytes sent in "
              + (System.nanoTime() - t0) / 1_000_000
              + " ms; frozen "
              + frozenMs
              + " ms");
    } catch (IOException | RuntimeException e) {
      sink.abort();
      throw e;
    }
  }

  /** Sends the clusters of {@code set}; returns how many were sent. */
  private long pass(String name, BitSet set, boolean skipZeros) throws IOException {
    long t = System.nanoTime();
    long sent = 0;
    long bytes = 0;
    long cb = source.clusterBytes();
    for (int c = set.nextSetBit(0); c >= 0; c = set.nextSetBit(c + 1)) {
      int len = (int) Math.min(cb, source.sizeBytes() - c * cb);
      try {
        source.read(c, buf, len);
      } catch (IOException e) {
        throw new CopyException(
            CopyException.READ, "Can't read cluster " + c + " of the source: " + e.getMessage(), e);
      }
      if (skipZeros && allZero(buf, len)) {
        continue;
      }
      sink.data(c * cb, buf, len);
      sent++;
      bytes += len;
    }
    sink.sync();
    clustersSent += sent;
    log.println(
        name
            + ": "
            + sent
            + " clusters, "
            + bytes
            + " bytes, "
            + (System.nanoTime() - t) / 1_000_000
            + " ms");
    return sent;
  }

  private static boolean allZero(byte[] b, int len) {
    for (int i = 0; i < len; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private void runStopCommand(String cmd) throws IOException {
    log.println("Running stop command: " + cmd);
    try {
      Process p =
          new ProcessBuilder("/bin/sh", "-c", cmd)
              .inheritIO()
              .redirectOutput(ProcessBuilder.Redirect.to(new java.io.File("/dev/null")))
              .start();
      int rc = p.waitFor();
      if (rc != 0) {
        throw new CopyException(CopyException.SYS, "Command " + cmd + " failed with code " + rc);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CopyException(CopyException.SYS, "Interrupted while running " + cmd);
    }
  }

  /** Pushes dirty pages of the filesystem on the disk down to the daemon before the freeze. */
  private static void hostSync() throws IOException {
    try {
      new ProcessBuilder("sync").inheritIO().start().waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CopyException(CopyException.SYS, "Interrupted during sync");
    }
  }
}
