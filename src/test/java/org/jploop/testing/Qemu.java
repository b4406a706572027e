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
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\"virtual-size\":\\s*(\\d+)").matcher(r.output());
    if (!m.find()) {
      throw new AssertionError("no virtual-size in: " + r.output());
    }
    return Long.parseLong(m.group(1));
  }

  /** {@code qemu-img create -f parallels [-o cluster_size=N] FILE SIZE}. */
  public static void create(Path image, long sizeBytes, long clusterBytes) {
    require(
        run(
            "qemu-img",
            "create",
            "-q",
            "-f",
            "parallels",
            "-o",
            "cluster_size=" + clusterBytes,
            image.toString(),
            Long.toString(sizeBytes)));
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
    require(
        run(
            "qemu-img",
            "convert",
            "-f",
            "parallels",
            "-O",
            "raw",
            image.toString(),
            raw.toString()));
  }

  /** Returns whether qemu-nbd and nbdinfo (libnbd-bin) are installed. */
  public static boolean hasNbdTools() {
    return java.nio.file.Files.isExecutable(Path.of("/usr/bin/qemu-nbd"))
        && java.nio.file.Files.isExecutable(Path.of("/usr/bin/nbdinfo"));
  }

  /**
   * Returns the dirty ranges QEMU reads from the persistent dirty bitmap {@code name} of a
   * parallels image (its Format Extension): {@code qemu-nbd -r --bitmap NAME} exports it as the NBD
   * meta context {@code qemu:dirty-bitmap:NAME}, {@code nbdinfo --map} lists its extents. Each
   * element is {@code {offset, length}} in bytes.
   */
  public static List<long[]> dirtyRanges(Path image, String name, Path socketDir) {
    Path sock =
        socketDir.resolve(
            "nbd-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".sock");
    Process nbd;
    try {
      nbd =
          new ProcessBuilder(
                  "qemu-nbd",
                  "-r",
                  "-f",
                  "parallels",
                  "--bitmap",
                  name,
                  "-k",
                  sock.toString(),
                  image.toString())
              .redirectErrorStream(true)
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!java.nio.file.Files.exists(sock)) {
        if (!nbd.isAlive()) {
          throw new AssertionError(
              "qemu-nbd exited "
                  + nbd.exitValue()
                  + ": "
                  + new String(nbd.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError("qemu-nbd did not create " + sock);
        }
        Thread.sleep(20);
      }
      Result r =
          require(run("nbdinfo", "--map=qemu:dirty-bitmap:" + name, "nbd+unix:///?socket=" + sock));
      List<long[]> out = new ArrayList<>();
      for (String line : r.output().split("\n")) {
        String[] w = line.trim().split("\\s+");
        if (w.length >= 3 && w[2].equals("1")) {
          out.add(new long[] {Long.parseLong(w[0]), Long.parseLong(w[1])});
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      nbd.destroy();
      try {
        if (!nbd.waitFor(10, TimeUnit.SECONDS)) {
          nbd.destroyForcibly();
        }
        java.nio.file.Files.deleteIfExists(sock);
      } catch (IOException | InterruptedException e) {
        nbd.destroyForcibly();
      }
    }
  }

  private static Result require(Result r) {
    if (r.exitCode() != 0) {
      throw new AssertionError("exit " + r.exitCode() + ": " + r.output());
    }
    return r;
  }
}
