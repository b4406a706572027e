package org.jploop.testing;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Another process holding a {@code flock(2)} on a file, as real ploop or another tool would. One
 * process holds it: the shell opens the file, {@code flock(1)} locks that open file description and
 * exits, and the shell becomes {@code sleep}; killing that one process releases the lock at once.
 * ({@code flock FILE sleep} forks, and the child inherits the descriptor, so the lock could outlive
 * a kill of the process the test started.) Stateless.
 */
public final class ForeignFlock {
  private ForeignFlock() {}

  /**
   * Starts a process holding an exclusive ({@code -x}) or shared ({@code -s}) flock on {@code f}.
   */
  public static Process hold(Path f, boolean exclusive) throws IOException {
    return new ProcessBuilder(
            "sh",
            "-c",
            "exec 9<\"$0\" && flock \"$1\" 9 && exec sleep 60",
            f.toString(),
            exclusive ? "-x" : "-s")
        .start();
  }
}
