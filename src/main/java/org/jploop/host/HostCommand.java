package org.jploop.host;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One run of a host tool (losetup, mount, mkfs, fusermount...): its argv, exit status and output.
 * Output is collected on two named pump threads so a chatty tool cannot block on a full pipe.
 *
 * @param argv what was run
 * @param exitCode the tool's exit status, or -1 if it was killed after the timeout
 * @param stdout everything it wrote to stdout
 * @param stderr everything it wrote to stderr
 */
public record HostCommand(List<String> argv, int exitCode, String stdout, String stderr) {

  /** Runs {@code argv}, waiting at most {@code timeoutSeconds}; a non-zero exit is not thrown. */
  public static HostCommand run(long timeoutSeconds, String... argv) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new IOException(argv[0] + ": cannot run: " + e.getMessage(), e);
    }
    CompletableFuture<String> out = pump(p.getInputStream(), argv[0] + "-stdout");
    CompletableFuture<String> err = pump(p.getErrorStream(), argv[0] + "-stderr");
    int rc;
    try {
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor();
        rc = -1;
      } else {
        rc = p.exitValue();
      }
      return new HostCommand(List.of(argv), rc, out.get(), err.get());
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(argv[0] + ": interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IOException(argv[0] + ": reading output failed", e);
    }
  }

  /** Runs {@code argv} and returns it, or throws an IOException naming the tool and its error. */
  public static HostCommand runChecked(long timeoutSeconds, String... argv) throws IOException {
    HostCommand c = run(timeoutSeconds, argv);
    if (!c.ok()) {
      throw new IOException(c.describeFailure());
    }
    return c;
  }

  private static CompletableFuture<String> pump(InputStream in, String name) {
    CompletableFuture<String> f = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try (in) {
                f.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
              } catch (IOException e) {
                f.complete("");
              }
            },
            name);
    t.setDaemon(true);
    t.start();
    return f;
  }

  /** Returns whether the tool exited with 0. */
  public boolean ok() {
    return exitCode == 0;
  }

  /** Returns "cmd args: error text on one line (exit N)": up to 3 lines of stderr, joined. */
  public String describeFailure() {
    String why = stderr.strip();
    if (why.isEmpty()) {
      why = stdout.strip();
    }
    why =
        String.join(
            " ", why.lines().map(String::strip).filter(l -> !l.isEmpty()).limit(3).toList());
    return String.join(" ", argv)
        + ": "
        + (exitCode < 0 ? "timed out" : why + " (exit " + exitCode + ")");
  }
}
