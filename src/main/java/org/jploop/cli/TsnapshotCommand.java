package org.jploop.cli;

import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jploop.daemon.DiskMounter;
import org.jploop.daemon.MountStatus;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.jploop.host.HostCommand;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import org.jploop.image.Progress;
import org.jploop.image.SnapshotCreator;
import org.jploop.image.SnapshotMerger;
import org.jploop.image.StepHook;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop tsnapshot -u UUID -c COMPONENT [-m MOUNT_POINT] DiskDescriptor.xml}: as ploop 9's
 * {@code ploop_create_temporary_snapshot}, takes a snapshot with GUID UUID marked {@code
 * <Temporary/>} (online through the mount daemon when the disk is mounted, else offline), then
 * mounts that snapshot read-only as component COMPONENT ({@code ploop mount -c COMPONENT -u UUID -r
 * [-m DIR]}: its own daemon, disk.img and loop device); online, the plain mount's filesystem is
 * frozen ({@code fsfreeze}) around the snapshot. If the mount fails the snapshot is merged back and
 * the mount's exit code returned. Unlike ploop the component is registered under COMPONENT, not
 * {@code ~COMPONENT}, so {@code ploop umount -c COMPONENT} finds it (README).
 */
@Command(
    name = "tsnapshot",
    description = "Take a temporary snapshot and mount it read-only as a" + " component.")
final class TsnapshotCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "-u",
      required = true,
      paramLabel = "UUID",
      description = "GUID of the temporary snapshot.")
  String uuid;

  @Option(
      names = "-c",
      required = true,
      paramLabel = "COMPONENT",
      description = "Component name the snapshot is mounted under.")
  String component;

  @Option(
      names = "-m",
      paramLabel = "MOUNT_POINT",
      description = "Mount the snapshot's filesystem here (read-only).")
  Path mountPoint;

  @Parameters(index = "0", paramLabel = "DiskDescriptor.xml")
  Path descriptor;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    String guid;
    try {
      guid = Guid.parse(uuid);
    } catch (IllegalArgumentException e) {
      throw new PloopException(ExitCode.PARAM, e.getMessage());
    }
    MountCommand.checkComponent(component);
    Optional<MountStatus> used = MountStatus.forDescriptor(descriptor, component);
    if (used.isPresent() && used.get().daemonAlive()) {
      MountStatus u = used.get();
      throw new PloopException(
          ExitCode.MOUNT,
          "Image "
              + descriptor.toRealPath()
              + " already used by device "
              + (u.loopDevice() == null ? u.diskImage() : u.loopDevice()));
    }
    Optional<MountStatus> plain = MountStatus.forDescriptor(descriptor);
    boolean online = plain.isPresent() && plain.get().daemonAlive();
    if (online) {
      snapshotOnline(plain.get(), guid);
    } else {
      snapshotOffline(guid);
    }
    List<String> argv = new ArrayList<>(List.of("mount", "-c", component, "-u", guid, "-r"));
    if (mountPoint != null) {
      argv.addAll(List.of("-m", mountPoint.toString()));
    }
    argv.add(descriptor.toString());
    int rc =
        PloopCli.newCommandLine(out, spec.commandLine().getErr())
            .execute(argv.toArray(String[]::new));
    if (rc != ExitCode.OK) {
      mergeBack(guid, online);
      return rc;
    }
    out.println("ploop temporary snapshot " + guid + " has been successfully created");
    out.flush();
    return ExitCode.OK;
  }

  /**
   * Online: the plain mount's filesystem, if any, is frozen around the snapshot (from this process,
   * never the daemon's), so the snapshot holds a clean filesystem, as ploop's dm suspend with
   * lockfs gives; the snapshot's journal needs no recovery and it mounts read-only.
   */
  private void snapshotOnline(MountStatus st, String guid) throws Exception {
    String mnt = st.mountPoint();
    if (mnt != null) {
      HostCommand f = HostCommand.run(120, "fsfreeze", "-f", mnt);
      if (!f.ok()) {
        throw new PloopException(
            ExitCode.SYS, "Failed to freeze " + mnt + ": " + f.describeFailure());
      }
    }
    try {
      DiskMounter.requestOk(st, "snapshot guid=" + guid + " temporary=1");
    } catch (ImageOperationException e) {
      throw new PloopException(exitCodeFor(e.kind()), e.getMessage(), e);
    } finally {
      if (mnt != null) {
        HostCommand.runChecked(120, "fsfreeze", "-u", mnt);
      }
    }
  }

  private void snapshotOffline(String guid) throws Exception {
    try (OfflineDisk disk = OfflineDisk.open(descriptor, "tsnapshot")) {
      new SnapshotCreator(disk, StepHook.NONE).temporary().create(guid);
    } catch (ImageOperationException e) {
      throw new PloopException(exitCodeFor(e.kind()), e.getMessage(), e);
    }
  }

  /** ploop: the disk is locked by someone else → SYSEXIT_LOCK; else the usual mapping. */
  private static int exitCodeFor(ImageOperationException.Kind k) {
    return k == ImageOperationException.Kind.BUSY ? ExitCode.LOCK : ImageVerb.exitCodeFor(k);
  }

  /** After a failed mount: merges the new top back into the temporary snapshot (ploop does). */
  private void mergeBack(String guid, boolean online) throws Exception {
    var err = spec.commandLine().getErr();
    err.println("Mounting the temporary snapshot " + guid + " failed; merging it back");
    err.flush();
    if (online) {
      MountStatus st = DiskMounter.statusOf(descriptor);
      DiskMounter.requestOk(st, "merge");
      return;
    }
    try (OfflineDisk disk = OfflineDisk.open(descriptor, "tsnapshot")) {
      DiskDescriptor d = disk.descriptor();
      new SnapshotMerger(disk, Progress.QUIET, new PrintWriter(Writer.nullWriter()), StepHook.NONE)
          .mergeIntoParent(d.topGuid());
    }
  }
}
