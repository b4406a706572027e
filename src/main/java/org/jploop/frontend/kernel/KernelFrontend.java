package org.jploop.frontend.kernel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.function.Consumer;
import org.jploop.engine.VirtualDisk;
import org.jploop.frontend.DiskImageFile;
import org.jploop.frontend.Errno;
import org.jploop.frontend.FileOwner;
import org.jploop.frontend.Frontend;
import org.jploop.frontend.FrontendOptions;
import org.jploop.frontend.FrontendStats;
import org.jploop.host.EventLog;
import org.jploop.host.IoFlusher;
import org.jploop.host.MountException;
import org.jploop.host.MountTable;

/**
 * The default front end, {@code kernel}: jploop's own server of the kernel's FUSE protocol on
 * {@code /dev/fuse}, no libfuse. {@link #mount} opens the device, mounts it with mount(2) ({@code
 * fd=N,rootmode=40000,user_id,group_id,default_permissions,max_read}), starts the {@link
 * FuseWorker} threads "fuse-worker-N" (each blocking in read(2) on the one descriptor, with its own
 * buffers), and returns once INIT was answered and {@code disk.img} stats. {@link #unmount} is
 * umount2 without MNT_DETACH, retried while busy; the workers then see ENODEV and end, and the
 * descriptor is closed. If they see ENODEV or ECONNABORTED without an unmount of ours, the last one
 * to end runs the session-ended callback on a thread of its own. Size changes are pushed with
 * NOTIFY_INVAL_INODE by the {@link FuseNotifier}.
 *
 * <p>Fields set by {@link #mount} are volatile (read by the daemon's threads); {@code unmounting}
 * and {@code live} (workers still running) are atomics.
 */
public final class KernelFrontend implements Frontend {
  private static final Path MAX_PAGES_LIMIT = Path.of("/proc/sys/fs/fuse/max_pages_limit");
  private static final List<Path> REQUEST_TIMEOUTS =
      List.of(
          Path.of("/proc/sys/fs/fuse/default_request_timeout"),
          Path.of("/proc/sys/fs/fuse/max_request_timeout"));
  private static final long START_TIMEOUT_MS = 30_000;
  private static final int UNMOUNT_TRIES = 100;

  private final int workers;
  private final EventLog log;
  private final FuseMetrics metrics = new FuseMetrics();
  private final AtomicBoolean unmounting = new AtomicBoolean();
  private final AtomicBoolean flusherLogged = new AtomicBoolean();
  private final AtomicInteger live = new AtomicInteger();
  private final List<Thread> threads = new ArrayList<>();
  private volatile Consumer<String> ended = reason -> {};
  private volatile Path dir;
  private volatile DiskImageFile file;
  private volatile FuseDevice device;
  private volatile FuseDispatcher dispatcher;
  private volatile FuseNotifier notifier;

  /** An unmounted front end with {@code workers} threads; failures are logged to {@code log}. */
  public KernelFrontend(int workers, EventLog log) {
    this.workers = workers;
    this.log = log;
  }

  @Override
  public String name() {
    return FrontendOptions.KERNEL;
  }

  @Override
  public void checkAvailable() throws IOException {
    FuseDevice.checkAvailable();
  }

  @Override
  public void onSessionEnded(Consumer<String> callback) {
    this.ended = callback;
  }

  /**
   * Returns {@code /proc/sys/fs/fuse/max_pages_limit}, or 256 where it does not exist (&lt;6.13).
   */
  static int maxPagesLimit() {
    try {
      return Integer.parseInt(readSysctl(MAX_PAGES_LIMIT));
    } catch (IOException | NumberFormatException e) {
      return FuseConnection.WANTED_MAX_PAGES;
    }
  }

  /**
   * Reads a sysctl file with one read(2): the kernel answers a read at a non-zero offset of an
   * integer sysctl with EOF, so Files.readString (which reads one byte first) sees "2" of "256".
   */
  static String readSysctl(Path p) throws IOException {
    try (FileChannel ch = FileChannel.open(p)) {
      ByteBuffer b = ByteBuffer.allocate(256);
      ch.read(b);
      return new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).strip();
    }
  }

  @Override
  public void mount(VirtualDisk disk, Lock admission, Path dir) throws IOException {
    this.dir = dir;
    FileOwner owner = FileOwner.ofThisProcess();
    file = new DiskImageFile(disk, admission, owner.uid(), owner.gid(), log);
    int limit = maxPagesLimit();
    int maxData = Math.min(FuseConnection.WANTED_MAX_PAGES, Math.max(1, limit)) * 4096;
    warnAboutRequestTimeouts();
    device = FuseDevice.open();
    String options =
        "fd="
            + device.fd()
            + ",rootmode=40000,user_id="
            + owner.uid()
            + ",group_id="
            + owner.gid()
            + ",default_permissions,max_read="
            + maxData;
    try {
      device.mount(dir, disk.readOnly(), options);
    } catch (IOException e) {
      device.close();
      throw e;
    }
    dispatcher = new FuseDispatcher(file, workers, limit, metrics, log);
    live.set(workers);
    for (int i = 0; i < workers; i++) {
      Thread t =
          new Thread(
              new FuseWorker(
                  device, dispatcher, metrics, log, maxData, this::threadSetup, this::workerEnded),
              "fuse-worker-" + i);
      threads.add(t);
      t.start();
    }
    notifier = new FuseNotifier(device, metrics, log, this::threadSetup);
    try {
      awaitReady();
    } catch (IOException | RuntimeException e) {
      try {
        unmount();
      } catch (IOException e2) {
        e.addSuppressed(e2);
      }
      throw e;
    }
    log.info(
        "FUSE session started (kernel front end, "
            + workers
            + " workers): disk "
            + file.size()
            + " bytes"
            + (file.readOnly() ? ", read-only" : ""));
  }

  /** Waits until INIT was answered and disk.img stats; throws MOUNT_FAILED otherwise. */
  private void awaitReady() throws IOException {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    Path img = diskImage();
    while (dispatcher.connection() == null || !Files.isRegularFile(img)) {
      String failure = dispatcher.initFailure();
      if (failure != null || live.get() == 0) {
        throw new MountException(
            MountException.Reason.MOUNT_FAILED,
            "FUSE mount at "
                + dir
                + " failed: "
                + (failure != null ? failure : "the workers ended before INIT"));
      }
      if (System.currentTimeMillis() > deadline) {
        throw new MountException(
            MountException.Reason.MOUNT_FAILED,
            "FUSE mount at "
                + dir
                + ": disk.img did not appear within "
                + START_TIMEOUT_MS
                + " ms");
      }
      sleep(10);
    }
  }

  /**
   * Run first on every worker and on the notifier: PR_SET_IO_FLUSHER (inherited anyway where the
   * daemon marked its main thread; FuseCeiling and tests mount without it), logged once.
   */
  private void threadSetup() {
    int e = IoFlusher.markCurrentThread();
    if (flusherLogged.compareAndSet(false, true)) {
      log.info(IoFlusher.describe(e, "the FUSE threads"));
    }
  }

  private void warnAboutRequestTimeouts() {
    for (Path p : REQUEST_TIMEOUTS) {
      try {
        String v = readSysctl(p);
        if (!v.equals("0")) {
          log.info(
              "warning: "
                  + p
                  + " is "
                  + v
                  + ": the kernel aborts the connection when a"
                  + " request takes longer (a long engine flush would abort it under a loop device)");
        }
      } catch (IOException e) {
        // older kernels have no request timeouts
      }
    }
  }

  private void workerEnded(String reason) {
    if (live.decrementAndGet() == 0 && !unmounting.get()) {
      log.info("FUSE session ended without an unmount of ours: " + reason);
      Thread t = new Thread(() -> ended.accept(reason), "fuse-session-end");
      t.start();
    }
  }

  @Override
  public Path diskImage() {
    return dir.resolve(DiskImageFile.NAME);
  }

  @Override
  public void sizeChanged() throws IOException {
    notifier.invalidateAttributes(FuseLayout.FILE_ID);
  }

  @Override
  public FrontendStats stats() {
    DiskImageFile f = file;
    long errors = metrics.repliesRejected() + (f == null ? 0 : f.errorCount());
    return new FrontendStats(
        name(),
        metrics.meter.requests(),
        errors,
        metrics.meter.inFlight(),
        metrics.meter.maxInFlight(),
        workers,
        f == null ? 0 : f.barriersSkipped());
  }

  /** Returns how many INTERRUPTs the kernel sent. */
  long interrupts() {
    return metrics.interrupts();
  }

  @Override
  public void unmount() throws IOException {
    unmounting.set(true);
    if (device == null) {
      return;
    }
    int errno = 0;
    for (int i = 0; i < UNMOUNT_TRIES && MountTable.at(dir).isPresent(); i++) {
      errno = FuseDevice.unmount(dir);
      if (errno == 0 || !FuseDevice.busy(errno)) {
        break;
      }
      sleep(100);
    }
    if (MountTable.at(dir).isPresent()) {
      throw new MountException(
          MountException.Reason.UMOUNT_FAILED,
          "Cannot unmount FUSE at " + dir + ": umount2: " + Errno.name(errno));
    }
    for (Thread t : threads) {
      try {
        t.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted waiting for the FUSE workers", e);
      }
      if (t.isAlive()) {
        throw new MountException(
            MountException.Reason.UMOUNT_FAILED,
            t.getName() + " did not end after the unmount of " + dir);
      }
    }
    notifier.close();
    device.close();
    device = null;
  }

  private static void sleep(long ms) throws IOException {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
