package org.jploop.format.stream;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One packet of ploop 9's copy stream: the 24-byte descriptor {@code {u32 marker 0x4CC0AC3E, u32
 * type, u32 size, u32 pad, u64 pos}}, then (once the MD5 feature is negotiated) the 16-byte MD5 of
 * the payload, then {@code size} payload bytes. For a CMD packet the payload's first u32 is the
 * command; FINISH is a CMD with size 0. Immutable (the payload array is not copied: callers hand it
 * over).
 *
 * @param type one of the {@code TYPE_*} constants
 * @param pos the descriptor's pos: byte offset (data), features (handshake), device sectors (INIT),
 *     {@code ci_start} (CBT)
 * @param payload the payload bytes; its length is the descriptor's size
 */
public record CopyPacket(int type, long pos, byte[] payload) {
  /** The descriptor's marker, {@code PCOPY_MARKER}. */
  public static final int MARKER = 0x4CC0AC3E;

  /** Bytes of the descriptor. */
  public static final int DESCRIPTOR_BYTES = 24;

  /** Bytes of the MD5 that follows the descriptor once negotiated. */
  public static final int MD5_BYTES = 16;

  public static final int TYPE_DATA = 0;
  public static final int TYPE_CMD = 1;
  public static final int TYPE_DATA_ASYNC = 2;
  public static final int TYPE_DATA_DEVICE = 3;
  public static final int TYPE_DATA_CBT = 4;

  public static final int CMD_SYNC = 0;
  public static final int CMD_FINISH = 1;
  public static final int CMD_INIT_PLOOP = 2;
  public static final int CMD_INIT_QCOW = 3;
  public static final int CMD_MOUNT = 4;
  public static final int CMD_UMOUNT = 5;

  /** Feature bit: packets carry an MD5 ({@code PCOPY_FEAT_MD5SUM}). */
  public static final int FEATURE_MD5 = 0x1;

  /** Feature bit: data is read from the device ({@code PCOPY_FEAT_COPY_DEVICE}). */
  public static final int FEATURE_COPY_DEVICE = 0x2;

  /** What a ploop 9 sender offers in its handshake: MD5 | COPY_DEVICE. */
  public static final int SENDER_FEATURES = FEATURE_MD5 | FEATURE_COPY_DEVICE;

  /**
   * What a ploop 9 receiver replies to the handshake: {@code -PCOPY_SUP_FLAGS}, which the
   * unparenthesised macro makes {@code (-1)|2 = -1} (⚠ ploop's quirk, kept for interoperation); the
   * sender reads it as "MD5 only".
   */
  public static final int RECEIVER_HANDSHAKE_REPLY = -1;

  public CopyPacket {
    if (payload == null) {
      throw new IllegalArgumentException("payload must not be null");
    }
  }

  /** A CMD packet with the 4-byte payload {@code cmd}. */
  public static CopyPacket command(int cmd, long pos) {
    return new CopyPacket(TYPE_CMD, pos, le32(cmd));
  }

  /** The handshake: CMD SYNC with pos = the features offered (sent without MD5). */
  public static CopyPacket handshake(int features) {
    return command(CMD_SYNC, features & 0xFFFFFFFFL);
  }

  /**
   * INIT_PLOOP: size = the cluster size in sectors, pos = the device size in sectors; the payload
   * is {@code clusterSectors} bytes, the command then zeros (ploop sends stack garbage there).
   */
  public static CopyPacket initPloop(int clusterSectors, long deviceSectors) {
    byte[] p = new byte[Math.max(4, clusterSectors)];
    ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).putInt(0, CMD_INIT_PLOOP);
    return new CopyPacket(TYPE_CMD, deviceSectors, p);
  }

  /** FINISH: a CMD packet with size 0 (the receiver leaves its loop on size 0). */
  public static CopyPacket finish() {
    return new CopyPacket(TYPE_CMD, 0, new byte[0]);
  }

  /** Returns the command of a CMD packet (payload's first u32), or -1 if it has under 4 bytes. */
  public int command() {
    return payload.length < 4
        ? -1
        : ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
  }

  /** Returns whether this is the FINISH packet (a CMD of size 0). */
  public boolean isFinish() {
    return type == TYPE_CMD && payload.length == 0;
  }

  /** Returns the payload size. */
  public int size() {
    return payload.length;
  }

  /** Encodes the 24-byte descriptor. */
  public byte[] descriptor() {
    ByteBuffer b = ByteBuffer.allocate(DESCRIPTOR_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(MARKER).putInt(type).putInt(payload.length).putInt(0).putLong(pos);
    return b.array();
  }

  static byte[] le32(int v) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
  }

  @Override
  public String toString() {
    return "CopyPacket[type " + type + ", size " + payload.length + ", pos " + pos + "]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CopyPacket p
        && p.type == type
        && p.pos == pos
        && java.util.Arrays.equals(p.payload, payload);
  }

  @Override
  public int hashCode() {
    return (type * 31 + Long.hashCode(pos)) * 31 + java.util.Arrays.hashCode(payload);
  }
}
