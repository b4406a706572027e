package org.jploop.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.jploop.daemon.BalloonDiscard;
import org.jploop.daemon.BalloonTarget;
import org.jploop.daemon.DiscardStat;
import org.jploop.daemon.DiskAttachment;
import org.jploop.daemon.DiskMounter;
import org.jploop.daemon.MountStatus;
import org.jploop.daemon.OnlineCompaction;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.host.EventLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop balloon discard [--automount] [--to-free SIZE] [--min-block SIZE] [--defrag |
 * --defrag-only] [--image-defrag-threshold N] | --stat}: the space the filesystem does not use
 * leaves the image ({@link BalloonDiscard}: optional e4defrag, the FITRIM ladder, an online
 * compact), reporting what was freed; {@code --stat} prints ploop's four lines. The
 * DiskDescriptor.xml form of an unmounted disk needs {@code --automount} (or {@code --stat}): the
 * disk is then mounted on {@code <image>.mnt} for the time of the operation.
 */
@Command(name = "discard", description = "Discard unused blocks from the image.")
final class BalloonDiscardCommand extends BalloonVerb {
  @Option(names = "--automount", description = "Mount an unmounted disk for the discard.")
  boolean automount;

  @Option(
      names = "--to-free",
      paramLabel = "SIZE",
      description = "Stop once this much has left the image (NUMBER[KMGT]).")
  String toFree;

  @Option(
      names = "--min-block",
      paramLabel = "MIN_SIZE",
      description = "Minimum size of a linear slice to be freed (NUMBER[KMGT]).")
  String minBlock;

  @Option(names = "--defrag", description = "Defragment the filesystem (e4defrag) first.")
  boolean defrag;

  @Option(
      names = {"--defrag-only", "-D"},
      description = "Only defragment.")
  boolean defragOnly;

  @Option(
      names = "--image-defrag-threshold",
      paramLabel = "N",
      description = "Skip the defrag while the image has at most N extents per cluster.")
  int defragThreshold;

  @Option(names = "--stat", description = "Print balloon, data, ploop and image sizes.")
  boolean stat;

  @Override
  public Integer call() throws Exception {
    checkDescriptorArgument();
    if (descriptor != null && (device != null || mountPoint != null)) {
      throw new PloopException(
          ExitCode.PARAM, "Give one of -d, -m or DiskDescriptor.xml, not several");
    }
    long toFreeBytes = bytes(toFree, "--to-free");
    if (descriptor != null) {
      refuseTinyToFree(toFreeBytes, DiskDescriptor.read(descriptor).blocksize() * 512L);
    }
    BalloonDiscard.Options o =
        new BalloonDiscard.Options(
            toFreeBytes, bytes(minBlock, "--min-block"), defrag, defragOnly, defragThreshold);
    if (descriptor != null && notMounted()) {
      if (!automount && !stat) {
        throw new PloopException(ExitCode.PARAM, "Unable to discard: image is not mounted");
      }
      return autoMounted(o);
    }
    DiskAttachment a = target(true);
    run(a, o);
    return ExitCode.OK;
  }

  private boolean notMounted() throws IOException {
    Optional<MountStatus> st = MountStatus.forDescriptor(descriptor);
    return st.isEmpty() || !st.get().daemonAlive();
  }

  /** ploop's do_ploop_discard: a target below one cluster cannot be met. */
  private void refuseTinyToFree(long toFreeBytes, long cluster) {
    if (toFree != null && toFreeBytes < cluster) {
      throw new PloopException(ExitCode.PARAM, "Can't shrink by less than " + cluster + " bytes");
    }
  }

  private void run(DiskAttachment a, BalloonDiscard.Options o) throws IOException {
    refuseTinyToFree(o.toFreeBytes(), a.clusterBytes());
    if (stat) {
      DiscardStat.measure(a).statLines().forEach(this::say);
      return;
    }
    new BalloonDiscard(this::say).run(a, o, OnlineCompaction.of(a));
  }

  /** Mounts the disk on {@code <image>.mnt}, runs the discard (or --stat), unmounts it. */
  private int autoMounted(BalloonDiscard.Options o) throws IOException {
    DiskDescriptor d = DiskDescriptor.read(descriptor);
    Path mnt = Path.of(d.topChainFiles(descriptor).get(0) + ".mnt");
    boolean made = !Files.exists(mnt);
    Files.createDirectories(mnt);
    EventLog quiet =
        new EventLog(
            new java.io.PrintStream(
                java.io.OutputStream.nullOutputStream(),
                false,
                java.nio.charset.StandardCharsets.UTF_8));
    DiskMounter mounter = new DiskMounter(DiskMounter.ownJar(), quiet);
    try {
      mounter.mount(descriptor, mnt, null, false);
      try {
        run(BalloonTarget.resolve(null, null, descriptor, true), o);
      } finally {
        mounter.umount(DiskMounter.statusOf(descriptor));
      }
    } finally {
      if (made) {
        Files.deleteIfExists(mnt);
      }
    }
    return ExitCode.OK;
  }

  /** Parses a ploop size option into bytes (a plain number is in sectors); 0 when absent. */
  private static long bytes(String value, String option) {
    if (value == null) {
      return 0;
    }
    try {
      return SizeParser.parseSectors(value) * 512;
    } catch (PloopException e) {
      throw new PloopException(
          e.exitCode(), e.getMessage().replace("option -s", "option " + option));
    }
  }
}
