package org.jploop.frontend.kernel;

/**
 * Where requests come from and replies go: the {@code /dev/fuse} descriptor of one connection
 * ({@link FuseDevice}), or in tests a fake that hands out prepared requests and records replies.
 * Both calls work on native memory given by address, as read(2) and writev(2) do, and may be made
 * from many threads at once.
 */
interface FuseChannel {
  /**
   * Reads one request into {@code capacity} bytes at {@code address}; returns its length, or {@code
   * -errno} (ENODEV once the connection is gone).
   */
  long read(long address, int capacity);

  /**
   * Sends one message gathered from {@code count} iovecs ({@code struct iovec {void *base; size_t
   * len;}}, 16 bytes each) at {@code iovecs}; returns the bytes written, or {@code -errno}.
   */
  long writev(long iovecs, int count);
}
