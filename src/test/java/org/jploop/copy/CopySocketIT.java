package org.jploop.copy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jploop.engine.EngineOptions;
import org.jploop.engine.PloopDisk;
import org.jploop.testing.PloopProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ploop copy} over a socket descriptor, as ploop 9 uses one: the stream and the replies
 * travel both ways on the same descriptor. The jar runs under bash, which opens the TCP socket as
 * descriptor 3 ({@code exec 3<>/dev/tcp/...}); this test is the other side, in-process. Once with
 * the jar receiving ({@code -d FILE -i 3}), once with the jar sending ({@code -s DiskDescriptor.xml
 * -o 3}); both copies must read back what was written and pass {@code qemu-img compare} with the
 * source. No FUSE needed: the source is an unmounted disk.
 */
class CopySocketIT {
  @TempDir Path dir;

  private Path source(long seed) throws Exception {
    Path img = dir.resolve("src").resolve("root.hds");
    Files.createDirectories(img.getParent());
    PloopProcess.Result init =
        PloopProcess.ploop(120, "init", "-s", "64M", "-t", "none", img.toString());
    assertThat(init.exit()).as(init.all()).isZero();
    Random r = new Random(seed);
    try (PloopDisk d = PloopDisk.openPaths(List.of(img), EngineOptions.defaults())) {
      for (int i = 0; i < 12; i++) {
        byte[] b = new byte[4096 * (1 + r.nextInt(64))];
        r.nextBytes(b);
        d.write(ByteBuffer.wrap(b), (long) r.nextInt(60) << 20);
      }
    }
    return img.resolveSibling("DiskDescriptor.xml");
  }

  private static List<String> overSocket(int port, String... copyArgs) {
    String cmd =
        "exec 3<>/dev/tcp/127.0.0.1/"
            + port
            + " && exec "
            + PloopProcess.javaBin()
            + " -jar "
            + PloopProcess.jar()
            + " copy "
            + String.join(" ", copyArgs);
    return List.of("bash", "-c", cmd);
  }

  private void assertSameAsSource(Path xml, Path copy, long seed) throws Exception {
    PloopProcess.Result cmp =
        PloopProcess.run(
            120,
            "qemu-img",
            "compare",
            "-f",
            "parallels",
            "-F",
            "parallels",
            xml.resolveSibling("root.hds").toString(),
            copy.toString());
    assertThat(cmp.exit()).as("seed %d: %s", seed, cmp.all()).isZero();
    PloopProcess.Result chk =
        PloopProcess.run(120, "qemu-img", "check", "-f", "parallels", copy.toString());
    assertThat(chk.exit()).as("seed %d: %s", seed, chk.all()).isZero();
  }

  @Test
  void testReceiverOnASocketRepliesOnIt() throws Exception {
    long seed = 4242;
    Path xml = source(seed);
    Path copy = dir.resolve("received.hds");
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<PloopProcess.Result> receiver =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return PloopProcess.run(
                      120,
                      overSocket(server.getLocalPort(), "-d", copy.toString(), "-i", "3")
                          .toArray(String[]::new));
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      server.setSoTimeout(60_000);
      try (Socket s = server.accept()) {
        StringWriter log = new StringWriter();
        CopySender.sendOffline(
            xml,
            CopySender.Target.stream(s.getInputStream(), s.getOutputStream()),
            null,
            new PrintWriter(log, true));
        assertThat(log.toString()).contains("Copy done");
      }
      PloopProcess.Result r = receiver.get(120, TimeUnit.SECONDS);
      assertThat(r.exit()).as("seed %d: receiver: %s", seed, r.all()).isZero();
    }
    assertSameAsSource(xml, copy, seed);
  }

  @Test
  void testSenderOnASocketReadsRepliesFromIt() throws Exception {
    long seed = 4343;
    Path xml = source(seed);
    Path copy = dir.resolve("sent.hds");
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<PloopProcess.Result> sender =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return PloopProcess.run(
                      120,
                      overSocket(server.getLocalPort(), "-s", xml.toString(), "-o", "3")
                          .toArray(String[]::new));
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      server.setSoTimeout(60_000);
      try (Socket s = server.accept()) {
        long bytes = new CopyReceiver(copy, s.getInputStream(), s.getOutputStream()).receive();
        assertThat(bytes).isPositive();
      }
      PloopProcess.Result r = sender.get(120, TimeUnit.SECONDS);
      assertThat(r.exit()).as("seed %d: sender: %s", seed, r.all()).isZero();
      assertThat(r.all()).contains("Copy done");
    }
    assertSameAsSource(xml, copy, seed);
  }
}
