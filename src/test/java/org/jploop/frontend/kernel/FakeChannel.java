package org.jploop.frontend.kernel;

import com.kenai.jffi.MemoryIO;
import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.jploop.frontend.Errno;

/**
 * A {@link FuseChannel} without a kernel: read(2) hands out queued requests (or a queued -errno),
 * then ENODEV as an unmount would; writev(2) gathers the iovecs into one message, records it and
 * answers with the message length, or with a queued -errno. Synchronized: a test may feed it while
 * a worker thread reads.
 */
final class FakeChannel implements FuseChannel {
  private final Deque<Object> requests = new ArrayDeque<>();
  private final Deque<Long> writeResults = new ArrayDeque<>();
  final List<byte[]> replies = new ArrayList<>();
  int reads;

  synchronized FakeChannel request(byte[] r) {
    requests.add(r);
    return this;
  }

  /** The next read fails with {@code errno}. */
  synchronized FakeChannel readError(int errno) {
    requests.add(-errno);
    return this;
  }

  /** The next reply write is answered {@code -errno} (recorded all the same). */
  synchronized FakeChannel writeError(int errno) {
    writeResults.add((long) -errno);
    return this;
  }

  @Override
  public synchronized long read(long address, int capacity) {
    reads++;
    Object next = requests.poll();
    if (next == null) {
      return -Errno.ENODEV;
    }
    if (next instanceof Integer e) {
      return e;
    }
    byte[] b = (byte[]) next;
    if (b.length > capacity) {
      return -Errno.EINVAL;
    }
    MemoryIO.getInstance().putByteArray(address, b, 0, b.length);
    return b.length;
  }

  @Override
  public synchronized long writev(long iovecs, int count) {
    MemoryIO io = MemoryIO.getInstance();
    ByteArrayOutputStream msg = new ByteArrayOutputStream();
    for (int i = 0; i < count; i++) {
      long base = io.getLong(iovecs + 16L * i);
      int len = (int) io.getLong(iovecs + 16L * i + 8);
      byte[] b = new byte[len];
      io.getByteArray(base, b, 0, len);
      msg.write(b, 0, len);
    }
    replies.add(msg.toByteArray());
    Long r = writeResults.poll();
    return r != null ? r : msg.size();
  }
}
