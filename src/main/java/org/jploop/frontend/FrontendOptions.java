package org.jploop.frontend;

import java.util.List;
import org.jploop.frontend.jnrfuse.JnrFuseFrontend;
import org.jploop.frontend.kernel.KernelFrontend;
import org.jploop.host.EventLog;

/**
 * Which front end serves a disk and how: {@code ploop mount --frontend kernel|jnr-fuse
 * [--fuse-threads N]}, passed on to {@code ploop daemon}. Immutable.
 *
 * @param name {@link #KERNEL} (the default) or {@link #JNR_FUSE}
 * @param workers threads reading requests; the kernel front end only ({@code jnr-fuse} runs libfuse
 *     single-threaded, {@code -s}: 1)
 */
public record FrontendOptions(String name, int workers) {
  /** Our own server of the kernel's FUSE protocol on /dev/fuse. */
  public static final String KERNEL = "kernel";

  /** libfuse 2.9 through jnr-fuse, one request at a time. */
  public static final String JNR_FUSE = "jnr-fuse";

  /** Every front end, the default first. */
  public static final List<String> NAMES = List.of(KERNEL, JNR_FUSE);

  /**
   * Worker threads of the kernel front end unless {@code --fuse-threads} says otherwise: as many as
   * the queue depth the targets are set at (QD16), so every request of such a submitter is in
   * flight (with 4 workers fusectl showed 9); 4, 8 and 32 were no faster beyond the noise
   * (src/bench/README.md, "The kernel front end").
   */
  public static final int DEFAULT_WORKERS = 16;

  /** The most worker threads accepted. */
  public static final int MAX_WORKERS = 256;

  /** The default front end with its default threads. */
  public static final FrontendOptions DEFAULT = new FrontendOptions(KERNEL, DEFAULT_WORKERS);

  /** Checks the combination; see {@link #of}. */
  public FrontendOptions {
    if (!NAMES.contains(name)) {
      throw new IllegalArgumentException(
          "Unknown front end '" + name + "': use one of " + String.join(", ", NAMES));
    }
    if (name.equals(JNR_FUSE) && workers != 1) {
      throw new IllegalArgumentException(
          "--fuse-threads applies to the kernel front end only"
              + " (jnr-fuse serves one request at a time)");
    }
    if (workers < 1 || workers > MAX_WORKERS) {
      throw new IllegalArgumentException(
          "--fuse-threads must be 1.." + MAX_WORKERS + ", not " + workers);
    }
  }

  /**
   * Returns the options for {@code name} (null: the default front end) with {@code workers} threads
   * (null: that front end's default); throws IllegalArgumentException with a message for the user
   * if they do not fit together.
   */
  public static FrontendOptions of(String name, Integer workers) {
    String n = name == null ? KERNEL : name;
    if (n.equals(JNR_FUSE) && workers == null) {
      return new FrontendOptions(n, 1);
    }
    return new FrontendOptions(n, workers == null ? DEFAULT_WORKERS : workers);
  }

  /** Returns the {@code ploop daemon} arguments that select these options. */
  public List<String> daemonArgs() {
    return name.equals(KERNEL)
        ? List.of("--frontend", name, "--fuse-threads", Integer.toString(workers))
        : List.of("--frontend", name);
  }

  /** Returns a new, unmounted front end of this kind; failures are logged to {@code log}. */
  public Frontend create(EventLog log) {
    return name.equals(KERNEL) ? new KernelFrontend(workers, log) : new JnrFuseFrontend(log);
  }
}
