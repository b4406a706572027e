package org.jploop.format.stream;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Encodes a copy stream: packets on the sender's side ({@link #writePacket}), the 4-byte replies on
 * the receiver's ({@link #writeReply}). Each call writes one whole packet and flushes, so a
 * reply-driven peer never waits on a buffered tail. Counts the bytes written (the sender's "bytes
 * sent" figure). Not thread-safe: one writer per stream.
 */
public final class CopyStreamWriter {
  private final OutputStream out;
  private long written;

  public CopyStreamWriter(OutputStream out) {
    this.out = out;
  }

  /** Returns how many bytes have been written. */
  public long written() {
    return written;
  }

  /** Writes {@code p}, with the MD5 of its payload after the descriptor if {@code md5}. */
  public void writePacket(CopyPacket p, boolean md5) throws IOException {
    out.write(p.descriptor());
    written += CopyPacket.DESCRIPTOR_BYTES;
    if (md5) {
      out.write(CopyStreamReader.md5(p.payload()));
      written += CopyPacket.MD5_BYTES;
    }
    out.write(p.payload());
    written += p.size();
    out.flush();
  }

  /** Writes a 4-byte reply. */
  public void writeReply(int code) throws IOException {
    out.write(CopyPacket.le32(code));
    written += 4;
    out.flush();
  }
}
