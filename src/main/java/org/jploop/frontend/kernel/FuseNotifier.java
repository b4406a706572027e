package org.jploop.frontend.kernel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jploop.frontend.Errno;
import org.jploop.host.EventLog;

/**
 * Sends notifications to the kernel from a thread of its own ("fuse-notify"), never from a worker:
 * a notification that waits for page locks while a worker is needed to release them deadlocks
 * (fuse-protocol.md §4). Only NOTIFY_INVAL_INODE with {@code off = -1} (attributes only, no page
 * cache) is used: after an online grow, so that the next GETATTR fetches the new size. The kernel
 * answering ENOENT (the inode is not cached) is success. One notification at a time; thread-safe.
 */
final class FuseNotifier implements AutoCloseable {
  private static final long TIMEOUT_S = 30;
  private final FuseReplier replier;
  private final ExecutorService thread =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "fuse-notify");
            t.setDaemon(true);
            return t;
          });

  FuseNotifier(FuseChannel channel, FuseMetrics metrics, EventLog log, Runnable threadSetup) {
    this.replier = new FuseReplier(channel, metrics, log);
    // threadSetup reports its own outcome in the log; nothing waits for it
    Future<?> unused = thread.submit(threadSetup);
  }

  /** Makes the kernel drop its cached attributes of {@code node}; waits until it has. */
  void invalidateAttributes(long node) throws IOException {
    Future<Long> f =
        thread.submit(
            () -> {
              ByteBuffer p = replier.payload(FuseLayout.INVAL_INODE_SIZE);
              p.putLong(FuseLayout.INVAL_INODE_INO, node);
              p.putLong(FuseLayout.INVAL_INODE_OFF, -1);
              p.putLong(FuseLayout.INVAL_INODE_LEN, 0);
              return replier.notify(FuseLayout.NOTIFY_INVAL_INODE, FuseLayout.INVAL_INODE_SIZE);
            });
    long n;
    try {
      n = f.get(TIMEOUT_S, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while notifying the kernel", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IOException("NOTIFY_INVAL_INODE failed: " + e, e);
    }
    if (n < 0 && n != -Errno.ENOENT) {
      throw new IOException(
          "NOTIFY_INVAL_INODE for node " + node + " failed: " + Errno.name((int) -n));
    }
  }

  /** Stops the thread and frees its memory. */
  @Override
  public void close() {
    thread.shutdown();
    try {
      if (thread.awaitTermination(TIMEOUT_S, TimeUnit.SECONDS)) {
        replier.free();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
