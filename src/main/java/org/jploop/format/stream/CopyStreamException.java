package org.jploop.format.stream;

import java.io.IOException;

/**
 * A copy stream that cannot be decoded: {@link Kind} says how, the message is ploop's where it has
 * one ({@code Stream corrupted: marker: %x type: %d size: %d pos: %llu}, {@code MD5 mismatch pos:
 * %llu src: %s dst: %s}) and names the stream offset.
 */
public final class CopyStreamException extends IOException {
  /** How the stream is broken. */
  public enum Kind {
    /** The stream ended inside a packet or before FINISH (sender gone, pipe closed). */
    TRUNCATED,
    /** A descriptor without the marker. */
    MARKER,
    /** The payload does not match its MD5. */
    CHECKSUM,
    /** A well-formed packet that is not acceptable here (too large, out of range, out of order). */
    MALFORMED,
    /** An unknown packet type or command. */
    UNKNOWN
  }

  private final Kind kind;

  public CopyStreamException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  /** Returns how the stream is broken. */
  public Kind kind() {
    return kind;
  }
}
