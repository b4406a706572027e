package org.jploop.daemon;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jploop.engine.DiskStats;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.frontend.Frontend;
import org.jploop.frontend.FrontendOptions;
import org.jploop.frontend.StaleMount;
import org.jploop.host.EventLog;
import org.jploop.host.IoFlusher;
import org.jploop.host.MountException;
import org.jploop.host.RunPaths;
import org.jploop.host.ServingProcess;
import org.jploop.io.DiskLock;

/**
 * One mounted disk, served for as long as it is mounted: inside the {@link HostDaemon} (one process
 * for all disks of the kernel front end, {@link #hostedBy}) or as a process of its own ({@code
 * ploop daemon}, for jnr-fuse and component mounts, with its own shutdown hook). It holds the
 * {@link DiskLock} for its whole life, serves {@code disk.img} through a {@link Frontend} (chosen
 * by name: {@code kernel} or {@code jnr-fuse}; the daemon knows nothing more of it), publishes
 * {@link MountStatus}, watches for ENOSPC events and answers the {@link ControlServer} verbs {@code
 * status}, {@code attach} and {@code stop}, and the online operations of {@link OnlineOperations}
 * ({@code snapshot}, {@code merge}, {@code resize}, {@code compact}), which swap the disk served
 * behind the {@link SwappableDisk}'s suspend gate.
 *
 * <p>Stopping, whether by {@code stop}, by SIGTERM (the daemon's shutdown hook "shutdown") or
 * because the kernel ended the FUSE session behind our back (an unmount by someone else, or an
 * abort through fusectl: the front end's session-ended callback), is one safe sequence: unmount any
 * filesystem mounted from a loop device over our {@code disk.img}, detach those loop devices,
 * unmount FUSE (never lazily), close the disk (flush, truncate the preallocated tail, clear the
 * in-use flag), release the lock. Every thread it starts is PR_SET_IO_FLUSHER ({@link IoFlusher}).
 * {@link #teardown} is synchronized on this daemon and runs once; {@code status} is written under
 * the same monitor.
 *
 * <p>A component daemon ({@code ploop mount -c NAME}, {@code ploop tsnapshot}) serves the disk
 * read-only beside the plain one, in its own run directory ({@link RunPaths#of(Path, String)}); it
 * does not take the disk's {@code DiskLock} (the plain daemon or an offline operation may hold it)
 * but {@code component.lck} in its run directory, so one component is mounted once. Whoever would
 * rewrite a delta it serves checks {@link MountStatus#components} and refuses.
 */
public final class MountDaemon {
  private static final long ENOSPC_POLL_MS = 500;
  private static final long STATUS_REFRESH_MS = 5_000;

  private final Path xml;
  private final RunPaths paths;
  private final boolean readOnly;

  /** The snapshot served ({@code ploop mount -u}), or null for the top. */
  private final String snapshotGuid;

  private final Path fuseDir;
  private final FrontendOptions frontendOptions;

  /** The component name of a component mount, or null for the plain one. */
  private final String component;

  private final EventLog log;
  private final CountDownLatch finished = new CountDownLatch(1);
  private final AtomicBoolean stopped = new AtomicBoolean();
  private DiskLock lock;

  /** The served disk, swappable by the online operations. */
  private SwappableDisk disk;

  /** The front end serving disk.img; set once start() has mounted it. */
  private volatile Frontend frontend;

  private ControlServer control;

  /** Guarded by this. */
  @GuardedBy("this")
  private MountStatus status;

  /** Guarded by this. */
  @GuardedBy("this")
  private boolean tornDown;

  /** Whether a {@link HostDaemon} serves this disk among others; set before start. */
  private boolean hosted;

  /** Run by {@link #finish} in a host; set before start. */
  private Runnable onStopped;

  private volatile long enospcEvents;
  private volatile String lastEnospcAt;

  /** Prepares a daemon for {@code xml}; {@code fuseDir} null means the run directory's default. */
  public MountDaemon(Path xml, Path fuseDir, boolean readOnly, EventLog log) throws IOException {
    this(xml, fuseDir, readOnly, null, FrontendOptions.DEFAULT, log);
  }

  /**
   * Like {@link #MountDaemon(Path, Path, boolean, EventLog)}, serving snapshot {@code guid} through
   * the front end {@code frontend} says.
   */
  public MountDaemon(
      Path xml, Path fuseDir, boolean readOnly, String guid, FrontendOptions frontend, EventLog log)
      throws IOException {
    this(xml, fuseDir, readOnly, guid, frontend, null, log);
  }

  /**
   * Like {@link #MountDaemon(Path, Path, boolean, String, FrontendOptions, EventLog)} as component
   * {@code component} (null: the plain mount); a component mount is always read-only.
   */
  public MountDaemon(
      Path xml,
      Path fuseDir,
      boolean readOnly,
      String guid,
      FrontendOptions frontend,
      String component,
      EventLog log)
      throws IOException {
    this.xml = xml.toRealPath();
    this.component = component;
    this.paths = RunPaths.of(this.xml, component);
    this.readOnly = readOnly || component != null;
    this.snapshotGuid = guid;
    this.frontendOptions = frontend;
    this.fuseDir = fuseDir == null ? paths.defaultFuseDir() : fuseDir.toAbsolutePath().normalize();
    this.log = log;
  }

  /**
   * Mounts and serves until stopped. Returns normally after a clean stop; throws {@link
   * MountException} (or another IOException) if the disk could not be mounted, having undone
   * whatever it had done.
   */
  public void run() throws IOException {
    start();
    awaitStopped();
  }

  /**
   * Serves this disk in a host daemon ({@link HostDaemon}): no shutdown hook of its own (the host
   * has one for all its disks) and {@code onStopped} runs once the disk is stopped, on the thread
   * that stopped it. Call before {@link #start}.
   */
  void hostedBy(Runnable onStopped) {
    this.hosted = true;
    this.onStopped = onStopped;
  }

  /** Returns the run directory of this mount: the key of the disk in its host. */
  Path runDir() {
    return paths.runDir();
  }

  /**
   * Mounts: takes the lock, opens the disk, mounts {@code disk.img}, publishes the ready status and
   * returns; throws {@link MountException} (or another IOException) if the disk could not be
   * mounted, having undone whatever it had done.
   */
  public void start() throws IOException {
    // first: every thread started from here on (engine writeback and preallocation, control,
    // front end) inherits it; none may wait in reclaim or dirty throttling for the loop device's
    // pages, which only this process can clean
    log.info(IoFlusher.describe(IoFlusher.markCurrentThread(), "the daemon's threads"));
    paths.createDirs();
    Optional<DiskLock> l =
        component == null
            ? DiskLock.tryAcquire(xml, "mount")
            : DiskLock.tryAcquire(componentLockBase(), "mount -c " + component);
    if (l.isEmpty() && component != null) {
      throw new MountException(
          MountException.Reason.ALREADY_MOUNTED,
          "Image "
              + xml
              + " already used by device "
              + paths.defaultFuseDir().resolve("disk.img")
              + " (component "
              + component
              + ")");
    }
    if (l.isEmpty()) {
      throw new MountException(
          MountException.Reason.ALREADY_MOUNTED,
          "Image "
              + xml
              + " is already mounted or in use ("
              + describeHolder(DiskLock.holder(xml))
              + ")");
    }
    lock = l.get();
    try {
      serve();
    } catch (IOException | RuntimeException | Error e) {
      log.error("mount failed", e);
      abortStart();
      throw e;
    }
  }

  /** Waits until this disk is stopped (an unmount, a signal, the session ending). */
  public void awaitStopped() {
    try {
      finished.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Marks the disk stopped: wakes {@link #awaitStopped} and tells the host, once. */
  private void finish() {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    finished.countDown();
    Runnable r = onStopped;
    if (r != null) {
      r.run();
    }
  }

  /** What {@link DiskLock} makes {@code component.lck} of, in the component's run directory. */
  private Path componentLockBase() {
    return paths.runDir().resolve("component");
  }

  private static String describeHolder(String holder) {
    String[] w = holder.split(" ", 2);
    return w.length == 2 ? "pid " + w[0] + ", " + w[1] : holder.isEmpty() ? "unknown" : holder;
  }

  private void serve() throws IOException {
    ServingProcess.mark();
    log.info(
        "mounting "
            + xml
            + (component == null ? "" : " as component " + component)
            + (snapshotGuid == null ? "" : " as of snapshot " + snapshotGuid)
            + (readOnly ? " read-only" : "")
            + " at "
            + fuseDir
            + " (front end "
            + frontendOptions.name()
            + ")");
    Frontend f = frontendOptions.create(log);
    f.checkAvailable();
    StaleMount.clear(fuseDir, log);
    RunPaths.createPrivateDir(fuseDir);
    DiskDescriptor d = DiskDescriptor.read(xml);
    disk = new SwappableDisk(DiskOpener.open(xml, d, readOnly, snapshotGuid));
    f.onSessionEnded(this::sessionEnded);
    f.mount(disk, disk.admission(), fuseDir);
    frontend = f;
    if (!hosted) {
      Runtime.getRuntime().addShutdownHook(new Thread(this::stopOnSignal, "shutdown"));
    }
    control = ControlServer.bind(paths.controlSocket(), log);
    control
        .on("status", a -> currentStatus().toJson().replace('\n', ' '))
        .on("attach", this::attach)
        .on(
            "stop",
            a -> {
              teardown();
              control.afterReply(this::finish);
              return "stopped";
            });
    new OnlineOperations(xml, disk, readOnly, log, f).register(control);
    new CopyTracking(disk).register(control);
    new OnlineCbt(disk).register(control);
    String now = now();
    synchronized (this) {
      status =
          new MountStatus(
              xml.toString(),
              ProcessHandle.current().pid(),
              MountStatus.READY,
              readOnly,
              fuseDir.toString(),
              f.diskImage().toString(),
              null,
              null,
              paths.logFile().toString(),
              now,
              0,
              null,
              0,
              disk.stats(),
              now,
              f.stats(),
              component,
              snapshotGuid);
    }
    control.start();
    Thread watch = new Thread(this::watch, "enospc-watch-" + paths.runDir().getFileName());
    watch.setDaemon(true);
    watch.start();
    publish();
    log.info("ready: " + f.diskImage() + " (" + disk.size() + " bytes)");
  }

  /**
   * Undoes a half-done start: unmount FUSE, close the disk, remove the run directory if empty,
   * release the lock (held, so no other daemon of this disk is starting in that directory).
   */
  private void abortStart() {
    try {
      if (control != null) {
        control.close();
      }
      if (frontend != null) {
        frontend.unmount();
      }
    } catch (IOException e) {
      log.error("cleanup after failed mount", e);
    }
    try {
      if (disk != null) {
        disk.close();
      }
    } catch (IOException e) {
      log.error("closing the disk after failed mount", e);
    }
    try {
      Files.deleteIfExists(paths.statusFile());
      removeRunDir();
      lock.close();
    } catch (IOException e) {
      log.error("releasing the lock", e);
    }
  }

  private String attach(java.util.Map<String, String> args) throws IOException {
    String loop = args.get("loop");
    String mnt = args.get("mnt");
    synchronized (this) {
      status = status.withAttachment(loop, mnt);
    }
    publish();
    log.info("attached: loop=" + loop + " mountpoint=" + mnt);
    return "";
  }

  /** Polls ENOSPC events and refreshes the status file; thread "enospc-watch". */
  private void watch() {
    long lastPublish = System.currentTimeMillis();
    while (finished.getCount() > 0) {
      try {
        Thread.sleep(ENOSPC_POLL_MS);
        boolean event = false;
        synchronized (this) {
          if (tornDown) {
            return;
          }
          if (disk.takeEnospcEvent()) {
            enospcEvents++;
            lastEnospcAt = now();
            event = true;
          }
        }
        if (event) {
          log.info(
              "ENOSPC: the host filesystem of "
                  + xml.getParent()
                  + " is full; writes are parked (event "
                  + enospcEvents
                  + ")");
        }
        if (event || System.currentTimeMillis() - lastPublish >= STATUS_REFRESH_MS) {
          publish();
          lastPublish = System.currentTimeMillis();
        }
      } catch (InterruptedException e) {
        return;
      } catch (Throwable t) {
        log.error("status refresh failed", t);
      }
    }
  }

  private synchronized MountStatus currentStatus() {
    if (tornDown) {
      return status;
    }
    DiskStats s = disk.stats();
    status =
        new MountStatus(
            status.descriptor(),
            status.pid(),
            status.state(),
            readOnly,
            status.fuseDir(),
            status.diskImage(),
            status.loopDevice(),
            status.mountPoint(),
            status.logFile(),
            status.startedAt(),
            enospcEvents,
            lastEnospcAt,
            frontend.stats().errors(),
            s,
            now(),
            frontend.stats(),
            component,
            snapshotGuid);
    return status;
  }

  private synchronized void publish() throws IOException {
    if (!tornDown) {
      currentStatus().write(paths.statusFile());
    }
  }

  private static String now() {
    return OffsetDateTime.now(ZoneOffset.UTC).toString();
  }

  /**
   * The shutdown-hook path (SIGTERM; the host's hook calls it for each of its disks): tears down,
   * retrying while the filesystem is busy.
   */
  void stopOnSignal() {
    synchronized (this) {
      if (tornDown || frontend == null) {
        return;
      }
    }
    IoFlusher.markCurrentThread(); // the JVM started this thread from one of its own
    log.info("signal: stopping");
    while (true) {
      try {
        teardown();
        finish();
        return;
      } catch (MountException e) {
        if (e.reason() != MountException.Reason.BUSY) {
          log.error("teardown failed; leaving the disk as it is", e);
          return;
        }
        log.info("waiting for a busy filesystem before stopping: " + e.getMessage());
        try {
          Thread.sleep(2_000);
        } catch (InterruptedException ie) {
          return;
        }
      } catch (IOException | RuntimeException e) {
        log.error("teardown failed", e);
        return;
      }
    }
  }

  /**
   * The safe stop sequence (see the class comment). Throws {@link MountException.Reason#BUSY}
   * without changing anything else if the inner filesystem cannot be unmounted.
   */
  public synchronized void teardown() throws IOException {
    if (tornDown) {
      return;
    }
    if (frontend == null) {
      return;
    }
    LoopAttachments.release(frontend.diskImage(), log);
    status =
        new MountStatus(
            status.descriptor(),
            status.pid(),
            MountStatus.STOPPING,
            readOnly,
            status.fuseDir(),
            status.diskImage(),
            null,
            null,
            status.logFile(),
            status.startedAt(),
            enospcEvents,
            lastEnospcAt,
            frontend.stats().errors(),
            disk.stats(),
            now(),
            frontend.stats(),
            component,
            snapshotGuid);
    status.write(paths.statusFile());
    log.info("unmounting FUSE at " + fuseDir);
    frontend.unmount();
    tornDown = true;
    DiskStats last = disk.stats();
    disk.close();
    log.info("disk closed: " + last);
    control.close();
    Files.deleteIfExists(paths.statusFile());
    removeRunDir();
    lock.close();
    log.info("stopped cleanly");
  }

  /**
   * The front end's session-ended callback (its own thread): the kernel ended the FUSE session
   * without an unmount of ours (an abort through fusectl, or someone unmounted the directory). No
   * request can reach the disk any more, so the same stop sequence runs; if part of it fails (the
   * inner filesystem is busy), the disk is still closed cleanly and the status file left for {@code
   * ploop umount}, which then cleans up the rest as after a kill -9.
   */
  private void sessionEnded(String reason) {
    log.info("the FUSE session ended behind our back (" + reason + "): stopping");
    try {
      teardown();
    } catch (IOException | RuntimeException e) {
      log.error("stopping after the session ended", e);
      closeAfterLostSession();
    }
    finish();
  }

  /** After a failed teardown of a session the kernel ended: close the disk, release the lock. */
  private synchronized void closeAfterLostSession() {
    if (tornDown) {
      return;
    }
    tornDown = true;
    try {
      DiskStats last = disk.stats();
      disk.close();
      log.info("disk closed: " + last);
    } catch (IOException e) {
      log.error("closing the disk", e);
    }
    try {
      control.close();
      lock.close();
    } catch (IOException e) {
      log.error("releasing the lock", e);
    }
    log.info("left for ploop umount: the loop device or filesystem over " + fuseDir + "/disk.img");
  }

  /** Removes the default FUSE directory and the run directory once they are empty. */
  private void removeRunDir() {
    try {
      if (component != null) {
        // still locked by us until lock.close(); a new mount of this component recreates it
        Files.deleteIfExists(DiskLock.lockFileFor(componentLockBase()));
      }
      paths.removeEmptyDirs(fuseDir);
    } catch (IOException e) {
      log.info("run directory " + paths.runDir() + " left in place: " + e.getMessage());
    }
  }
}
