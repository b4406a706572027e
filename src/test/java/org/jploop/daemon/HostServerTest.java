package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jploop.host.EventLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tests for {@link HostServer}: the request encoding, the socket's mode, one thread a request. */
class HostServerTest {
  @TempDir Path dir;
  private final EventLog log =
      new EventLog(
          new PrintStream(
              java.io.OutputStream.nullOutputStream(),
              false,
              java.nio.charset.StandardCharsets.UTF_8));

  @Test
  void testRequest_roundTripsBlanksAndEqualsAndLeavesNullsOut() {
    Map<String, String> args = new LinkedHashMap<>();
    args.put("xml", "/a dir/with=sign/Disk Descriptor.xml");
    args.put("fuse", null);
    args.put("ro", "1");
    String line = HostServer.request("mount", args);
    assertThat(line).doesNotContain("fuse=").startsWith("mount xml=");
    assertThat(line.split(" ")).hasSize(3);
    Map<String, String> back = HostServer.parse(line);
    assertThat(back)
        .containsEntry("", "mount")
        .containsEntry("ro", "1")
        .containsEntry("xml", "/a dir/with=sign/Disk Descriptor.xml")
        .doesNotContainKey("fuse");
  }

  @Test
  void testSocket_isPrivate_andAnswersWhatTheHandlerReturns() throws Exception {
    Path sock = dir.resolve("host.sock");
    Files.writeString(sock, "stale");
    try (HostServer s =
        HostServer.bind(sock, req -> "ok " + req.get("") + " " + req.get("k"), log)) {
      s.start();
      assertThat(Files.getPosixFilePermissions(sock))
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
      assertThat(HostServer.send(sock, HostServer.request("hello", Map.of("k", "a b"))))
          .isEqualTo("ok hello a b");
    }
    assertThat(sock).doesNotExist();
  }

  @Test
  void testSlowRequest_doesNotHoldUpAnother() throws Exception {
    Path sock = dir.resolve("host.sock");
    CountDownLatch release = new CountDownLatch(1);
    try (HostServer s =
        HostServer.bind(
            sock,
            req -> {
              if (req.get("").equals("slow")) {
                try {
                  release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              return "ok " + req.get("");
            },
            log)) {
      s.start();
      String[] slowReply = new String[1];
      Thread slow =
          new Thread(
              () -> {
                try {
                  slowReply[0] = HostServer.send(sock, "slow");
                } catch (java.io.IOException e) {
                  slowReply[0] = e.toString();
                }
              },
              "slow-client");
      slow.start();
      // the slow one is being served (or about to be): a second request is answered meanwhile
      assertThat(HostServer.send(sock, "fast")).isEqualTo("ok fast");
      assertThat(slow.isAlive()).isTrue();
      release.countDown();
      slow.join(10_000);
      assertThat(slowReply[0]).isEqualTo("ok slow");
    }
  }
}
