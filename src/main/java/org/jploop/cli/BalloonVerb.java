package org.jploop.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jploop.daemon.BalloonRelease;
import org.jploop.daemon.BalloonTarget;
import org.jploop.daemon.DiskAttachment;
import org.jploop.host.BalloonFile;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Base of the {@code ploop balloon} subcommands: the target ({@code -d DEVICE | -m MOUNT_POINT |
 * DiskDescriptor.xml}, resolved by {@link BalloonTarget}), one-line output, and the release of the
 * clusters under new balloon extents. The verbs run in this process, the filesystem work included;
 * the mount daemon is only asked to compact ({@link BalloonRelease#releaseOnline}).
 */
abstract class BalloonVerb implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "-d", paramLabel = "DEVICE", description = "ploop device, e.g. /dev/ploop0.")
  String device;

  @Option(
      names = "-m",
      paramLabel = "MOUNT_POINT",
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

  /** Releases {@code ranges} of {@code a}'s disk through its daemon, printing ploop's lines. */
  long release(DiskAttachment a, java.util.List<BalloonRelease.Clusters> ranges)
      throws IOException {
    return new BalloonRelease(a).releaseOnline(ranges, this::say);
  }
}
