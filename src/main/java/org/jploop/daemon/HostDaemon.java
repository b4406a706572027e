package org.jploop.daemon;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jploop.frontend.FrontendOptions;
import org.jploop.host.EventLog;
import org.jploop.host.IoFlusher;
import org.jploop.host.MountException;
import org.jploop.host.RunPaths;
import org.jploop.host.ServingProcess;
import org.jploop.io.DiskLock;

/**
 * The one process that serves every disk of the host mounted with the kernel front end ({@code
 * ploop hostd}, started detached by the first {@code ploop mount} or by the systemd unit with
 * {@code --keep}). Each disk is a {@link MountDaemon} of its own: its engine, FUSE session and
 * worker threads, {@link DiskLock}, status file, control socket, log and safe teardown; they share
 * no lock on the I/O path, so one disk's failure (at start, ENOSPC, a corrupt image, a stuck
 * backing file) leaves the others serving. {@code ploop mount} hands a disk over through {@link
 * HostServer} ({@code mount xml=... [fuse=...] [ro=1] [guid=...] [threads=N]}, answered once the
 * disk is ready or has failed: {@code ok} or {@code error exit=CODE MESSAGE}; {@code status}
 * answers {@code ok pid=P disks=N keep=B}); everything after that (umount, list, info, online
 * operations) goes to the disk's own control socket as with a per-disk daemon.
 *
 * <p>Process-wide: the main thread is marked PR_SET_IO_FLUSHER before any other thread starts, so
 * every thread inherits it; the process is marked {@link ServingProcess} (no I/O through any disk
 * it serves); one shutdown hook stops every disk with its safe sequence, in parallel; the lock
 * {@code host.lck} in the run root keeps a second host daemon out and names this one's pid. At
 * start, what dead daemons left behind (status files whose process is gone) is cleaned up ({@link
 * DeadMount}). Without {@code --keep} the daemon exits once no disk is served and no hand-over is
 * in progress; a hand-over arriving after that decision is refused with {@code error closing},
 * which makes {@code ploop mount} start a new daemon.
 *
 * <p>A descriptor is handed over at most once at a time: {@code disks} (guarded by this) holds a
 * disk from the moment its hand-over starts. Besides refusing a second mount, this keeps the JVM
 * from opening the disk's lock file twice: closing any descriptor of a file drops every POSIX lock
 * this process holds on it. {@code pending} and {@code closing} are guarded by this too.
 */
public final class HostDaemon {
  /** How long a daemon with no disk waits for its first hand-over before it exits. */
  private static final long FIRST_REQUEST_MS = 30_000;

  /** How the command line reports a failure: ploop's exit code and its one-line message. */
  public interface Failures {
    /** ploop's exit code for {@code t}. */
    int exitCode(Throwable t);

    /** The line ploop prints for {@code t}. */
    String message(Throwable t);
  }

  private final boolean keep;
  private final EventLog log;
  private final Failures failures;
  private final CountDownLatch done = new CountDownLatch(1);
  private final Map<Path, MountDaemon> disks = new HashMap<>();
  private int pending;
  private boolean closing;
  private long handedOver;

  /** A host daemon logging to {@code log}; {@code keep}: stay when the last disk is unmounted. */
  public HostDaemon(boolean keep, EventLog log, Failures failures) {
    this.keep = keep;
    this.log = log;
    this.failures = failures;
  }

  /** Returns the host daemon's control socket, {@code host.sock} in the run root. */
  public static Path socket() {
    return RunPaths.runRoot().resolve("host.sock");
  }

  /** Returns the host daemon's log. */
  public static Path logFile() {
    return RunPaths.hostLogFile();
  }

  /** What {@link DiskLock} makes {@code host.lck} of. */
  private static Path lockBase() {
    return RunPaths.runRoot().resolve("host");
  }

  /**
   * Returns the pid of the running host daemon, or -1 if none: the pid {@code host.lck} names, if
   * that process runs and is {@code ploop hostd} (not another that got the pid of a killed one).
   * For the command side only: reading the lock file in the daemon itself would drop its lock (see
   * the class comment).
   */
  public static long runningPid() {
    String h = DiskLock.holder(lockBase());
    try {
      long pid = Long.parseLong(h.split(" ", 2)[0]);
      if (!MountStatus.running(pid)) {
        return -1;
      }
      String cmd = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"));
      return cmd.contains("\0hostd") ? pid : -1;
    } catch (NumberFormatException | IOException e) {
      return -1;
    }
  }

  /** Serves until stopped (no disk left without --keep, or a signal). */
  public void run() throws IOException, InterruptedException {
    log.info(IoFlusher.describe(IoFlusher.markCurrentThread(), "the host daemon's threads"));
    ServingProcess.mark();
    Files.createDirectories(RunPaths.runRoot());
    Optional<DiskLock> l = DiskLock.tryAcquire(lockBase(), "hostd");
    if (l.isEmpty()) {
      throw new MountException(
          MountException.Reason.ALREADY_MOUNTED,
          "A host daemon is running already (" + DiskLock.holder(lockBase()) + ")");
    }
    try (DiskLock lock = l.get()) {
      cleanDeadMounts();
      HostServer server = HostServer.bind(socket(), this::handle, log);
      Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "shutdown"));
      server.start();
      log.info(
          "host daemon ready (pid "
              + ProcessHandle.current().pid()
              + ", "
              + (keep ? "--keep: stays when no disk is mounted" : "exits with its last disk")
              + "), socket "
              + socket());
      if (!keep && !done.await(FIRST_REQUEST_MS, TimeUnit.MILLISECONDS)) {
        synchronized (this) {
          if (handedOver == 0 && pending == 0) {
            closing = true;
            done.countDown();
            log.info("no disk handed over within " + FIRST_REQUEST_MS / 1000 + " s: exiting");
          }
        }
      }
      done.await();
      server.close();
    }
    log.info("host daemon stopped");
  }

  /** Removes what dead daemons left behind: every status file whose process is gone. */
  private void cleanDeadMounts() {
    try {
      for (MountStatus st : MountStatus.all()) {
        if (!MountStatus.running(st.pid())) {
          try {
            DeadMount.clean(st, log, true);
          } catch (IOException | RuntimeException e) {
            log.info("not cleaning up after " + st.descriptor() + ": " + e.getMessage());
          }
        }
      }
    } catch (IOException e) {
      log.error("listing the run directory", e);
    }
  }

  /** Answers one request line (on its own thread). */
  private String handle(Map<String, String> req) {
    String verb = req.get("");
    if (verb.equals("mount")) {
      return mount(req);
    }
    if (verb.equals("status")) {
      synchronized (this) {
        return "ok pid="
            + ProcessHandle.current().pid()
            + " disks="
            + disks.size()
            + " keep="
            + keep;
      }
    }
    return "error unknown host verb '" + verb + "'";
  }

  private String mount(Map<String, String> req) {
    Path xml = Path.of(req.get("xml"));
    RunPaths paths;
    MountDaemon md;
    PrintStream out = null;
    try {
      paths = RunPaths.of(xml);
      synchronized (this) {
        if (closing) {
          return "error closing";
        }
        if (disks.containsKey(paths.runDir())) {
          throw new MountException(
              MountException.Reason.ALREADY_MOUNTED,
              "Image "
                  + paths.descriptor()
                  + " is already mounted (pid "
                  + ProcessHandle.current().pid()
                  + ")");
        }
        disks.put(paths.runDir(), null);
        pending++;
      }
    } catch (IOException | RuntimeException e) {
      return "error exit=" + failures.exitCode(e) + " " + failures.message(e);
    }
    Thread.currentThread().setName("host-mount-" + paths.runDir().getFileName());
    try {
      paths.createDirs();
      // the disk's log keeps the platform charset, as the per-disk daemon's stdout log did
      out =
          new PrintStream(
              new FileOutputStream(paths.logFile().toFile(), true), true, Charset.defaultCharset());
      PrintStream diskOut = out;
      EventLog diskLog = new EventLog(diskOut);
      FrontendOptions front =
          FrontendOptions.of(
              FrontendOptions.KERNEL,
              req.containsKey("threads") ? Integer.valueOf(req.get("threads")) : null);
      md =
          new MountDaemon(
              xml,
              req.containsKey("fuse") ? Path.of(req.get("fuse")) : null,
              "1".equals(req.get("ro")),
              req.get("guid"),
              front,
              null,
              diskLog);
      Path key = paths.runDir();
      md.hostedBy(
          () -> {
            diskLog.info("served by the host daemon until now");
            diskOut.close();
            stopped(key);
          });
      synchronized (this) {
        disks.put(key, md);
      }
      md.start();
      synchronized (this) {
        pending--;
        handedOver++;
      }
      log.info("serving " + paths.descriptor() + " (log " + paths.logFile() + ")");
      return "ok";
    } catch (IOException | RuntimeException | Error e) {
      if (out != null) {
        out.println(failures.message(e));
        out.close();
      }
      log.error("mount of " + xml + " failed", e);
      synchronized (this) {
        disks.remove(paths.runDir());
        pending--;
        exitIfIdle();
      }
      return "error exit=" + failures.exitCode(e) + " " + failures.message(e);
    }
  }

  /** A disk has stopped: forget it, and exit if it was the last one. */
  private synchronized void stopped(Path key) {
    disks.remove(key);
    log.info("stopped serving " + key.getFileName() + "; " + disks.size() + " disk(s) left");
    exitIfIdle();
  }

  /** Guarded by this. */
  private void exitIfIdle() {
    if (!keep && disks.isEmpty() && pending == 0 && !closing) {
      closing = true;
      log.info("no disk left: exiting");
      done.countDown();
    }
  }

  /** The shutdown hook: stops every disk with its safe sequence, each on its own thread. */
  private void stopAll() {
    List<MountDaemon> all;
    synchronized (this) {
      closing = true;
      all = new ArrayList<>();
      for (MountDaemon md : disks.values()) {
        if (md != null) {
          all.add(md);
        }
      }
    }
    if (!all.isEmpty()) {
      log.info("signal: stopping " + all.size() + " disk(s)");
    }
    List<Thread> threads = new ArrayList<>();
    for (MountDaemon md : all) {
      Thread t = new Thread(md::stopOnSignal, "shutdown-" + md.runDir().getFileName());
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    done.countDown();
  }
}
