package org.jploop.cli;

import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Consumer;
import org.jploop.daemon.DiskMounter;
import org.jploop.daemon.MountStatus;
import org.jploop.daemon.MountedResize;
import org.jploop.daemon.OfflineResizer;
import org.jploop.host.EventLog;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ploop resize -s SIZE [-o] DiskDescriptor.xml}, as ploop's ploop_resize_image: a bigger
 * size grows the image, partition 1 and the filesystem; a size up to the current one resizes only
 * the filesystem and never the image ({@code Disk_size} stays). Mounted ({@link MountedResize}, in
 * this process, the daemon asked only to grow or compact the image): through the hidden balloon,
 * the clusters under it punched out of the image and the image compacted. Not mounted ({@link
 * OfflineResizer}): {@code fsck.ext4} and {@code resize2fs} on the partition, the freed tail
 * punched out and the image compacted; {@code -o} resizes an unmounted ext4 disk online (mounted on
 * a temporary directory) instead.
 */
@Command(
    name = "resize",
    description = "Resize the disk's filesystem, and grow the disk" + " (online when mounted).")
final class ResizeCommand extends ImageVerb {
  @Option(
      names = "-s",
      paramLabel = "SIZE",
      required = true,
      description = "New size: sectors, or a number with K/M/G/T.")
  String size;

  @Option(
      names = "-o",
      description =
          "Do not unmount the filesystem: resize it online even when" + " the disk is not mounted.")
  boolean online;

  @Override
  String purpose() {
    return "resize";
  }

  @Override
  public Integer call() throws Exception {
    requireWritableVolume();
    long sectors = SizeParser.parseSectors(size);
    Consumer<String> say =
        line -> {
          out().println(line);
          out().flush();
        };
    EventLog quiet =
        new EventLog(
            new PrintStream(
                java.io.OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8));
    Optional<MountStatus> mounted = MountStatus.forDescriptor(descriptor);
    OfflineResizer.Result r;
    try {
      if (mounted.isPresent() && mounted.get().daemonAlive()) {
        // the steps go to the disk's log, beside the daemon's own lines
        try (PrintStream log =
            new PrintStream(
                new FileOutputStream(mounted.get().logFile(), true),
                true,
                Charset.defaultCharset())) {
          r = new MountedResize(say, new EventLog(log)).resize(mounted.get(), sectors);
        }
      } else {
        r =
            new OfflineResizer(() -> new DiskMounter(DiskMounter.ownJar(), quiet), say, quiet)
                .resize(descriptor, sectors, online);
      }
    } catch (ImageOperationException e) {
      throw new PloopException(exitCodeFor(e.kind()), e.getMessage(), e);
    }
    say.accept(r.summary());
    return ExitCode.OK;
  }

  @Override
  void run(OfflineDisk disk) {
    throw new IllegalStateException("resize runs through MountedResize or OfflineResizer");
  }
}
