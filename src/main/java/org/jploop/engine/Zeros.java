package org.jploop.engine;

import java.nio.ByteBuffer;

/** Zero-filling and zero-testing of buffers in 64 KiB steps against one shared read-only block. */
final class Zeros {
  /** Bytes compared or copied per step. */
  static final int CHUNK = 64 * 1024;

  /** A read-only block of {@link #CHUNK} zeros; slice or duplicate it, never move its position. */
  static final ByteBuffer BLOCK = ByteBuffer.wrap(new byte[CHUNK]).asReadOnlyBuffer();

  private Zeros() {}

  /** Fills the remaining bytes of {@code b} with zeros (position moves to the limit). */
  static void fill(ByteBuffer b) {
    while (b.hasRemaining()) {
      int n = Math.min(CHUNK, b.remaining());
      b.put(BLOCK.slice(0, n));
    }
  }

  /** Zeroes {@code len} bytes of {@code b} at absolute index {@code at} (position unchanged). */
  static void fill(ByteBuffer b, int at, int len) {
    for (int i = 0; i < len; i += CHUNK) {
      int n = Math.min(CHUNK, len - i);
      b.put(at + i, BLOCK, 0, n);
    }
  }

  /** Returns whether every remaining byte of {@code b} is zero (position unchanged). */
  static boolean isAllZero(ByteBuffer b) {
    int pos = b.position();
    int end = b.limit();
    while (pos < end) {
      int n = Math.min(CHUNK, end - pos);
      if (b.slice(pos, n).mismatch(BLOCK.slice(0, n)) != -1) {
        return false;
      }
      pos += n;
    }
    return true;
  }
}
