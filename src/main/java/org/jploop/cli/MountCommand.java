package org.jploop.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jploop.daemon.DiskMounter;
import org.jploop.daemon.MountStatus;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.jploop.frontend.FrontendOptions;
import org.jploop.host.EventLog;
import org.jploop.host.InnerMount;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop mount [-m DIR [-t FSTYPE] [-o OPTS] [-F]] [--fuse-dir DIR] [-r] [-u GUID]
 * [--frontend kernel|jnr-fuse] [--fuse-threads N] DiskDescriptor.xml}: starts the mount daemon
 * that serves {@code disk.img} through the chosen FUSE front end; with {@code -m} also
 * attaches a loop device, optionally runs fsck, and mounts the filesystem. Without {@code -m} it
 * prints the disk.img path for {@code losetup --direct-io=on}. A read-only ploop-volume
 * ({@code <ReadOnly>}, a snapshot volume) is always mounted read-only, as ploop does.
 */
@Command(name = "mount", description = "Mount a disk: serve disk.img and optionally mount its"
    + " filesystem.")
final class MountCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "-m", paramLabel = "MOUNTPOINT", description = "Mount the filesystem here.")
  Path mountPoint;

  @Option(names = "--fuse-dir", paramLabel = "DIR",
      description = "Where disk.img appears (default: /run/jploop/<hash>/fuse).")
  Path fuseDir;

  @Option(names = "-r", description = "Read-only.")
  boolean readOnly;

  @Option(names = "-t", paramLabel = "FSTYPE",
      description = "Filesystem type to mount (default: probed).")
  String fsType;

  @Option(names = "-o", paramLabel = "OPTIONS",
      description = "Extra mount options for the filesystem (after lazytime).")
  String mountOptions;

  @Option(names = "-u", paramLabel = "GUID", description = "Mount the disk as of this snapshot"
      + " (read-only, -r, unless it is the top).")
  String guid;

  @Option(names = "--frontend", paramLabel = "NAME", description = "FUSE front end: kernel (the"
      + " default: jploop's own /dev/fuse server, many requests in flight) or jnr-fuse (libfuse"
      + " 2.9, one request at a time).")
  String frontend;

  @Option(names = "--fuse-threads", paramLabel = "N", description = "Threads serving FUSE"
      + " requests (kernel front end; default " + FrontendOptions.DEFAULT_WORKERS + ").")
  Integer fuseThreads;

  @Option(names = "-F", description = "Run fsck -p -f on the filesystem before mounting it"
      + " (-n with -r).")
  boolean fsck;

  @Parameters(index = "0", paramLabel = "DiskDescriptor.xml")
  Path descriptor;

  @Override
  public Integer call() throws Exception {
    var out = spec.commandLine().getOut();
    if (mountPoint == null && (fsType != null || mountOptions != null || fsck)) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "-t, -o and -F need -m MOUNTPOINT");
    }
    FrontendOptions front;
    try {
      front = FrontendOptions.of(frontend, fuseThreads);
    } catch (IllegalArgumentException e) {
      throw new PloopException(ExitCode.PARAM, e.getMessage());
    }
    DiskDescriptor.Volume vol = DiskDescriptor.read(descriptor).volume();
    if (vol != null && vol.readOnly() && !readOnly) {
      // ploop mounts a read-only volume (a ploop-volume snapshot) read-only, device and fs
      var err = spec.commandLine().getErr();
      err.println("Mounting read-only: " + descriptor.toAbsolutePath().getParent()
          + " is a snapshot volume");
      err.flush();
      readOnly = true;
    }
    InnerMount inner = new InnerMount(fsType, mountOptions, fsck);
    String snapshot = guid == null ? null : snapshotToMount();
    EventLog quiet = new EventLog(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    MountStatus st = new DiskMounter(DiskMounter.ownJar(), quiet)
        .mount(descriptor, mountPoint, fuseDir, readOnly, inner, snapshot, front);
    if (mountPoint == null) {
      out.println(st.diskImage());
    } else {
      out.println("Mounted " + st.loopDevice() + " at " + st.mountPoint() + " (" + st.diskImage()
          + ")");
    }
    out.flush();
    return ExitCode.OK;
  }

  /** Checks {@code -u}: a known snapshot, below the top only with {@code -r}. */
  private String snapshotToMount() throws java.io.IOException {
    String g;
    try {
      g = Guid.parse(guid);
    } catch (IllegalArgumentException e) {
      throw new PloopException(ExitCode.PARAM, e.getMessage());
    }
    DiskDescriptor d = DiskDescriptor.read(descriptor);
    if (d.shot(g) == null) {
      throw new PloopException(ExitCode.NOSNAP, "Uuid " + g + " not found in " + descriptor);
    }
    if (!Guid.same(g, d.topGuid()) && !readOnly) {
      throw new PloopException(ExitCode.PARAM, "Snapshot " + g + " is not the top delta; mount"
          + " it with -r (the deltas above it depend on its content)");
    }
    return g;
  }
}
