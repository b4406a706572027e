package org.jploop.daemon;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jploop.engine.DiskStats;
import org.jploop.frontend.FrontendStats;
import org.jploop.host.RunPaths;

/**
 * What a mount daemon publishes about itself in {@code status.json} (see {@link RunPaths}): who it
 * is, where {@code disk.img} is, which loop device and mount point use it, ENOSPC events and the
 * engine counters. Written atomically (tmp + rename) by the daemon only; {@code ploop list}, {@code
 * ploop umount} and {@code ploop info} read it with {@link #forDescriptor} or {@link #all}.
 *
 * @param descriptor the descriptor's real path
 * @param pid the daemon's pid
 * @param state {@code starting}, {@code ready} or {@code stopping}
 * @param readOnly whether the disk is served read-only
 * @param fuseDir the FUSE mount point
 * @param diskImage {@code fuseDir/disk.img}
 * @param loopDevice the attached loop device, or null
 * @param mountPoint where the inner filesystem is mounted, or null
 * @param logFile the daemon's log
 * @param startedAt ISO-8601 start time
 * @param enospcEvents ENOSPC events seen since the start
 * @param lastEnospcAt ISO-8601 time of the last one, or null
 * @param callbackErrors FUSE callbacks that returned an error
 * @param stats the engine counters at {@code updatedAt}
 * @param updatedAt ISO-8601 time of this snapshot
 * @param frontend the front end serving disk.img and its counters ({@code name} is {@code kernel}
 *     or {@code jnr-fuse}); null in a status written before front ends had names
 * @param component the component name of a component mount ({@code ploop mount -c}), or null
 * @param snapshot the GUID of the snapshot served ({@code -u}), or null for the top
 */
public record MountStatus(
    String descriptor,
    long pid,
    String state,
    boolean readOnly,
    String fuseDir,
    String diskImage,
    String loopDevice,
    String mountPoint,
    String logFile,
    String startedAt,
    long enospcEvents,
    String lastEnospcAt,
    long callbackErrors,
    DiskStats stats,
    String updatedAt,
    FrontendStats frontend,
    String component,
    String snapshot) {

  public static final String STARTING = "starting";
  public static final String READY = "ready";
  public static final String STOPPING = "stopping";

  /**
   * Returns the one mapper for status files, built on first use (a configured mapper is
   * thread-safe; a new one per call introspected this record again on every read of the
   * daemon-ready poll).
   */
  private static ObjectMapper mapper() {
    return Mapper.INSTANCE;
  }

  /** Holds the mapper (lazy: initialised when {@link #mapper} is first called). */
  private static final class Mapper {
    static final ObjectMapper INSTANCE =
        new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }

  /** Returns this status as JSON. */
  public String toJson() {
    try {
      return mapper().writeValueAsString(this);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses JSON written by {@link #toJson}. */
  public static MountStatus fromJson(String json) throws IOException {
    return mapper().readValue(json, MountStatus.class);
  }

  /** Stores this status in {@code file} atomically. */
  public void write(Path file) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, toJson());
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Reads a status file, or empty if there is none. */
  public static Optional<MountStatus> read(Path file) throws IOException {
    try {
      return Optional.of(fromJson(Files.readString(file)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** Returns the status of the daemon serving {@code descriptor}, if one has published one. */
  public static Optional<MountStatus> forDescriptor(Path descriptor) throws IOException {
    return forDescriptor(descriptor, null);
  }

  /** Like {@link #forDescriptor(Path)} for the mount as {@code component} (null: the plain one). */
  public static Optional<MountStatus> forDescriptor(Path descriptor, String component)
      throws IOException {
    if (!Files.exists(descriptor)) {
      // a disk whose descriptor was removed while mounted (or after its daemon died) is found
      // under the path it was mounted by, so that ploop umount of that path cleans it up
      return read(
          RunPaths.ofRecorded(descriptor.toAbsolutePath().normalize().toString(), component)
              .statusFile());
    }
    return read(RunPaths.of(descriptor, component).statusFile());
  }

  /** Returns the live component mounts of {@code descriptor}. */
  public static List<MountStatus> components(Path descriptor) throws IOException {
    List<MountStatus> out = new ArrayList<>();
    if (!Files.exists(descriptor)) {
      return out;
    }
    String real = descriptor.toRealPath().toString();
    for (MountStatus st : all()) {
      if (st.component() != null && real.equals(st.descriptor()) && st.daemonAlive()) {
        out.add(st);
      }
    }
    return out;
  }

  /** Returns this mount's run paths (keyed by descriptor and component). */
  public RunPaths runPaths() throws IOException {
    return RunPaths.ofRecorded(descriptor, component);
  }

  /** Returns every published status, live or stale. */
  public static List<MountStatus> all() throws IOException {
    List<MountStatus> out = new ArrayList<>();
    Path root = RunPaths.runRoot();
    if (!Files.isDirectory(root)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
      for (Path dir : ds) {
        try {
          read(dir.resolve("status.json")).ifPresent(out::add);
        } catch (IOException e) {
          // a half-written or foreign file: skip it
        }
      }
    }
    return out;
  }

  /** Returns the name of the front end serving the disk, or "jnr-fuse" for an older status. */
  public String frontendName() {
    return frontend == null ? "jnr-fuse" : frontend.name();
  }

  /**
   * Returns whether a daemon still serves this disk: its process runs and the disk's control socket
   * is there (a host daemon serving other disks outlives one whose session was lost and which
   * removed its socket; a killed daemon leaves the socket but no process).
   */
  public boolean daemonAlive() {
    if (!running(pid)) {
      return false;
    }
    try {
      return Files.exists(runPaths().controlSocket());
    } catch (IOException e) {
      return true;
    }
  }

  /**
   * Returns whether process {@code pid} still runs. A process whose threads have all exited but
   * which its parent has not reaped yet (a zombie: state Z with only the leader left in {@code
   * /proc/PID/task}) has released its files, locks and mounts and counts as gone, although {@link
   * ProcessHandle#isAlive} says alive until it is reaped: a daemon is re-parented to init, which
   * may take a second or more (this machine's does), and {@code ploop umount} waited for that. A
   * zombie leader with threads still stuck in the kernel (a FUSE request after kill -9) runs.
   */
  static boolean running(long pid) {
    if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      return false;
    }
    Path proc = Path.of("/proc", Long.toString(pid));
    try {
      String stat = Files.readString(proc.resolve("stat"));
      int close = stat.lastIndexOf(')');
      char state = close < 0 || close + 2 >= stat.length() ? '?' : stat.charAt(close + 2);
      if (state != 'Z' && state != 'X') {
        return true;
      }
      try (var tasks = Files.list(proc.resolve("task"))) {
        return tasks.limit(2).count() > 1;
      }
    } catch (java.nio.file.NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  /** Returns a copy with the attachment (loop device and mount point) set. */
  public MountStatus withAttachment(String loop, String mnt) {
    return new MountStatus(
        descriptor,
        pid,
        state,
        readOnly,
        fuseDir,
        diskImage,
        loop,
        mnt,
        logFile,
        startedAt,
        enospcEvents,
        lastEnospcAt,
        callbackErrors,
        stats,
        updatedAt,
        frontend,
        component,
        snapshot);
  }
}
