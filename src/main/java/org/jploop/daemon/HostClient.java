package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jploop.frontend.FrontendOptions;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountException;
import org.jploop.host.RunPaths;

/**
 * The command side of the {@link HostDaemon}: hands a disk over to the running host daemon and, if
 * none answers on {@link HostDaemon#socket} (none started yet, or the last one was killed and left
 * its socket, or it is exiting with its last disk), starts one detached ({@link
 * DaemonLauncher#startHost}) and hands the disk over as soon as it answers. Two {@code ploop mount}
 * at once may both start one; the second loses the host lock and exits, and both hand their disk to
 * the first. Stateless.
 */
final class HostClient {
  private static final long START_TIMEOUT_MS = 60_000;
  private static final long RETRY_MS = 20;

  /**
   * Host daemons one mount starts at most: a second only if the first lost the host lock to one
   * that was exiting with its last disk.
   */
  private static final int MAX_STARTS = 2;

  private final DaemonLauncher launcher;

  HostClient(DaemonLauncher launcher) {
    this.launcher = launcher;
  }

  /**
   * Has the host daemon serve {@code xml} ({@code fuseDir} null: the default; {@code guid} null:
   * the top) and returns the disk's ready status; a refusal or failure of the daemon's is thrown as
   * a {@link DaemonExitException} with ploop's exit code and message.
   */
  MountStatus mount(Path xml, Path fuseDir, boolean readOnly, String guid, FrontendOptions frontend)
      throws IOException {
    Map<String, String> args = new LinkedHashMap<>();
    args.put("xml", xml.toRealPath().toString());
    args.put("fuse", fuseDir == null ? null : fuseDir.toAbsolutePath().normalize().toString());
    args.put("ro", readOnly ? "1" : null);
    args.put("guid", guid);
    args.put("threads", Integer.toString(frontend.workers()));
    String request = HostServer.request("mount", args);
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    Process started = null;
    int starts = 0;
    long logStart = 0;
    while (true) {
      String reply = null;
      try {
        reply = HostServer.send(HostDaemon.socket(), request);
      } catch (IOException e) {
        // nobody listens: start a host daemon unless ours (or another's) is still coming up
        if ((started == null || !started.isAlive()) && HostDaemon.runningPid() < 0) {
          if (starts == MAX_STARTS) {
            // ours exited without serving, and none other runs: its last line says why
            throw new DaemonExitException(
                started.exitValue(), DaemonLauncher.lastLine(HostDaemon.logFile(), logStart));
          }
          Path log = HostDaemon.logFile();
          logStart = Files.exists(log) ? Files.size(log) : 0;
          started = launcher.startHost();
          starts++;
        }
      }
      if (reply != null && !reply.equals("error closing")) {
        return answer(reply, xml);
      }
      if (System.currentTimeMillis() > deadline) {
        throw new MountException(
            MountException.Reason.MOUNT_FAILED,
            "The host daemon did not"
                + " answer on "
                + HostDaemon.socket()
                + " within "
                + START_TIMEOUT_MS / 1000
                + " s; see "
                + HostDaemon.logFile());
      }
      LoopDevice.sleep(RETRY_MS);
    }
  }

  private static MountStatus answer(String reply, Path xml) throws IOException {
    if (reply.equals("ok")) {
      return MountStatus.read(RunPaths.of(xml).statusFile())
          .orElseThrow(
              () ->
                  new MountException(
                      MountException.Reason.MOUNT_FAILED,
                      "The host daemon reported "
                          + xml
                          + " mounted but published no status; see "
                          + HostDaemon.logFile()));
    }
    if (reply.startsWith("error exit=")) {
      String[] w = reply.split(" ", 3);
      try {
        int code = Integer.parseInt(w[1].substring("exit=".length()));
        throw new DaemonExitException(code, w.length > 2 ? w[2] : "mount failed");
      } catch (NumberFormatException e) {
        // not the host daemon's answer: reported as it is below
      }
    }
    throw new MountException(
        MountException.Reason.MOUNT_FAILED, "The host daemon answered: " + reply);
  }
}
