package org.jploop.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tests for the benchmark report ({@code src/bench/report.jq} and {@code markdown.jq}): the ratios,
 * the PASS/MISS/NOT MEASURED verdicts and the Markdown table, computed by the real jq from a
 * hand-written metrics file, as {@code bench.sh} does at the end of a run.
 */
class BenchReportTest {
  private static final Path BENCH = Path.of("src", "bench");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @BeforeAll
  static void needJq() {
    boolean jq = Files.isExecutable(Path.of("/usr/bin/jq"));
    if (!jq) {
      System.err.println(
          "WARNING: jq is missing (install it with .ci/setup): BenchReportTest is" + " SKIPPED");
    }
    assumeTrue(jq, "jq is missing");
  }

  private static String metric(String row, String metric, String value, String unit) {
    String v = value == null ? "null" : value;
    String note = value == null ? "\"mount failed\"" : "null";
    return "{\"row\":\""
        + row
        + "\",\"metric\":\""
        + metric
        + "\",\"value\":"
        + v
        + ",\"unit\":\""
        + unit
        + "\",\"command\":\"cmd "
        + row
        + " "
        + metric
        + "\",\"note\":"
        + note
        + "}";
  }

  private JsonNode report(List<String> lines) throws Exception {
    Path metrics = tmp.resolve("metrics.jsonl");
    Files.write(metrics, lines, StandardCharsets.UTF_8);
    String out =
        run(
            "jq",
            "-s",
            "--arg",
            "commit",
            "abc",
            "--argjson",
            "dirty",
            "false",
            "--arg",
            "kernel",
            "k",
            "--arg",
            "date",
            "d",
            "--arg",
            "size",
            "1G",
            "--argjson",
            "runtime",
            "20",
            "--arg",
            "workdir",
            "/w",
            "--arg",
            "fs",
            "ext4",
            "--arg",
            "cpus",
            "2",
            "--arg",
            "load",
            "0.1",
            "--arg",
            "fio",
            "fio-3.33",
            "--arg",
            "qemu",
            "q",
            "--arg",
            "nbdfuse",
            "n",
            "--arg",
            "java",
            "j",
            "--arg",
            "rss_size",
            "1T",
            "--arg",
            "rss_write",
            "2G",
            "--arg",
            "daemon_opts",
            "",
            "--arg",
            "rss_alt_opts",
            "-Xmx64m",
            "-f",
            BENCH.resolve("report.jq").toString(),
            metrics.toString());
    Files.writeString(tmp.resolve("results.json"), out);
    return JSON.readTree(out);
  }

  private String markdown() throws Exception {
    return run(
        "jq",
        "-r",
        "-f",
        BENCH.resolve("markdown.jq").toString(),
        tmp.resolve("results.json").toString());
  }

  private static String run(String... argv) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("exit status of %s, output:%n%s", List.of(argv), out).isZero();
    return out;
  }

  private static JsonNode target(JsonNode report, String name) {
    for (JsonNode t : report.get("targets")) {
      if (t.get("name").asText().equals(name)) {
        return t;
      }
    }
    throw new AssertionError("no target " + name + " in " + report.get("targets"));
  }

  private static List<String> fullRun() {
    List<String> m = new ArrayList<>();
    m.add(metric("raw", "seq_write", "200", "MB/s"));
    m.add(metric("raw", "seq_read", "400", "MB/s"));
    m.add(metric("raw", "rand_write", "30000", "IOPS"));
    m.add(metric("kernel-loop", "seq_write", "100", "MB/s"));
    m.add(metric("kernel-loop", "seq_read", "360", "MB/s"));
    m.add(metric("kernel-loop", "rand_write", "10000", "IOPS"));
    m.add(metric("kernel-loop", "rand_read", null, "IOPS"));
    m.add(metric("kernel-loop", "bat_page_writes_per_gib", "3", "pages/GiB"));
    m.add(metric("peer", "rand_write", "2000", "IOPS"));
    m.add(metric("kernel-null-loop", "seq_write", "400", "MB/s"));
    m.add(metric("kernel-loop", "rand_read_fuse_inflight_max", "16", "requests"));
    m.add(metric("kernel-loop", "rand_write_daemon_cpu_us_per_op", "7.5", "us"));
    m.add(metric("peer", "rand_read", "5000", "IOPS"));
    m.add(metric("rss-1t", "daemon_peak_rss", "300.5", "MiB"));
    return m;
  }

  @Test
  @DisplayName("ratios are to the raw row, targets pass or miss on the issue's limits")
  void ratiosAndVerdicts() throws Exception {
    JsonNode r = report(fullRun());

    JsonNode seqWrite = r.get("table").get(0);
    assertThat(seqWrite.get("metric").asText()).isEqualTo("seq_write");
    assertThat(seqWrite.get("unit").asText()).isEqualTo("MB/s");
    JsonNode kernelLoop = seqWrite.get("rows").get(2);
    assertThat(kernelLoop.get("row").asText()).isEqualTo("kernel-loop");
    assertThat(kernelLoop.get("ratio_to_raw").asDouble()).isEqualTo(0.5);
    assertThat(kernelLoop.get("ratio_to_ceiling").asDouble())
        .as("kernel-loop / kernel-null-loop")
        .isEqualTo(0.25);
    assertThat(seqWrite.get("rows").get(4).get("ratio_to_ceiling").isNull())
        .as("jnr-fuse-loop without a jnr-fuse-null-loop figure")
        .isTrue();

    assertThat(target(r, "kernel-loop seq write / raw").get("status").asText()).isEqualTo("MISS");
    assertThat(target(r, "kernel-loop seq read / raw").get("value").asDouble()).isEqualTo(0.9);
    assertThat(target(r, "kernel-loop seq read / raw").get("status").asText()).isEqualTo("PASS");
    assertThat(target(r, "kernel-loop 4k rand write QD16 / peer").get("value").asDouble())
        .isEqualTo(5);
    assertThat(target(r, "kernel-loop 4k rand write QD16 / peer").get("status").asText())
        .isEqualTo("PASS");
    assertThat(target(r, "kernel-loop 4k rand write QD16 / raw").get("value").asDouble())
        .isEqualTo(0.333);
    assertThat(target(r, "kernel-loop 4k rand write QD16 / raw").get("status").asText())
        .isEqualTo("MISS");
    assertThat(target(r, "kernel-loop 4k rand read QD16 / peer").get("status").asText())
        .isEqualTo("NOT MEASURED");
    assertThat(
            target(r, "kernel-loop FUSE requests in flight, rand read QD16 (fusectl max)")
                .get("status")
                .asText())
        .isEqualTo("PASS");
    assertThat(
            target(r, "BAT page writes per GiB, sequential write (kernel-loop)")
                .get("status")
                .asText())
        .isEqualTo("PASS");
    assertThat(target(r, "daemon peak RSS, 1T disk (MiB)").get("status").asText())
        .isEqualTo("MISS");
    assertThat(
            target(r, "daemon peak RSS, 1T disk, daemon JVM with -Xmx64m (MiB)")
                .get("status")
                .asText())
        .isEqualTo("NOT MEASURED");
    assertThat(r.get("metrics")).hasSize(fullRun().size());
    assertThat(r.get("commit").asText()).isEqualTo("abc");
  }

  @Test
  @DisplayName("the Markdown table shows value (ratio), n/m and the reason for what is missing")
  void markdownTable() throws Exception {
    report(fullRun());
    String md = markdown();
    assertThat(md)
        .contains(
            "| seq_write | MB/s | 200 | n/m | 100 (0.5) | n/m | n/m | n/m | n/m | 400 (2) | n/m |");
    assertThat(md)
        .contains(
            "Ratios to the FUSE ceiling (kernel-loop / kernel-null-loop,"
                + " jnr-fuse-loop / jnr-fuse-null-loop): kernel-loop seq_write 0.25");
    assertThat(md).contains("| kernel-loop 4k rand write QD16 / peer | 5 | >= 5 | PASS |");
    assertThat(md)
        .contains("| kernel-loop | rand_read | n/m | IOPS | not measured: mount failed" + " |");
    assertThat(md).contains("kernel-loop daemon CPU per 4 KiB random write (us) 7.5");
    assertThat(md).contains("- raw seq_write: `cmd raw seq_write`");
  }
}
