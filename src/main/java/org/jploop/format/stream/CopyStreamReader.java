package org.jploop.format.stream;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import org.jploop.format.stream.CopyStreamException.Kind;

/**
 * Decodes a copy stream: packets on the receiver's side ({@link #readPacket}), replies on the
 * sender's ({@link #readReply}). Checks the marker, bounds the payload before allocating it (a
 * corrupt size never makes it allocate gigabytes) and verifies the MD5 when asked. Counts the bytes
 * read so that every error names the stream offset. Not thread-safe: one reader per stream.
 */
public final class CopyStreamReader {
  private final InputStream in;
  private long offset;

  public CopyStreamReader(InputStream in) {
    this.in = in;
  }

  /** Returns how many bytes have been read. */
  public long offset() {
    return offset;
  }

  /**
   * Reads one packet.
   *
   * @param md5 whether the MD5 feature is negotiated (the 16 bytes follow the descriptor)
   * @param maxPayload the largest payload acceptable now
   * @throws CopyStreamException TRUNCATED at end of stream (also before the first byte), MARKER,
   *     MALFORMED for a size over {@code maxPayload}, CHECKSUM for an MD5 mismatch
   */
  public CopyPacket readPacket(boolean md5, int maxPayload) throws IOException {
    long start = offset;
    ByteBuffer d =
        ByteBuffer.wrap(readFully(CopyPacket.DESCRIPTOR_BYTES, start))
            .order(ByteOrder.LITTLE_ENDIAN);
    int marker = d.getInt(0);
    int type = d.getInt(4);
    long size = d.getInt(8) & 0xFFFFFFFFL;
    long pos = d.getLong(16);
    if (marker != CopyPacket.MARKER) {
      throw new CopyStreamException(
          Kind.MARKER,
          String.format(
              Locale.ROOT,
              "Stream corrupted: marker: %x" + " type: %d size: %d pos: %d (at stream offset %d)",
              marker,
              type,
              size,
              pos,
              start));
    }
    if (size > maxPayload) {
      throw new CopyStreamException(
          Kind.MALFORMED,
          "Stream corrupted: packet type "
              + type
              + " of "
              + size
              + " bytes at stream offset "
              + start
              + " (at most "
              + maxPayload
              + " expected here)");
    }
    byte[] sum = md5 ? readFully(CopyPacket.MD5_BYTES, start) : null;
    byte[] payload = readFully((int) size, start);
    if (sum != null) {
      byte[] actual = md5(payload);
      if (!MessageDigest.isEqual(sum, actual)) {
        throw new CopyStreamException(
            Kind.CHECKSUM,
            "MD5 mismatch pos: "
                + pos
                + " src: "
                + HexFormat.of().formatHex(sum)
                + " dst: "
                + HexFormat.of().formatHex(actual)
                + " (packet at stream offset "
                + start
                + ")");
      }
    }
    return new CopyPacket(type, pos, payload);
  }

  /** Reads the receiver's 4-byte reply (0 or a SYSEXIT code; -1 to the handshake). */
  public int readReply() throws IOException {
    return ByteBuffer.wrap(readFully(4, offset)).order(ByteOrder.LITTLE_ENDIAN).getInt();
  }

  private byte[] readFully(int n, long packetStart) throws IOException {
    byte[] b = new byte[n];
    int done = 0;
    while (done < n) {
      int r;
      try {
        r = in.read(b, done, n - done);
      } catch (EOFException e) {
        r = -1;
      }
      if (r < 0) {
        throw new CopyStreamException(
            Kind.TRUNCATED,
            "Stream truncated at offset "
                + (offset + done)
                + (done == 0 && offset == packetStart
                    ? ""
                    : " inside the packet" + " that starts at offset " + packetStart)
                + ": the sender is gone or the stream"
                + " was cut");
      }
      done += r;
    }
    offset += n;
    return b;
  }

  /** Returns the MD5 of {@code data}. */
  public static byte[] md5(byte[] data) {
    try {
      return MessageDigest.getInstance("MD5").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no MD5", e);
    }
  }
}
