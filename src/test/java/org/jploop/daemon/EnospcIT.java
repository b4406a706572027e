package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.daemon.MountFixture.ploop;
import static org.jploop.daemon.MountFixture.qemuCheckClean;
import static org.jploop.daemon.MountFixture.sh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full host filesystem under a mounted disk: the image lives on a small tmpfs, a write through
 * {@code disk.img} runs out of space, the engine parks it, the daemon records the ENOSPC event in
 * its status (shown by {@code ploop info}); the writer, signalled while parked, is answered on
 * INTERRUPT and stays parked; once the tmpfs is grown the parked write completes and the image
 * closes cleanly.
 */
class EnospcIT {
  @TempDir Path tmp;
  private Path host;
  private Path xml;

  @BeforeEach
  void setUp() throws Exception {
    MountFixture.requireFuse(getClass().getSimpleName());
    host = Files.createDirectory(tmp.resolve("host"));
    sh(30, "mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", host.toString()).ok();
    xml = host.resolve("DiskDescriptor.xml");
  }

  @AfterEach
  void tearDown() throws Exception {
    MountFixture.forceCleanup(xml);
    sh(30, "umount", host.toString());
  }

  @Test
  void testFullHost_eventRecorded_parkedWriteCompletesAfterGrow() throws Exception {
    ploop("init", "-s", "1G", "-t", "none", host.resolve("root.hds").toString()).ok();
    Path img = Path.of(ploop("mount", xml.toString()).ok().out().strip());
    ProcessBuilder pb =
        new ProcessBuilder(
            "dd",
            "if=/dev/urandom",
            "of=" + img,
            "bs=1M",
            "count=48",
            "oflag=direct",
            "conv=notrunc");
    pb.redirectErrorStream(true);
    Process dd = pb.start();
    try {
      long deadline = System.currentTimeMillis() + 60_000;
      MountStatus st = MountStatus.forDescriptor(xml).orElseThrow();
      while (st.enospcEvents() == 0 && System.currentTimeMillis() < deadline) {
        Thread.sleep(200);
        st = MountStatus.forDescriptor(xml).orElseThrow();
      }
      assertThat(st.enospcEvents()).as("ENOSPC events in status.json").isPositive();
      assertThat(st.lastEnospcAt()).isNotNull();
      assertThat(dd.isAlive()).as("the write is parked, not failed").isTrue();
      assertThat(ploop("info", xml.toString()).ok().out())
          .containsPattern("ENOSPC events:\\s+[1-9]");
      assertThat(Files.readString(Path.of(st.logFile()))).contains("ENOSPC: the host filesystem");
      // the writer is signalled while the daemon holds its request: dd prints its counts
      // (SIGUSR1 has a handler, so it is not fatal), the kernel sends INTERRUPT, the daemon
      // answers it (ENOSYS: finish the request), and the write still completes below
      sh(10, "kill", "-USR1", Long.toString(dd.pid())).ok();
      long end = System.currentTimeMillis() + 30_000;
      while (!Files.readString(Path.of(st.logFile())).contains("INTERRUPT received")) {
        assertThat(System.currentTimeMillis()).as("INTERRUPT for the parked write").isLessThan(end);
        Thread.sleep(100);
      }
      assertThat(dd.isAlive()).as("still parked after the INTERRUPT").isTrue();
      sh(30, "mount", "-o", "remount,size=512m", host.toString()).ok();
      assertThat(dd.waitFor(120, TimeUnit.SECONDS)).as("parked write resumes").isTrue();
      String out = MountFixture.readAll(dd.getInputStream());
      assertThat(dd.exitValue()).as("dd: %s", out).isZero();
      assertThat(out).contains("50331648 bytes");
    } finally {
      dd.destroyForcibly();
    }
    ploop("umount", xml.toString()).ok();
    qemuCheckClean(host.resolve("root.hds"));
  }
}
