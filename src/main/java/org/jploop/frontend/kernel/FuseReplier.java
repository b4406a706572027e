package org.jploop.frontend.kernel;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jploop.frontend.Errno;
import org.jploop.host.EventLog;

/**
 * One thread's way of answering: a native area holding the 16-byte reply header, a payload area for
 * the small reply structs and a two-entry iovec array, and {@link #send}, the one place that writes
 * to the channel. The header's {@code len} is always computed from the iovecs sent (the header and
 * at most one payload), so a reply whose length disagrees with its header cannot be made; an error
 * reply is the bare header. Each reply is one writev(2) whose result is checked: EINVAL (the kernel
 * refused the reply: the request would hang) is logged and the request answered again with EIO;
 * ENOENT (nobody waits: interrupted, aborted) is ignored; ENODEV means the connection is gone,
 * which the reading side notices.
 *
 * <p>Not thread-safe: one per worker (and one for the notifier). The native area is freed by {@link
 * #free}, after the owning thread has ended.
 */
final class FuseReplier {
  /** Bytes available for a reply struct ({@link #payload}). */
  static final int PAYLOAD_CAPACITY = 3968;

  private static final int HEADER_AT = 0;
  private static final int IOV_AT = 64;
  private static final int PAYLOAD_AT = 128;
  private static final int AREA = PAYLOAD_AT + PAYLOAD_CAPACITY;
  private static final long LOGGED = 100;

  private final FuseChannel channel;
  private final FuseMetrics metrics;
  private final EventLog log;
  private final long area;
  private final ByteBuffer header;
  private final ByteBuffer iov;
  private final ByteBuffer payload;

  FuseReplier(FuseChannel channel, FuseMetrics metrics, EventLog log) {
    this.channel = channel;
    this.metrics = metrics;
    this.log = log;
    MemoryIO io = MemoryIO.getInstance();
    this.area = io.allocateMemory(AREA, true);
    this.header =
        io.newDirectByteBuffer(area + HEADER_AT, FuseLayout.OUT_HEADER_SIZE)
            .order(ByteOrder.LITTLE_ENDIAN);
    this.iov = io.newDirectByteBuffer(area + IOV_AT, 32).order(ByteOrder.LITTLE_ENDIAN);
    this.payload =
        io.newDirectByteBuffer(area + PAYLOAD_AT, PAYLOAD_CAPACITY).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Returns the payload area, little-endian, its first {@code size} bytes zeroed, for a reply
   * struct that {@link #ok} then sends.
   */
  ByteBuffer payload(int size) {
    MemoryIO.getInstance().setMemory(area + PAYLOAD_AT, size, (byte) 0);
    return payload.clear();
  }

  /** Answers {@code unique} with the first {@code size} bytes of {@link #payload}. */
  void ok(long unique, int size) {
    send(unique, 0, area + PAYLOAD_AT, size);
  }

  /** Answers {@code unique} with {@code size} bytes at native {@code address} (READ data). */
  void data(long unique, long address, int size) {
    send(unique, 0, address, size);
  }

  /** Answers {@code unique} with success and no payload. */
  void ok(long unique) {
    send(unique, 0, 0, 0);
  }

  /** Answers {@code unique} with {@code -errno} (a bare header). */
  void error(long unique, int errno) {
    if (errno <= 0 || errno >= 512) {
      throw new IllegalArgumentException("errno out of the kernel's range: " + errno);
    }
    send(unique, -errno, 0, 0);
  }

  /**
   * Sends notification {@code code} with the first {@code size} bytes of {@link #payload}; returns
   * the kernel's answer: the bytes written, or {@code -errno}.
   */
  long notify(int code, int size) {
    return write(0, code, area + PAYLOAD_AT, size);
  }

  /** Writes one reply and handles the kernel's answer (class comment). */
  private void send(long unique, int error, long dataAddress, int dataLength) {
    long n = write(unique, error, dataAddress, error == 0 ? dataLength : 0);
    if (n >= 0) {
      return;
    }
    if (n == -Errno.ENOENT) {
      metrics.replyUnwanted();
    } else if (n == -Errno.EINVAL && error == 0) {
      long count = metrics.replyRejected();
      if (count <= LOGGED || count % 1000 == 0) {
        log.info(
            "error: the kernel refused the reply to request "
                + unique
                + " ("
                + dataLength
                + " bytes): EINVAL; answering it with EIO");
      }
      write(unique, -Errno.EIO, 0, 0);
    } else if (n != -Errno.ENODEV) {
      long count = metrics.replyRejected();
      if (count <= LOGGED || count % 1000 == 0) {
        log.info(
            "error: reply to request "
                + unique
                + " (error "
                + error
                + ", "
                + dataLength
                + " bytes) failed: "
                + Errno.name((int) -n));
      }
    }
  }

  /** Fills the header and iovecs, writes them; returns the bytes written or {@code -errno}. */
  private long write(long unique, int error, long dataAddress, int dataLength) {
    int len = FuseLayout.OUT_HEADER_SIZE + dataLength;
    header.putInt(FuseLayout.OUT_LEN, len);
    header.putInt(FuseLayout.OUT_ERROR, error);
    header.putLong(FuseLayout.OUT_UNIQUE, unique);
    iov.putLong(0, area + HEADER_AT);
    iov.putLong(8, FuseLayout.OUT_HEADER_SIZE);
    int count = 1;
    if (dataLength > 0) {
      iov.putLong(16, dataAddress);
      iov.putLong(24, dataLength);
      count = 2;
    }
    long n = channel.writev(area + IOV_AT, count);
    if (n >= 0 && n != len) {
      return -Errno.EIO; // /dev/fuse takes a message whole or not at all
    }
    return n;
  }

  /** Frees the native area; the replier must not be used afterwards. */
  void free() {
    MemoryIO.getInstance().freeMemory(area);
  }
}
