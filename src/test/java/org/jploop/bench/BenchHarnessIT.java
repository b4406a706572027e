package org.jploop.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A smoke run of {@code src/bench/bench.sh} with tiny sizes (16 MiB, 1 s fio) over the raw row,
 * both front ends (kernel-loop, jnr-fuse), the peer and the kernel front end's ceiling
 * (kernel-null-loop): every row must produce real figures, our daemon's status must yield BAT page
 * writes, RSS and the front end's counters, and nothing may be left mounted or attached. Needs
 * root, /dev/fuse and the bench tools (fio, qemu-nbd, nbdfuse, jq from {@code .ci/setup}).
 */
class BenchHarnessIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @BeforeAll
  static void needRootAndFuse() throws Exception {
    boolean fuse = Files.exists(Path.of("/dev/fuse"));
    boolean root = "root".equals(System.getProperty("user.name"));
    if (!fuse || !root) {
      System.err.println(
          "WARNING: BenchHarnessIT is SKIPPED: needs root and /dev/fuse (root="
              + root
              + ", /dev/fuse="
              + fuse
              + ")");
    }
    assumeTrue(fuse && root, "needs root and /dev/fuse");
  }

  @Test
  @DisplayName("bench.sh measures raw, ours, peer and the instruments, writes results, cleans up")
  void smokeRun() throws Exception {
    Path out = tmp.resolve("out");
    Path log = tmp.resolve("bench.log");
    Process p =
        new ProcessBuilder(
                "bash",
                "src/bench/bench.sh",
                "--size",
                "16M",
                "--runtime",
                "1",
                "--rows",
                "raw,kernel-loop,jnr-fuse,peer,kernel-null-loop",
                "--no-rss",
                "--no-seed",
                "--no-qd1",
                "--out",
                out.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    boolean done = p.waitFor(300, TimeUnit.SECONDS);
    String output = Files.readString(log);
    if (!done) {
      p.destroy();
    }
    assertThat(done).as("bench.sh finished within 300 s; output:%n%s", output).isTrue();
    assertThat(p.exitValue()).as("bench.sh exit status; output:%n%s", output).isZero();

    JsonNode r = JSON.readTree(out.resolve("results.json").toFile());
    for (String row : List.of("raw", "kernel-loop", "jnr-fuse", "peer", "kernel-null-loop")) {
      for (String m : List.of("seq_write", "seq_read", "rand_write", "rand_read")) {
        assertThat(value(r, row, m)).as("%s %s in %s", row, m, output).isPositive();
      }
    }
    assertThat(value(r, "kernel-loop", "bat_page_writes_per_gib")).as(output).isPositive();
    assertThat(value(r, "kernel-loop", "daemon_peak_rss")).as(output).isPositive();
    assertThat(value(r, "jnr-fuse", "daemon_peak_rss")).as(output).isPositive();
    assertThat(value(r, "peer", "daemon_peak_rss")).as(output).isPositive();
    assertThat(value(r, "jnr-fuse", "mount_time")).as(output).isPositive();
    assertThat(value(r, "jnr-fuse", "seq_write_fuse_inflight_max")).as(output).isPositive();
    assertThat(value(r, "kernel-loop", "rand_read_fuse_inflight_max")).as(output).isPositive();
    assertThat(value(r, "kernel-loop", "frontend_inflight_max")).as(output).isPositive();
    assertThat(value(r, "kernel-loop", "rand_write_daemon_cpu_us_per_op")).as(output).isPositive();
    assertThat(value(r, "kernel-null-loop", "frontend_inflight_max")).as(output).isPositive();
    assertThat(Files.readString(out.resolve("results.md")))
        .contains("| seq_write | MB/s |")
        .contains("## Targets");

    String mounts = Files.readString(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8);
    assertThat(mounts).doesNotContain(out.toString());
    Process losetup = new ProcessBuilder("losetup", "-a").redirectErrorStream(true).start();
    String loops = new String(losetup.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    losetup.waitFor();
    assertThat(loops).doesNotContain(out.toString());
    assertThat(out.resolve("work")).doesNotExist();
  }

  private static double value(JsonNode report, String row, String metric) {
    for (JsonNode m : report.get("metrics")) {
      if (m.get("row").asText().equals(row) && m.get("metric").asText().equals(metric)) {
        return m.get("value").isNull() ? -1 : m.get("value").asDouble();
      }
    }
    return -2;
  }
}
