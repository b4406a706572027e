package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jploop.host.EventLog;
import org.jploop.host.MountException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tests for {@link ControlServer} over a real Unix domain socket. */
class ControlServerTest {
  @TempDir Path dir;

  @Test
  void testVerbs_replies_errorsAndAfterReply() throws Exception {
    Path sock = dir.resolve("control.sock");
    EventLog log =
        new EventLog(
            new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8));
    CountDownLatch after = new CountDownLatch(1);
    try (ControlServer s = ControlServer.bind(sock, log)) {
      s.on("echo", a -> a.get("x") + "," + a.get("y"))
          .on(
              "busy",
              a -> {
                throw new MountException(MountException.Reason.BUSY, "Cannot unmount /m: busy");
              })
          .on(
              "stop",
              a -> {
                s.afterReply(after::countDown);
                return "";
              });
      s.start();
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)))
          .isEqualTo("rw-------");
      assertThat(ControlServer.send(sock, "echo x=1 y=/a/b")).isEqualTo("ok 1,/a/b");
      assertThat(ControlServer.send(sock, "busy")).isEqualTo("error BUSY Cannot unmount /m: busy");
      assertThat(ControlServer.send(sock, "nosuch")).startsWith("error unknown control verb");
      assertThat(ControlServer.send(sock, "stop")).isEqualTo("ok");
      assertThat(after.await(5, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(sock).doesNotExist();
  }
}
