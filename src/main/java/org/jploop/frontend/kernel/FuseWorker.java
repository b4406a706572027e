package org.jploop.frontend.kernel;

import java.util.function.Consumer;
import org.jploop.frontend.Errno;
import org.jploop.host.EventLog;

/**
 * One thread's loop: read a request from the channel into its own {@link FuseBuffers}, have the
 * {@link FuseDispatcher} answer it through its own {@link FuseReplier}, repeat, until the
 * connection is gone (ENODEV: unmounted; ECONNABORTED: aborted). EINTR, EAGAIN and ENOENT (a
 * request aborted while being read) are retried. Runs {@code threadSetup} first (PR_SET_IO_FLUSHER
 * in the product) and reports how it ended to {@code exited}.
 */
final class FuseWorker implements Runnable {
  private final FuseChannel channel;
  private final FuseDispatcher dispatcher;
  private final FuseMetrics metrics;
  private final EventLog log;
  private final int maxData;
  private final Runnable threadSetup;
  private final Consumer<String> exited;

  FuseWorker(
      FuseChannel channel,
      FuseDispatcher dispatcher,
      FuseMetrics metrics,
      EventLog log,
      int maxData,
      Runnable threadSetup,
      Consumer<String> exited) {
    this.channel = channel;
    this.dispatcher = dispatcher;
    this.metrics = metrics;
    this.log = log;
    this.maxData = maxData;
    this.threadSetup = threadSetup;
    this.exited = exited;
  }

  @Override
  public void run() {
    String reason = "ended";
    FuseBuffers buffers = null;
    FuseReplier replier = null;
    try {
      threadSetup.run();
      buffers = new FuseBuffers(maxData);
      replier = new FuseReplier(channel, metrics, log);
      while (true) {
        long n = channel.read(buffers.request, buffers.requestCapacity);
        if (n >= 0) {
          dispatcher.dispatch(buffers, (int) n, replier);
          continue;
        }
        int errno = (int) -n;
        if (errno == Errno.EINTR || errno == Errno.EAGAIN || errno == Errno.ENOENT) {
          continue;
        }
        reason =
            errno == Errno.ENODEV
                ? "unmounted (ENODEV)"
                : errno == Errno.ECONNABORTED
                    ? "connection aborted (ECONNABORTED)"
                    : "read from /dev/fuse failed: " + Errno.name(errno);
        if (errno != Errno.ENODEV && errno != Errno.ECONNABORTED) {
          log.info("error: " + Thread.currentThread().getName() + ": " + reason);
        }
        return;
      }
    } catch (Throwable t) {
      reason = "worker failed: " + t;
      log.error(Thread.currentThread().getName() + " failed", t);
    } finally {
      if (replier != null) {
        replier.free();
      }
      if (buffers != null) {
        buffers.free();
      }
      exited.accept(reason);
    }
  }
}
