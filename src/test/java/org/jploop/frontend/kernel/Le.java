package org.jploop.frontend.kernel;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Builds little-endian byte strings field by field, as a C struct of the kernel header lays them
 * out, so that the tests state the expected bytes without using {@link FuseLayout}'s offsets. Not
 * thread-safe.
 */
final class Le {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  static Le bytes() {
    return new Le();
  }

  Le u8(int v) {
    out.write(v);
    return this;
  }

  Le u16(int v) {
    return u8(v & 0xff).u8((v >>> 8) & 0xff);
  }

  Le u32(long v) {
    return u16((int) (v & 0xffff)).u16((int) ((v >>> 16) & 0xffff));
  }

  Le u64(long v) {
    return u32(v & 0xffffffffL).u32(v >>> 32);
  }

  /** {@code n} zero bytes (padding, unused fields). */
  Le zeros(int n) {
    for (int i = 0; i < n; i++) {
      out.write(0);
    }
    return this;
  }

  /** The name's bytes and a NUL. */
  Le cstring(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.write(b, 0, b.length);
    return u8(0);
  }

  Le raw(byte[] b) {
    out.write(b, 0, b.length);
    return this;
  }

  int size() {
    return out.size();
  }

  byte[] get() {
    return out.toByteArray();
  }

  /**
   * A request: fuse_in_header {len, opcode, unique, nodeid, uid, gid, pid, total_extlen, padding}
   * followed by {@code body}.
   */
  static byte[] request(int opcode, long unique, long nodeid, byte[] body) {
    return bytes()
        .u32(40 + body.length)
        .u32(opcode)
        .u64(unique)
        .u64(nodeid)
        .u32(0)
        .u32(0)
        .u32(1234)
        .u16(0)
        .u16(0)
        .raw(body)
        .get();
  }

  /** A reply header fuse_out_header {len, error, unique} followed by {@code payload}. */
  static byte[] reply(long unique, int error, byte[] payload) {
    return bytes().u32(16 + payload.length).u32(error).u64(unique).raw(payload).get();
  }
}
