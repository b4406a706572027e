package org.jploop.copy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import org.jploop.format.ImageGeometry;
import org.jploop.format.stream.CbtBatch;
import org.jploop.format.stream.CopyPacket;
import org.jploop.format.stream.CopyStreamException;
import org.jploop.format.stream.CopyStreamReader;
import org.jploop.format.stream.CopyStreamWriter;
import org.jploop.io.NoSpaceException;

/**
 * {@code ploop copy -d FILE [-i FD]}: reads ploop 9's copy stream ({@code ploop_copy_receiver},
 * lib/ploop-copy.c) and builds FILE as a complete ploop image through the engine ({@link
 * ReceivedImage}). Replies 0 after every packet but DATA_ASYNC, -1 to the handshake (ploop's
 * quirk), the error code before giving up.
 *
 * <p>Any failure (truncated stream, wrong marker, bad MD5, a packet out of range or order, an
 * unknown type or command, a write error such as a full disk) ends the copy with one {@link
 * CopyException} and FILE removed; until FINISH the file carries {@link UnfinishedImageFile#MARK}
 * instead of its signature, so one left by a killed receiver is no image. Nothing outside FILE is
 * written. Deviations from ploop: DATA / DATA_ASYNC packets (raw pwrite into FILE, ploop 7's
 * local-file protocol) are refused, and an MD5 mismatch fails the copy instead of exiting 0. Used
 * by one thread.
 */
public final class CopyReceiver {
  /** The largest payload before INIT: the INIT packet's size is the cluster size in sectors. */
  private static final int MAX_BEFORE_INIT = ImageGeometry.MAX_CLUSTER_SECTORS;

  private final Path file;
  private final CopyStreamReader in;
  private final CopyStreamWriter out;
  private boolean md5;
  private boolean handshaken;
  private ReceivedImage image;
  private long packets;
  private long dataBytes;

  /** Receives into {@code file} from {@code in}, replying on {@code out}. */
  public CopyReceiver(Path file, InputStream in, OutputStream out) {
    this.file = file;
    this.in = new CopyStreamReader(in);
    this.out = new CopyStreamWriter(out);
  }

  /**
   * Receives the whole stream. Returns the number of data bytes written.
   *
   * @throws CopyException for every failure; FILE is removed then
   */
  public long receive() throws CopyException {
    try {
      loop();
      return dataBytes;
    } catch (CopyException e) {
      fail(e);
      throw e;
    } catch (CopyStreamException e) {
      CopyException c = new CopyException(codeOf(e.kind()), e.getMessage(), e);
      fail(c);
      throw c;
    } catch (IOException | RuntimeException e) {
      CopyException c =
          new CopyException(
              CopyException.READ,
              "Error reading the copy stream"
                  + " after "
                  + in.offset()
                  + " bytes: "
                  + e.getMessage(),
              e);
      fail(c);
      throw c;
    }
  }

  private void loop() throws IOException {
    while (true) {
      CopyPacket p =
          in.readPacket(
              md5,
              image == null
                  ? MAX_BEFORE_INIT
                  : (int) Math.max(image.clusterBytes(), CbtBatch.MAX_BYTES));
      packets++;
      if (p.isFinish()) {
        if (image == null) {
          throw new CopyException(
              CopyException.PROTOCOL,
              "Stream corrupted: FINISH at stream"
                  + " offset "
                  + (in.offset() - headerBytes())
                  + " before any image was sent");
        }
        writing(() -> image.finish());
        out.writeReply(0);
        return;
      }
      int reply = handle(p);
      if (p.type() != CopyPacket.TYPE_DATA_ASYNC) {
        out.writeReply(reply);
      }
    }
  }

  private int handle(CopyPacket p) throws IOException {
    switch (p.type()) {
      case CopyPacket.TYPE_CMD:
        return command(p);
      case CopyPacket.TYPE_DATA_DEVICE:
        data(p);
        return 0;
      case CopyPacket.TYPE_DATA_CBT:
        cbt(p);
        return 0;
      case CopyPacket.TYPE_DATA:
      case CopyPacket.TYPE_DATA_ASYNC:
        throw new CopyException(
            CopyException.PARAM,
            "Unsupported packet type "
                + p.type()
                + " (raw file data, ploop 7's protocol) at stream offset "
                + packetStart(p)
                + ": jploop receives ploop 9's device stream only");
      default:
        throw new CopyException(
            CopyException.PARAM,
            "Unsupported packet type " + p.type() + " at stream offset " + packetStart(p));
    }
  }

  private int command(CopyPacket p) throws IOException {
    int cmd = p.command();
    switch (cmd) {
      case CopyPacket.CMD_SYNC:
        if (!handshaken && packets == 1) {
          handshaken = true;
          md5 = (p.pos() & CopyPacket.FEATURE_MD5) != 0;
          return CopyPacket.RECEIVER_HANDSHAKE_REPLY;
        }
        if (image != null && image.open()) {
          try {
            image.sync();
          } catch (IOException e) {
            throw new CopyException(
                CopyException.FSYNC, "Can't fsync " + file + ": " + e.getMessage(), e);
          }
        }
        return 0;
      case CopyPacket.CMD_INIT_PLOOP:
        init(p);
        return 0;
      case CopyPacket.CMD_UMOUNT:
        requireImage(p);
        writing(() -> image.umount());
        return 0;
      default:
        throw new CopyException(
            CopyException.PARAM,
            "Unsupported command " + cmd + " at stream offset " + packetStart(p));
    }
  }

  private void init(CopyPacket p) throws IOException {
    if (image != null) {
      throw malformed(p, "a second INIT");
    }
    int clusterSectors = p.size();
    long sectors = p.pos();
    if (!ImageGeometry.isValidClusterSectors(clusterSectors)) {
      throw malformed(p, "INIT with cluster size " + clusterSectors + " sectors");
    }
    if (sectors <= 0 || sectors % clusterSectors != 0 || sectors / clusterSectors > 0xFFFFFFFFL) {
      throw malformed(p, "INIT with device size " + sectors + " sectors");
    }
    try {
      image = ReceivedImage.create(file, sectors, clusterSectors);
    } catch (FileAlreadyExistsException e) {
      throw new CopyException(CopyException.CREAT, "Can't open " + file + ": File exists", e);
    } catch (NoSpaceException e) {
      throw new CopyException(
          CopyException.WRITE, "Can't create " + file + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new CopyException(CopyException.CREAT, "Can't open " + file + ": " + e.getMessage(), e);
    }
  }

  private void data(CopyPacket p) throws IOException {
    requireImage(p);
    if (!image.open()) {
      throw malformed(p, "data after UMOUNT");
    }
    long pos = p.pos();
    if (pos < 0
        || pos % ImageGeometry.SECTOR != 0
        || p.size() % ImageGeometry.SECTOR != 0
        || pos > image.sizeBytes() - p.size()) {
      throw malformed(
          p,
          "data of "
              + p.size()
              + " bytes at "
              + pos
              + " outside the "
              + image.sizeBytes()
              + "-byte disk or not sector-aligned");
    }
    writing(() -> image.write(p.payload(), pos));
    dataBytes += p.size();
  }

  private void cbt(CopyPacket p) throws IOException {
    requireImage(p);
    if (!image.open()) {
      throw malformed(p, "CBT after UMOUNT");
    }
    try {
      CbtBatch b = CbtBatch.decode(p.payload());
      if (b.start() != p.pos()) {
        throw malformed(
            p, "CBT batch with ci_start " + b.start() + " in a packet at pos " + p.pos());
      }
      image.cbt(b);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw malformed(p, e.getMessage());
    }
  }

  private interface Write {
    void run() throws IOException;
  }

  private void writing(Write w) throws CopyException {
    try {
      w.run();
    } catch (IOException e) {
      throw new CopyException(
          CopyException.WRITE, "Can't write " + file + ": " + e.getMessage(), e);
    }
  }

  private void requireImage(CopyPacket p) throws CopyException {
    if (image == null) {
      throw malformed(p, "packet before INIT");
    }
  }

  private CopyException malformed(CopyPacket p, String what) {
    return new CopyException(
        CopyException.PROTOCOL,
        "Stream corrupted: "
            + what
            + " (packet"
            + " type "
            + p.type()
            + " size "
            + p.size()
            + " pos "
            + p.pos()
            + " at stream offset "
            + packetStart(p)
            + ")");
  }

  private long packetStart(CopyPacket p) {
    return in.offset() - headerBytes() - p.size();
  }

  private int headerBytes() {
    return CopyPacket.DESCRIPTOR_BYTES + (md5 ? CopyPacket.MD5_BYTES : 0);
  }

  private void fail(CopyException e) {
    if (image != null) {
      image.abort();
    }
    try {
      out.writeReply(e.exitCode());
    } catch (IOException | RuntimeException ignored) {
      // the sender may be gone: that may be why we fail
    }
  }

  static int codeOf(CopyStreamException.Kind k) {
    return switch (k) {
      case TRUNCATED -> CopyException.READ;
      case MARKER, MALFORMED -> CopyException.PROTOCOL;
      case CHECKSUM -> CopyException.CHECKSUM;
      case UNKNOWN -> CopyException.PARAM;
    };
  }
}
