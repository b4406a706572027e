package org.jploop.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jploop.daemon.BalloonDiscard;
import org.jploop.daemon.BalloonRelease;
import org.jploop.daemon.BalloonTarget;
import org.jploop.daemon.DiskAttachment;
import org.jploop.daemon.DiskMounter;
import org.jploop.daemon.MountStatus;
import org.jploop.daemon.OnlineOperations;
import org.jploop.engine.DiskStats;
import org.jploop.host.BalloonFile;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Base of the {@code ploop balloon} subcommands: the target ({@code -d DEVICE | -m MOUNT_POINT |
 * DiskDescriptor.xml}, resolved by {@link BalloonTarget}), one-line output, and the two things
 * the verbs ask of the mount daemon: its engine's count of freed clusters and an online compact.
 */
abstract class BalloonVerb implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "-d", paramLabel = "DEVICE", description = "ploop device, e.g. /dev/ploop0.")
  String device;

  @Option(names = "-m", paramLabel = "MOUNT_POINT",
      description = "Where the filesystem of the disk is mounted.")
  Path mountPoint;

  @Parameters(index = "0", arity = "0..1", paramLabel = "DiskDescriptor.xml")
  Path descriptor;

  /** Checks the positional argument is a DiskDescriptor.xml (ploop: by its suffix). */
  void checkDescriptorArgument() {
    if (descriptor != null && !descriptor.getFileName().toString().endsWith(".xml")) {
      throw new ParameterException(spec.commandLine(), "Not a DiskDescriptor.xml: " + descriptor);
    }
  }

  /** Resolves the target; {@code needMountPoint}: its filesystem must be mounted. */
  DiskAttachment target(boolean needMountPoint) throws IOException {
    checkDescriptorArgument();
    return BalloonTarget.resolve(device, mountPoint, descriptor, needMountPoint);
  }

  /** Prints one line on stdout at once (ploop's messages are progress too). */
  void say(String line) {
    PrintWriter out = spec.commandLine().getOut();
    out.println(line);
    out.flush();
  }

  /**
   * Takes the balloon's exclusive lock (exit 17 while another process holds it), prints {@code
   * line} and lets the lock go: {@code clear} and {@code complete}, which have no kernel state to
   * act on in jploop.
   */
  int sayUnderLock(String line) throws IOException {
    try (BalloonFile b = BalloonFile.open(target(true).mountPoint(), BalloonFile.Lock.EXCLUSIVE)) {
      say(line);
    }
    return ExitCode.OK;
  }

  /** Returns the engine's counters as the daemon of {@code st} reports them now. */
  static DiskStats stats(MountStatus st) throws IOException {
    return MountStatus.fromJson(DiskMounter.requestOk(st, "status")).stats();
  }

  /**
   * Asks the daemon of {@code a}'s disk to compact the image online; the compaction returns the
   * bytes cut off the top delta.
   */
  static BalloonDiscard.Compaction compaction(DiskAttachment a) {
    return () -> {
      long usedEnd = stats(a.status()).preallocatedAreaStart();
      return OnlineOperations.truncatedBytes(DiskMounter.requestOk(a.status(), "compact"),
          a.topImage(), usedEnd);
    };
  }

  /** Releases {@code ranges} of {@code a}'s disk through its daemon, printing ploop's lines. */
  long release(DiskAttachment a, java.util.List<BalloonRelease.Clusters> ranges)
      throws IOException {
    MountStatus st = a.status();
    return new BalloonRelease(a).releaseAndCompact(ranges, () -> stats(st).clustersFreed(),
        compaction(a), this::say);
  }
}
