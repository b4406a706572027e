package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jploop.engine.DiskStats;
import org.jploop.frontend.FrontendStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tests for {@link MountStatus}: JSON round trip, atomic file storage, liveness. */
class MountStatusTest {
  @TempDir Path dir;

  @Test
  void testWriteRead_roundTrip() throws Exception {
    MountStatus s =
        new MountStatus(
            "/d/DiskDescriptor.xml",
            42,
            MountStatus.READY,
            false,
            "/run/jploop/x/fuse",
            "/run/jploop/x/fuse/disk.img",
            "/dev/loop3",
            "/mnt",
            "/l.log",
            "2026-01-01T00:00Z",
            2,
            "2026-01-01T00:01Z",
            1,
            new DiskStats(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
            "2026-01-01T00:02Z",
            new FrontendStats("kernel", 100, 1, 3, 16, 16, 7),
            "comp",
            "{5fbaabe3-6958-40ff-92a7-860e329aab41}");
    Path f = dir.resolve("status.json");
    s.write(f);
    assertThat(MountStatus.read(f)).contains(s);
    assertThat(MountStatus.read(dir.resolve("none.json"))).isEmpty();
    assertThat(s.withAttachment(null, null).loopDevice()).isNull();
    assertThat(MountStatus.read(f).orElseThrow().frontendName()).isEqualTo("kernel");
    assertThat(s.toJson()).contains("\"frontend\" : {", "\"name\" : \"kernel\"");
  }

  @Test
  void testRunning_zombieWithNoThreadsLeftIsGone() throws Exception {
    assertThat(MountStatus.running(ProcessHandle.current().pid())).isTrue();
    // bash forks a child that exits after a second, by when bash has become sleep, which never
    // reaps it: a zombie
    Process p = new ProcessBuilder("bash", "-c", "sleep 1 & echo $!; exec sleep 30").start();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      long zombie = Long.parseLong(r.readLine().strip());
      Path stat = Path.of("/proc", Long.toString(zombie), "stat");
      long deadline = System.currentTimeMillis() + 10_000;
      while (!Files.readString(stat).matches("(?s).*\\) Z .*")) {
        assertThat(System.currentTimeMillis())
            .as("child %d never became a zombie", zombie)
            .isLessThan(deadline);
        Thread.sleep(10);
      }
      assertThat(ProcessHandle.of(zombie).map(ProcessHandle::isAlive))
          .as("Java's view")
          .contains(true);
      assertThat(MountStatus.running(zombie)).isFalse();
      assertThat(MountStatus.running(p.pid())).isTrue();
    } finally {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    assertThat(MountStatus.running(p.pid())).isFalse();
  }

  @Test
  void testDaemonAlive_needsTheProcessAndTheDisksControlSocket() throws Exception {
    String old = System.getProperty("jploop.run.dir");
    System.setProperty("jploop.run.dir", dir.resolve("run").toString());
    try {
      Path xml = Files.writeString(dir.resolve("DiskDescriptor.xml"), "<x/>");
      MountStatus s =
          new MountStatus(
              xml.toRealPath().toString(),
              ProcessHandle.current().pid(),
              MountStatus.READY,
              false,
              "/f",
              "/f/disk.img",
              null,
              null,
              "/l.log",
              "t",
              0,
              null,
              0,
              null,
              "t",
              null,
              null,
              null);
      assertThat(s.daemonAlive()).as("a host daemon alive, the disk's socket gone").isFalse();
      Path sock = s.runPaths().controlSocket();
      Files.createDirectories(sock.getParent());
      Files.writeString(sock, "");
      assertThat(s.daemonAlive()).isTrue();
      assertThat(MountStatus.forDescriptor(xml)).as("no status file").isEmpty();
      s.write(s.runPaths().statusFile());
      Files.delete(xml);
      assertThat(MountStatus.forDescriptor(xml))
          .as("found by the path it was mounted by")
          .contains(s);
      Process p = new ProcessBuilder("true").start();
      p.waitFor();
      MountStatus dead =
          new MountStatus(
              s.descriptor(),
              p.pid(),
              MountStatus.READY,
              false,
              "/f",
              "/f/disk.img",
              null,
              null,
              "/l.log",
              "t",
              0,
              null,
              0,
              null,
              "t",
              null,
              null,
              null);
      assertThat(dead.daemonAlive()).as("socket left by a killed daemon").isFalse();
    } finally {
      if (old == null) {
        System.clearProperty("jploop.run.dir");
      } else {
        System.setProperty("jploop.run.dir", old);
      }
    }
  }
}
