package org.jploop.daemon;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.frontend.FrontendOptions;
import org.jploop.host.EventLog;
import org.jploop.host.MountException;
import org.jploop.host.RunPaths;

/**
 * Starts jploop's daemons as detached child JVMs ({@code setsid java -jar jploop.jar VERB ...},
 * stdin from /dev/null, output appended to a log): the host daemon ({@code ploop hostd}, {@link
 * HostDaemon}) that serves most disks, and a per-disk {@code ploop daemon} ({@link MountDaemon})
 * for the mounts a host does not take (the jnr-fuse front end, component mounts), whose ready
 * status it waits for. Stateless.
 */
final class DaemonLauncher {
  private static final long READY_TIMEOUT_MS = 60_000;

  /** Environment variable with extra JVM options for the daemons (-XX:StartFlightRecording...). */
  static final String DAEMON_JAVA_OPTS_ENV = "JPLOOP_DAEMON_JAVA_OPTS";

  private final Path jar;
  private final EventLog log;

  DaemonLauncher(Path jar, EventLog log) {
    this.jar = jar;
    this.log = log;
  }

  /** Starts {@code ploop hostd} detached, its output appended to {@link HostDaemon#logFile}. */
  Process startHost() throws IOException {
    Path logFile = HostDaemon.logFile();
    Files.createDirectories(logFile.getParent());
    Files.createDirectories(RunPaths.runRoot());
    // the serial collector returns memory and suits threads that allocate little; the heap is
    // the JVM's default maximum (a quarter of RAM), of which a disk uses what its BAT needs
    List<String> argv = javaCommand(List.of("-XX:+UseSerialGC"));
    argv.add("hostd");
    Process p = start(argv, logFile);
    log.info("started host daemon pid " + p.pid() + ", log " + logFile);
    return p;
  }

  /** Starts a per-disk {@code ploop daemon} and returns its status once ready. */
  MountStatus startDiskDaemon(
      Path xml,
      Path fuseDir,
      boolean readOnly,
      String snapshotGuid,
      FrontendOptions frontend,
      String component)
      throws IOException {
    RunPaths paths = RunPaths.of(xml, component);
    paths.createDirs();
    Path logFile = paths.logFile();
    long logStart = Files.exists(logFile) ? Files.size(logFile) : 0;
    List<String> argv = javaCommand(daemonHeapOptions(DiskDescriptor.read(paths.descriptor())));
    argv.add("daemon");
    argv.addAll(frontend.daemonArgs());
    if (fuseDir != null) {
      argv.addAll(List.of("--fuse-dir", fuseDir.toAbsolutePath().toString()));
    }
    if (readOnly) {
      argv.add("-r");
    }
    if (snapshotGuid != null) {
      argv.addAll(List.of("-u", snapshotGuid));
    }
    if (component != null) {
      argv.addAll(List.of("-c", component));
    }
    argv.add(paths.descriptor().toString());
    Process p = start(argv, logFile);
    log.info("started mount daemon pid " + p.pid() + ", log " + logFile);
    return awaitReady(p, paths, logFile, logStart);
  }

  /** {@code setsid java [run/log dirs] [archive] OPTIONS [$JPLOOP_DAEMON_JAVA_OPTS] -jar JAR}. */
  private List<String> javaCommand(List<String> jvmOptions) {
    List<String> argv = new ArrayList<>();
    argv.add("setsid");
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String prop : List.of("jploop.run.dir", "jploop.log.dir")) {
      if (System.getProperty(prop) != null) {
        argv.add("-D" + prop + "=" + System.getProperty(prop));
      }
    }
    argv.addAll(archiveOptions(jar));
    argv.addAll(jvmOptions);
    // extra JVM options for the daemons only (profiling: JFR, GC logs), split at whitespace; they
    // come after the defaults, so an -Xmx here wins
    String daemonOpts = System.getenv(DAEMON_JAVA_OPTS_ENV);
    if (daemonOpts != null && !daemonOpts.isBlank()) {
      argv.addAll(List.of(daemonOpts.trim().split("\\s+")));
    }
    argv.addAll(List.of("-jar", jar.toString()));
    return argv;
  }

  private static Process start(List<String> argv, Path logFile) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    return pb.start();
  }

  /**
   * Waits until the daemon {@code p} publishes a ready status, woken by the events themselves: an
   * inotify watch on the run directory (the status file is renamed into place) and the exit of the
   * child; the 250 ms timeout only bounds the wait if an event were missed (the watch queue
   * overflowing, say).
   */
  private static MountStatus awaitReady(Process p, RunPaths paths, Path logFile, long logStart)
      throws IOException {
    long deadline = System.currentTimeMillis() + READY_TIMEOUT_MS;
    try (WatchService ws = paths.statusFile().getFileSystem().newWatchService()) {
      paths
          .runDir()
          .register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
      // an exit wakes the wait at once: closing the service ends a poll in progress
      // nothing to wait for: the callback only ends the poll below
      var unused =
          p.onExit()
              .thenRun(
                  () -> {
                    try {
                      ws.close();
                    } catch (IOException e) {
                      // the wait below finds the exit on its next round
                    }
                  });
      while (true) {
        Optional<MountStatus> st = MountStatus.read(paths.statusFile());
        if (st.isPresent()
            && st.get().pid() == p.pid()
            && MountStatus.READY.equals(st.get().state())) {
          return st.get();
        }
        if (!p.isAlive()) {
          throw new DaemonExitException(p.exitValue(), lastLine(logFile, logStart));
        }
        if (System.currentTimeMillis() > deadline) {
          p.destroy();
          throw new MountException(
              MountException.Reason.MOUNT_FAILED,
              "The mount daemon (pid "
                  + p.pid()
                  + ") was not ready within "
                  + READY_TIMEOUT_MS / 1000
                  + " s; see "
                  + logFile);
        }
        try {
          WatchKey key = ws.poll(250, TimeUnit.MILLISECONDS);
          if (key != null) {
            key.pollEvents();
            key.reset();
          }
        } catch (ClosedWatchServiceException e) {
          // the daemon exited: the next round reports it
          try {
            p.waitFor();
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for the mount daemon", ie);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted waiting for the mount daemon", e);
        }
      }
    }
  }

  /**
   * JVM options that bound a per-disk daemon's memory: the serial collector (the FUSE threads
   * allocate little, so there is no need for a parallel one, and it returns memory) and a heap
   * sized from the disk: 48 MiB of base, the merged BAT (about 5 bytes per cluster in md pages)
   * plus each delta's raw BAT read at open (4 bytes per cluster per delta), and four clusters of
   * copy buffers (COW). A 1 TiB disk with 1 MiB clusters and one delta gets 64 MiB.
   */
  static List<String> daemonHeapOptions(DiskDescriptor d) {
    long clusters = (d.diskSizeSectors() + d.blocksize() - 1) / d.blocksize();
    long clusterBytes = d.blocksize() * 512L;
    long bytes = (48L << 20) + clusters * (8 + 4L * d.images().size()) + 4 * clusterBytes;
    long mib = (bytes + (1 << 20) - 1) >> 20;
    return List.of("-XX:+UseSerialGC", "-Xmx" + mib + "m");
  }

  /**
   * JVM options that map the class-data-sharing archive built with {@code jar} ({@code jploop.jsa}
   * beside it, see {@code StartupTraining}) when it exists and is not older than the jar (a static
   * archive the JVM rejects leaves it with no archive at all, not even the JDK's); {@code
   * -Xshare:auto} makes the JVM ignore one that is mismatched or corrupt, and the log tags keep
   * that out of the daemon's log. The JVM's default relocation of the archive (a random address,
   * which patches its pages into private memory: 75 instead of 62 MiB of PSS a daemon measured with
   * {@code src/bench/disks.sh}) is kept: the daemon is a root process serving the kernel, and
   * address randomisation is worth more than 13 MiB. No options without an archive. The daemons
   * otherwise keep the JVM's compilers: they serve I/O for as long as disks are mounted.
   */
  static List<String> archiveOptions(Path jar) {
    String name = jar.getFileName().toString();
    Path jsa =
        jar.resolveSibling(
            (name.endsWith(".jar") ? name.substring(0, name.length() - 4) : name) + ".jsa");
    try {
      if (!Files.isRegularFile(jsa)
          || Files.getLastModifiedTime(jar).compareTo(Files.getLastModifiedTime(jsa)) > 0) {
        return List.of();
      }
    } catch (IOException e) {
      return List.of();
    }
    return List.of(
        "-Xshare:auto", "-XX:SharedArchiveFile=" + jsa, "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
  }

  /** Returns the last non-empty line written to {@code log} after {@code from}. */
  static String lastLine(Path log, long from) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
      long len = f.length();
      long start = Math.max(from, len - 64 * 1024);
      byte[] b = new byte[(int) (len - start)];
      f.seek(start);
      f.readFully(b);
      String text = new String(b, StandardCharsets.UTF_8);
      return text.lines()
          .filter(l -> !l.isBlank())
          .reduce((a, c) -> c)
          .orElse("the mount daemon exited; see " + log);
    }
  }
}
