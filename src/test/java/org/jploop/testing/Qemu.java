package org.jploop.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs qemu-img and qemu-io (7.2 here and in CI), our independent judge of the format. */
public final class Qemu {
  private Qemu() {}

  /**
   * Result of one run.
   *
   * @param exitCode the process exit code
   * @param output stdout and stderr together
   */
  public record Result(int exitCode, String output) {}

  /** Runs a command to completion (at most 120 s) and returns its exit code and output. */
  public static Result run(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + String.join(" ", command));
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** {@code qemu-img check -f parallels FILE}: 0 clean, 2 corruptions, 3 leaks only. */
  public static Result check(Path image) {
    return run("qemu-img", "check", "-f", "parallels", image.toString());
  }

  /** Returns the virtual size qemu-img info reports, in bytes. */
  public static long virtualSize(Path image) {
    Result r = run("qemu-img", "info", "-f", "parallels", "--output=json", image.toString());
    if (r.exitCode() != 0) {
      throw new AssertionError("qemu-img info failed: " + r.output());
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"virtual-size\":\\s*(\\d+)")
        .matcher(r.output());
    if (!m.find()) {
      throw new AssertionError("no virtual-size in: " + r.output());
    }
    return Long.parseLong(m.group(1));
  }

  /** {@code qemu-img create -f parallels [-o cluster_size=N] FILE SIZE}. */
  public static void create(Path image, long sizeBytes, long clusterBytes) {
    require(run("qemu-img", "create", "-q", "-f", "parallels", "-o",
        "cluster_size=" + clusterBytes, image.toString(), Long.toString(sizeBytes)));
  }

  /** Runs {@code qemu-io -f parallels} with the given {@code -c} commands. */
  public static void io(Path image, String... commands) {
    List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "parallels"));
    for (String c : commands) {
      cmd.add("-c");
      cmd.add(c);
    }
    cmd.add(image.toString());
    Result r = require(run(cmd.toArray(String[]::new)));
    if (r.output().contains("error") || r.output().contains("failed")) {
      throw new AssertionError("qemu-io reported an error: " + r.output());
    }
  }

  /** {@code qemu-img convert -f parallels -O raw SRC DST}. */
  public static void convertToRaw(Path image, Path raw) {
    require(run("qemu-img", "convert", "-f", "parallels", "-O", "raw", image.toString(),
        raw.toString()));
  }

  private static Result require(Result r) {
    if (r.exitCode() != 0) {
      throw new AssertionError("exit " + r.exitCode() + ": " + r.output());
    }
    return r;
  }
}
