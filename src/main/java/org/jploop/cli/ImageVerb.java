package org.jploop.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jploop.daemon.ComponentGuard;
import org.jploop.daemon.DiskMounter;
import org.jploop.daemon.MountStatus;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.host.MountException;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import org.jploop.image.Progress;
import org.jploop.image.StepHook;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Base of the verbs that run one offline image operation on a {@code DiskDescriptor.xml}: takes the
 * disk lock through {@link OfflineDisk}, runs {@link #run}, and turns an {@link
 * ImageOperationException} into ploop's exit code (BUSY 17, DIRTY 37, NO_SNAPSHOT 43, REFUSED 38,
 * CORRUPT 11, OPEN 4, RENAME 28). A verb with an {@link #onlineRequest} runs in the mount daemon
 * instead when the disk is mounted (the daemon's reply carries the same failure kinds). Offline,
 * every verb but {@code snapshot} is refused while a component mount reads the deltas ({@link
 * ComponentGuard}).
 */
abstract class ImageVerb implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DiskDescriptor.xml")
  Path descriptor;

  /** What the lock file says this verb is doing. */
  abstract String purpose();

  /** Runs the operation with the disk locked. */
  abstract void run(OfflineDisk disk) throws Exception;

  /**
   * The control request that runs this verb in the mount daemon when the disk is mounted, or null
   * if the verb has no online form (then a mounted disk is refused as BUSY).
   */
  String onlineRequest() {
    return null;
  }

  /** Prints the result of the online operation, given the daemon's reply text after "ok". */
  void onlineDone(String reply) {
    if (!reply.isEmpty()) {
      out().println(reply);
    }
  }

  @Override
  public Integer call() throws Exception {
    requireWritableVolume();
    Optional<MountStatus> mounted = MountStatus.forDescriptor(descriptor);
    String request = onlineRequest();
    if (request != null && mounted.isPresent() && mounted.get().daemonAlive()) {
      runOnline(mounted.get(), request);
      out().flush();
      return ExitCode.OK;
    }
    try (OfflineDisk disk = OfflineDisk.open(descriptor, purpose())) {
      if (!purpose().equals("snapshot")) {
        ComponentGuard.refuseIfAny(descriptor);
      }
      run(disk);
    } catch (ImageOperationException e) {
      throw new PloopException(exitCodeFor(e.kind()), e.getMessage(), e);
    }
    out().flush();
    return ExitCode.OK;
  }

  /** Refuses a read-only snapshot volume (ploop-volume), whose images its children share. */
  void requireWritableVolume() throws Exception {
    DiskDescriptor.Volume vol = DiskDescriptor.read(descriptor).volume();
    if (vol != null && vol.readOnly()) {
      throw new PloopException(
          ExitCode.PARAM,
          "Unable to "
              + purpose()
              + ": "
              + descriptor.toAbsolutePath().getParent()
              + " is a read-only snapshot volume"
              + " (ploop-volume); its images are shared with its child volumes");
    }
  }

  /** Sends {@code request} to the daemon of {@code st}; a failure becomes its exit code. */
  // JDK 17: System.console() is null exactly when the JVM has no terminal; on JDK 22+ this needs
  // Console.isTerminal()
  @SuppressWarnings("SystemConsoleNull")
  private void runOnline(MountStatus st, String request) throws Exception {
    if (System.console() != null) {
      out()
          .println(
              "The disk is mounted (daemon pid "
                  + st.pid()
                  + "): running "
                  + purpose()
                  + " online; the disk is suspended meanwhile");
      out().flush();
    }
    String reply = DiskMounter.request(st, request);
    if (reply.equals("ok") || reply.startsWith("ok ")) {
      onlineDone(reply.substring(2).strip());
      return;
    }
    if (!reply.startsWith("error")) {
      throw new PloopException(
          ExitCode.SYS,
          "The mount daemon (pid "
              + st.pid()
              + ") gave no answer to "
              + purpose()
              + "; see "
              + st.logFile());
    }
    String[] w = reply.split(" ", 3);
    if (w.length == 3) {
      for (ImageOperationException.Kind k : ImageOperationException.Kind.values()) {
        if (k.name().equals(w[1])) {
          throw new PloopException(exitCodeFor(k), w[2]);
        }
      }
      for (MountException.Reason r : MountException.Reason.values()) {
        if (r.name().equals(w[1])) {
          throw new PloopException(Commands.exitCodeFor(r), w[2]);
        }
      }
    }
    throw new PloopException(ExitCode.SYS, reply.substring(5).strip());
  }

  /** Returns the verb's standard output. */
  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  /** Returns progress on the terminal, quiet otherwise. */
  static Progress progress(String operation) {
    return Progress.onTerminal(operation);
  }

  /** The production hook: nothing. */
  static StepHook hook() {
    return StepHook.NONE;
  }

  /** Maps an operation failure kind to ploop's exit code. */
  static int exitCodeFor(ImageOperationException.Kind kind) {
    return switch (kind) {
      case BUSY -> ExitCode.EBUSY;
      case DIRTY -> ExitCode.PLOOPINUSE;
      case NO_SNAPSHOT -> ExitCode.NOSNAP;
      case REFUSED -> ExitCode.PARAM;
      case CORRUPT -> ExitCode.PLOOPFMT;
      case OPEN -> ExitCode.OPEN;
      case RENAME -> ExitCode.RENAME;
    };
  }
}
