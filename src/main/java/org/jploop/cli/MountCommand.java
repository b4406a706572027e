package org.jploop.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jploop.daemon.DirtyImageRepair;
import org.jploop.daemon.DiskMounter;
import org.jploop.daemon.MountStatus;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.jploop.frontend.FrontendOptions;
import org.jploop.host.DeviceName;
import org.jploop.host.EventLog;
import org.jploop.host.InnerMount;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountTable;
import org.jploop.host.RunPaths;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop mount [-d DEVICE] [-m DIR [-t FSTYPE] [-o OPTS] [-F]] [--fuse-dir DIR] [-r] [-u
 * GUID] [--frontend kernel|jnr-fuse] [--fuse-threads N] DiskDescriptor.xml}: starts the mount
 * daemon that serves {@code disk.img} through the chosen FUSE front end; with {@code -m} or {@code
 * -d} also attaches a loop device under a ploop device name ({@code -d}'s, or a free {@code
 * /dev/mapper/ploopN}), and with {@code -m} optionally runs fsck and mounts the filesystem,
 * printing ploop's "Adding delta" and "Mounted" lines. With neither it prints the disk.img path for
 * {@code losetup --direct-io=on}. A delta left dirty by a crash is first checked and repaired as
 * {@code ploop check -F -d} would ({@link DirtyImageRepair}). A read-only ploop-volume ({@code
 * <ReadOnly>}, a snapshot volume) is always mounted read-only, as ploop does. {@code -c NAME}
 * mounts the disk once more as component NAME beside the plain mount (its own daemon, disk.img and
 * device); jploop serves a component read-only (README, "Where jploop differs from ploop").
 */
@Command(
    name = "mount",
    description = "Mount a disk: serve disk.img and optionally mount its" + " filesystem.")
final class MountCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "-m", paramLabel = "MOUNTPOINT", description = "Mount the filesystem here.")
  Path mountPoint;

  @Option(
      names = "-d",
      paramLabel = "DEVICE",
      description =
          "Name the disk /dev/ploopN (or"
              + " /dev/mapper/ploopN), partition 1 /dev/ploopNp1, while it is mounted.")
  String device;

  @Option(
      names = "--fuse-dir",
      paramLabel = "DIR",
      description = "Where disk.img appears (default: /run/jploop/<hash>/fuse).")
  Path fuseDir;

  @Option(names = "-r", description = "Read-only.")
  boolean readOnly;

  @Option(
      names = "-t",
      paramLabel = "FSTYPE",
      description = "Filesystem type to mount (default: probed).")
  String fsType;

  @Option(
      names = "-o",
      paramLabel = "OPTIONS",
      description = "Extra mount options for the filesystem (after lazytime).")
  String mountOptions;

  @Option(
      names = "-u",
      paramLabel = "GUID",
      description =
          "Mount the disk as of this snapshot" + " (read-only, -r, unless it is the top).")
  String guid;

  @Option(
      names = "--frontend",
      paramLabel = "NAME",
      description =
          "FUSE front end: kernel (the"
              + " default: jploop's own /dev/fuse server, many requests in flight) or jnr-fuse (libfuse"
              + " 2.9, one request at a time).")
  String frontend;

  @Option(
      names = "--fuse-threads",
      paramLabel = "N",
      description =
          "Threads serving FUSE"
              + " requests (kernel front end; default "
              + FrontendOptions.DEFAULT_WORKERS
              + ").")
  Integer fuseThreads;

  @Option(
      names = "-F",
      description = "Run fsck -p -f on the filesystem before mounting it" + " (-n with -r).")
  boolean fsck;

  @Option(
      names = "-c",
      paramLabel = "COMPONENT",
      description = "Mount it (again) as this" + " component, beside the plain mount; read-only.")
  String component;

  @Parameters(index = "0", paramLabel = "DiskDescriptor.xml")
  Path descriptor;

  @Override
  public Integer call() throws Exception {
    var out = spec.commandLine().getOut();
    if (mountPoint == null && (fsType != null || mountOptions != null || fsck)) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "-t, -o and -F need -m MOUNTPOINT");
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
      err.println(
          "Mounting read-only: "
              + descriptor.toAbsolutePath().getParent()
              + " is a snapshot volume");
      err.flush();
      readOnly = true;
    }
    DeviceName name = null;
    if (device != null) {
      try {
        name = new DeviceName(device);
      } catch (IllegalArgumentException e) {
        throw new PloopException(ExitCode.PARAM, e.getMessage());
      }
    }
    if (component != null) {
      checkComponent(component);
      if (!readOnly) {
        var err = spec.commandLine().getErr();
        err.println(
            "Mounting read-only: component "
                + component
                + " is served beside the plain"
                + " mount");
        err.flush();
        readOnly = true;
      }
    }
    InnerMount inner = new InnerMount(fsType, mountOptions, fsck);
    String snapshot = guid == null ? null : snapshotToMount();
    if (component == null) {
      repairIfDirty(snapshot);
    }
    EventLog quiet =
        new EventLog(
            new java.io.PrintStream(
                java.io.OutputStream.nullOutputStream(),
                false,
                java.nio.charset.StandardCharsets.UTF_8));
    MountStatus st =
        new DiskMounter(DiskMounter.ownJar(), quiet)
            .mount(
                descriptor, mountPoint, fuseDir, readOnly, inner, snapshot, front, name, component);
    if (st.loopDevice() == null) {
      out.println(st.diskImage());
      out.flush();
      return ExitCode.OK;
    }
    LoopDevice loop = new LoopDevice(st.loopDevice());
    List<DeviceName> names = DeviceName.of(loop);
    String dev = names.isEmpty() ? loop.device() : names.get(0).path();
    DiskDescriptor d = DiskDescriptor.read(descriptor);
    List<Path> chain =
        snapshot == null ? d.topChainFiles(descriptor) : d.chainFiles(descriptor, snapshot);
    for (int i = 0; i < chain.size(); i++) {
      boolean ro = readOnly || i < chain.size() - 1;
      out.printf(
          Locale.ROOT, "Adding delta dev=%s img=%s (%s)%n", dev, chain.get(i), ro ? "ro" : "rw");
    }
    if (st.mountPoint() != null) {
      Optional<MountTable.Entry> m = MountTable.at(Path.of(st.mountPoint()));
      String part =
          names.isEmpty() ? m.map(MountTable.Entry::source).orElse(dev) : names.get(0).partition();
      out.printf(
          Locale.ROOT,
          "Mounted %s at %s fstype=%s data='%s' %s%n",
          part,
          st.mountPoint(),
          m.map(MountTable.Entry::fsType).orElse("?"),
          String.join(",", mountData()),
          readOnly ? "ro" : "");
    }
    out.flush();
    return ExitCode.OK;
  }

  /** The options the filesystem was mounted with, as ploop prints them ("data"). */
  private List<String> mountData() {
    List<String> o = new ArrayList<>(List.of("lazytime"));
    if (mountOptions != null) {
      o.add(mountOptions);
    }
    return o;
  }

  /**
   * A delta left dirty by a crash is checked and repaired as {@code ploop check -F -d} would before
   * the daemon opens it; the findings go to stdout and to the disk's log. Skipped when the disk is
   * mounted already (the mount is refused then).
   */
  private void repairIfDirty(String snapshot) throws java.io.IOException {
    Optional<MountStatus> st = MountStatus.forDescriptor(descriptor);
    if (st.isPresent() && st.get().daemonAlive()) {
      return;
    }
    var out = spec.commandLine().getOut();
    RunPaths paths = RunPaths.of(descriptor);
    java.io.PrintStream[] logStream = {null};
    try {
      DirtyImageRepair.repair(
          descriptor,
          snapshot,
          line -> {
            out.println(line);
            out.flush();
            try {
              if (logStream[0] == null) {
                java.nio.file.Files.createDirectories(paths.logFile().getParent());
                logStream[0] =
                    new java.io.PrintStream(
                        new java.io.FileOutputStream(paths.logFile().toFile(), true),
                        true,
                        java.nio.charset.Charset.defaultCharset());
              }
              new EventLog(logStream[0]).info("mount: " + line);
            } catch (java.io.IOException e) {
              out.println("warning: cannot log to " + paths.logFile() + ": " + e.getMessage());
            }
          });
    } finally {
      if (logStream[0] != null) {
        logStream[0].close();
      }
    }
  }

  /** Refuses a component name that cannot be a file name part (ploop: {@code <dev>:<name>}). */
  static void checkComponent(String name) {
    if (name.isEmpty() || name.contains("/") || name.contains("\0") || name.length() > 64) {
      throw new PloopException(ExitCode.PARAM, "Invalid component name '" + name + "'");
    }
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
      throw new PloopException(
          ExitCode.PARAM,
          "Snapshot "
              + g
              + " is not the top delta; mount"
              + " it with -r (the deltas above it depend on its content)");
    }
    return g;
  }
}
