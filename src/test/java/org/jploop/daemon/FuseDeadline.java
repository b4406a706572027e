package org.jploop.daemon;

import static org.assertj.core.api.Assertions.fail;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A deadline for a whole mount test that does I/O through {@code disk.img} in the test's own JVM
 * (where no process timeout helps): when it passes, thread "fuse-deadline" prints the stuck threads
 * of every registered mount's daemon and aborts their FUSE connections ({@link
 * FuseWatchdog#abort}), so a read or a verb hung on them fails instead of hanging the build; {@link
 * #close} then fails the test loudly. The list of watchdogs is copy-on-write.
 */
final class FuseDeadline implements AutoCloseable {
  private final List<FuseWatchdog> watched = new CopyOnWriteArrayList<>();
  private final Thread timer;
  private volatile String tripped;

  /** Starts a deadline {@code seconds} from now for {@code what}. */
  FuseDeadline(long seconds, String what) {
    timer =
        new Thread(
            () -> {
              try {
                Thread.sleep(seconds * 1000);
              } catch (InterruptedException e) {
                return;
              }
              StringBuilder sb =
                  new StringBuilder(
                      "DEADLINE: " + what + " did not finish within " + seconds + " s\n");
              for (FuseWatchdog w : watched) {
                sb.append(FuseWatchdog.stuckThreads(w.daemonPid()));
                sb.append("aborting FUSE of daemon ")
                    .append(w.daemonPid())
                    .append(": ")
                    .append(w.abort())
                    .append('\n');
              }
              tripped = sb.toString();
              System.err.print(tripped);
            },
            "fuse-deadline");
    timer.setDaemon(true);
    timer.start();
  }

  /** Watches one more mount. */
  void watch(FuseWatchdog w) {
    watched.add(w);
  }

  @Override
  public void close() {
    timer.interrupt();
    if (tripped != null) {
      fail(tripped);
    }
  }
}
