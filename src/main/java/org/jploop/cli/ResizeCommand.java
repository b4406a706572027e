package org.jploop.cli;

import java.util.Optional;
import org.jploop.daemon.DiskMounter;
import org.jploop.daemon.MountStatus;
import org.jploop.daemon.OfflineResizer;
import org.jploop.daemon.OnlineOperations;
import org.jploop.host.EventLog;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop resize -s SIZE [-o] DiskDescriptor.xml}, as ploop's ploop_resize_image: a bigger
 * size grows the image, partition 1 and the filesystem; a size up to the current one resizes only
 * the filesystem and never the image ({@code Disk_size} stays): mounted, through the hidden
 * balloon (a shrink punches the clusters under it out of the image and compacts it); not mounted,
 * offline with {@code fsck.ext4} and {@code resize2fs} on the partition, the freed tail punched
 * out of the image and the image compacted ({@link OfflineResizer}). {@code -o} resizes an
 * unmounted ext4 disk online (mounted on a temporary directory) instead.
 */
@Command(name = "resize", description = "Resize the disk's filesystem, and grow the disk"
    + " (online when mounted).")
final class ResizeCommand extends ImageVerb {
  @Option(names = "-s", paramLabel = "SIZE", required = true,
      description = "New size: sectors, or a number with K/M/G/T.")
  String size;

  @Option(names = "-o", description = "Do not unmount the filesystem: resize it online even when"
      + " the disk is not mounted.")
  boolean online;

  @Override
  String purpose() {
    return "resize";
  }

  @Override
  String onlineRequest() {
    return "resize sectors=" + SizeParser.parseSectors(size);
  }

  @Override
  void onlineDone(String reply) {
    OnlineOperations.resizeReplyLines(reply).forEach(out()::println);
  }

  @Override
  public Integer call() throws Exception {
    long sectors = SizeParser.parseSectors(size);
    Optional<MountStatus> mounted = MountStatus.forDescriptor(descriptor);
    if (mounted.isPresent() && mounted.get().daemonAlive()) {
      return super.call();
    }
    EventLog quiet = new EventLog(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    OfflineResizer.Result r;
    try {
      r = new OfflineResizer(() -> new DiskMounter(DiskMounter.ownJar(), quiet), line -> {
        out().println(line);
        out().flush();
      }, quiet).resize(descriptor, sectors, online);
    } catch (ImageOperationException e) {
      throw new PloopException(exitCodeFor(e.kind()), e.getMessage(), e);
    }
    if (r.filesystemSectors() < 0 || r.imageGrown()) {
      out().println("Resized to " + r.diskSectors() + " sectors");
    } else {
      out().println("Resized the filesystem to " + r.filesystemSectors() + " sectors; the disk"
          + " keeps " + r.diskSectors() + " sectors");
    }
    out().flush();
    return ExitCode.OK;
  }

  @Override
  void run(OfflineDisk disk) {
    throw new IllegalStateException("resize runs offline through OfflineResizer");
  }
}
