package org.jploop.frontend.jnrfuse;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.locks.Lock;
import java.util.function.Consumer;
import org.jploop.engine.VirtualDisk;
import org.jploop.frontend.DiskImageFile;
import org.jploop.frontend.FileOwner;
import org.jploop.frontend.Frontend;
import org.jploop.frontend.FrontendOptions;
import org.jploop.frontend.FrontendStats;
import org.jploop.host.EventLog;

/**
 * The original front end, {@code jnr-fuse}: libfuse 2.9 through jnr-fuse, single-threaded ({@link
 * FuseSession}'s options), a {@link DiskFilesystem} answering the callbacks. One request at a time,
 * at most 128 KiB each. The kernel caches attributes for libfuse's default 1 s, so {@link
 * #sizeChanged} has nothing to send: the next stat after that second sees the new size.
 *
 * <p>{@code session} and {@code fs} are set once by {@link #mount} (volatile, read by other
 * threads); {@code unmounting} tells an unmount of ours from one behind our back.
 */
public final class JnrFuseFrontend implements Frontend {
  private final EventLog log;
  private volatile Consumer<String> ended = reason -> {};
  private volatile DiskFilesystem fs;
  private volatile DiskImageFile file;
  private volatile FuseSession session;
  private volatile boolean unmounting;

  /** An unmounted front end; failures are logged to {@code log}. */
  public JnrFuseFrontend(EventLog log) {
    this.log = log;
  }

  @Override
  public String name() {
    return FrontendOptions.JNR_FUSE;
  }

  @Override
  public void checkAvailable() throws IOException {
    FuseSession.checkAvailable();
  }

  @Override
  public void onSessionEnded(Consumer<String> callback) {
    this.ended = callback;
  }

  @Override
  public void mount(VirtualDisk disk, Lock admission, Path dir) throws IOException {
    FileOwner owner = FileOwner.ofThisProcess();
    file = new DiskImageFile(disk, admission, owner.uid(), owner.gid(), log);
    fs = new DiskFilesystem(file, log);
    session = FuseSession.start(fs, dir, this::sessionThreadEnded);
  }

  private void sessionThreadEnded() {
    if (unmounting || session == null) {
      return;
    }
    Thread t =
        new Thread(
            () ->
                ended.accept(
                    "libfuse's session ended (the FUSE directory was"
                        + " unmounted or the connection aborted)"),
            "fuse-session-end");
    t.start();
  }

  @Override
  public Path diskImage() {
    return session.diskImage();
  }

  @Override
  public void sizeChanged() {
    // libfuse's attribute timeout (1 s) lets the next stat see the new size
  }

  @Override
  public FrontendStats stats() {
    DiskFilesystem f = fs;
    DiskImageFile d = file;
    if (f == null || d == null) {
      return new FrontendStats(name(), 0, 0, 0, 0, 1, 0);
    }
    return new FrontendStats(
        name(),
        f.meter().requests(),
        d.errorCount(),
        f.meter().inFlight(),
        f.meter().maxInFlight(),
        1,
        d.barriersSkipped());
  }

  @Override
  public void unmount() throws IOException {
    unmounting = true;
    if (session != null) {
      session.unmount();
    }
  }
}
