package org.jploop.copy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import org.jploop.format.stream.CbtBatch;
import org.jploop.format.stream.CopyPacket;
import org.jploop.format.stream.CopyStreamException;
import org.jploop.format.stream.CopyStreamReader;
import org.jploop.format.stream.CopyStreamWriter;

/**
 * Where a {@link CopySender} puts what it sends: {@link #stream} (ploop 9's packets to a remote
 * receiver, each answered by its int reply) or {@link #local} ({@code -d FILE}: the receiver's
 * {@link ReceivedImage} in this process, so FILE is a ploop image; ploop 9 writes a raw file here).
 * Used by one thread.
 */
abstract class CopySink {
  /** Bytes sent (the stream's bytes, or the data bytes written locally). */
  abstract long sent();

  abstract void init(int clusterSectors, long sizeSectors) throws IOException;

  abstract void data(long pos, byte[] buf, int len) throws IOException;

  abstract void sync() throws IOException;

  abstract void cbt(CbtBatch b) throws IOException;

  abstract void finish() throws IOException;

  /** After a failure: a local FILE is removed; a remote receiver sees the stream end. */
  abstract void abort();

  static CopySink local(Path file) {
    return new CopySink() {
      private ReceivedImage image;
      private long sent;

      @Override
      long sent() {
        return sent;
      }

      @Override
      void init(int clusterSectors, long sizeSectors) throws IOException {
        try {
          image = ReceivedImage.create(file, sizeSectors, clusterSectors);
        } catch (java.nio.file.FileAlreadyExistsException e) {
          throw new CopyException(CopyException.CREAT, "Can't open " + file + ": File exists", e);
        }
      }

      @Override
      void data(long pos, byte[] buf, int len) throws IOException {
        image.write(java.util.Arrays.copyOf(buf, len), pos);
        sent += len;
      }

      @Override
      void sync() throws IOException {
        image.sync();
      }

      @Override
      void cbt(CbtBatch b) throws IOException {
        image.cbt(b);
      }

      @Override
      void finish() throws IOException {
        image.finish();
      }

      @Override
      void abort() {
        if (image != null) {
          image.abort();
        }
      }
    };
  }

  static CopySink stream(InputStream replies, OutputStream out) {
    return new CopySink() {
      private final CopyStreamWriter w = new CopyStreamWriter(out);
      private final CopyStreamReader r = new CopyStreamReader(replies);
      private boolean md5;

      @Override
      long sent() {
        return w.written();
      }

      private void write(CopyPacket p, boolean withMd5) throws IOException {
        try {
          w.writePacket(p, withMd5);
        } catch (IOException e) {
          throw new CopyException(
              CopyException.WRITE,
              "Can't write to the copy stream: " + e.getMessage() + " (the receiver is gone?)",
              e);
        }
      }

      private void send(CopyPacket p) throws IOException {
        write(p, md5);
        int rc;
        try {
          rc = r.readReply();
        } catch (CopyStreamException e) {
          throw new CopyException(
              CopyException.PROTOCOL,
              "No reply from the receiver after"
                  + " packet type "
                  + p.type()
                  + " pos "
                  + p.pos()
                  + ": it is gone",
              e);
        }
        if (rc != 0) {
          throw new CopyException(
              rc > 0 ? rc : CopyException.PROTOCOL,
              p.type() == CopyPacket.TYPE_CMD
                  ? "Command " + p.command() + " exited with error " + rc
                  : "The receiver failed at pos " + p.pos() + " with error " + rc);
        }
      }

      @Override
      void init(int clusterSectors, long sizeSectors) throws IOException {
        write(CopyPacket.handshake(CopyPacket.SENDER_FEATURES), false);
        int rc;
        try {
          rc = r.readReply();
        } catch (CopyStreamException e) {
          throw new CopyException(CopyException.PROTOCOL, "handshake failed: no reply", e);
        }
        if (rc > 0) {
          throw new CopyException(CopyException.PROTOCOL, "handshake failed: rc=" + rc);
        }
        // ploop's quirk: -1 (= -PCOPY_SUP_FLAGS) means MD5 only
        md5 = ((-rc) & CopyPacket.FEATURE_MD5) != 0 || rc == -1;
        send(CopyPacket.initPloop(clusterSectors, sizeSectors));
      }

      @Override
      void data(long pos, byte[] buf, int len) throws IOException {
        send(new CopyPacket(CopyPacket.TYPE_DATA_DEVICE, pos, java.util.Arrays.copyOf(buf, len)));
      }

      @Override
      void sync() throws IOException {
        send(CopyPacket.command(CopyPacket.CMD_SYNC, 0));
      }

      @Override
      void cbt(CbtBatch b) throws IOException {
        send(new CopyPacket(CopyPacket.TYPE_DATA_CBT, b.start(), b.encode()));
      }

      @Override
      void finish() throws IOException {
        send(CopyPacket.command(CopyPacket.CMD_UMOUNT, 0));
        send(CopyPacket.finish());
      }

      @Override
      void abort() {
        try {
          out.close();
        } catch (IOException e) {
          // the receiver sees the stream end either way
        }
      }
    };
  }
}
