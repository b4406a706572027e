package org.jploop.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;
import org.jploop.io.CbtStore;
import org.jploop.io.ImageReader;
import org.jploop.io.ImageWriter;

/**
 * The header of the top delta while the disk is open read-write: the in-use marker set at open and
 * cleared at a clean close (what the ploop library does around dm-ploop, {@code update_delta_inuse}
 * / {@code clear_delta}), the CBT saved into the Format Extension at a clean close ({@code
 * save_cbt}), and the 64 header bytes that md page 0 must carry when {@link MdWriteback} writes it.
 *
 * <p>{@link #bytes} is volatile and replaced, never mutated; the methods run before requests are
 * admitted or after they are drained, so nothing else needs a lock.
 */
final class TopHeader {
  private final BlockFile top;
  private final long dataOffset;

  /** The top header as page 0 must carry it. */
  private volatile byte[] bytes;

  TopHeader(BlockFile top, ImageHeader header) {
    this.top = top;
    this.dataOffset = header.firstBlockOffset() * 512L;
    this.bytes = header.encode();
  }

  /** Returns the current 64 header bytes (for the writeback of md page 0). */
  byte[] bytes() {
    return bytes;
  }

  /**
   * Writes m_DiskInUse = in use and forces it, before any write is served. A header that points at
   * a Format Extension loses the pointer in the same write: the extension is loaded (or refused) by
   * now, and a stale pointer would be parsed by QEMU and mistaken by ploop after a later close.
   */
  void markInUse() throws IOException {
    reserveBatArea();
    ImageHeader h = ImageReader.readHeader(top);
    if (h.formatExtensionOffset() != 0) {
      ImageWriter.writeHeader(
          top, h.withDiskInUse(ImageHeader.IN_USE).withFormatExtensionOffset(0));
    } else {
      ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
      b.putInt(0, (int) ImageHeader.IN_USE);
      top.write(b, ImageHeader.OFFSET_DISK_IN_USE);
      top.force();
    }
    bytes = ImageReader.readHeader(top).encode();
  }

  /**
   * Gives the header clusters real blocks (fallocate mode 0 keeps their contents), as ploop does by
   * writing the zeroed BAT at init. A sparse BAT area would make md page writeback need new blocks
   * and so fail with ENOSPC on a full host filesystem, when parked writes need it most. Best
   * effort: a host without fallocate, or already full, keeps the old behaviour.
   */
  private void reserveBatArea() {
    try {
      top.allocate(0, dataOffset);
    } catch (IOException e) {
      // not fatal: writeback retries a failed page write, and flush reports it
    }
  }

  /**
   * At a clean close, after the last md page is durable and the file is cut to {@code usedEnd}:
   * clears CIF_Empty if data clusters exist ({@code usedEnd} past the data offset) and marks the
   * top closed. With a {@code cbt} the bitmap is appended ({@link CbtStore#write}) and the header
   * says closed v2.1 with the extension; if that fails the appended clusters are cut off again and
   * the header says closed v2.0, as without CBT (ploop too only warns when it cannot save the CBT
   * at umount). Returns null, or why the CBT was not saved.
   */
  String markClosed(long usedEnd, DirtyBitmap cbt) throws IOException {
    ImageHeader h = ImageReader.readHeader(top);
    long flags = h.flags();
    if (usedEnd > dataOffset) {
      flags &= ~ImageHeader.CIF_EMPTY;
    }
    String problem = null;
    if (cbt != null) {
      try {
        bytes = CbtStore.write(top, h.withFlags(flags).withFormatExtensionOffset(0), cbt).encode();
        return null;
      } catch (IOException | RuntimeException e) {
        problem = top.path() + ": Warning: saving format extension failed: " + e.getMessage();
        top.truncate(usedEnd);
      }
    }
    ImageHeader closedHeader =
        h.withFlags(flags).withDiskInUse(ImageHeader.CLOSED_V20).withFormatExtensionOffset(0);
    bytes = closedHeader.encode();
    top.write(ByteBuffer.wrap(closedHeader.encode()), 0);
    top.force();
    return problem;
  }
}
