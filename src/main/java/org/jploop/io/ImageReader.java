package org.jploop.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;

/**
 * Reads the two on-disk structures of a ploop1 image from a {@link BlockFile}: the validated
 * 64-byte header and the raw BAT. Raw means the u32 values as stored (sectors for v1, clusters for
 * v2), without any check of what they point at; the engine and {@code ploop check} judge them.
 */
public final class ImageReader {
  private ImageReader() {}

  /** Reads and validates the header; errors name the file and the field's offset. */
  public static ImageHeader readHeader(BlockFile file) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(ImageHeader.SIZE);
    file.read(b, 0);
    return ImageHeader.decode(file.path(), b.array(), file.size());
  }

  /**
   * Reads every BAT slot of the header clusters, header slots excluded: element {@code i} is the
   * raw value of virtual cluster {@code i}, as an unsigned int. Slots past {@code m_Size} up to the
   * end of the last header cluster (which must be 0) are included, so the result has {@code
   * headerClusters * clusterBytes / 4 - 16} elements.
   */
  public static int[] readBatSlots(BlockFile file, ImageHeader header) throws IOException {
    long batBytes = header.firstBlockOffset() * ImageGeometry.SECTOR - ImageHeader.SIZE;
    if (batBytes / 4 > Integer.MAX_VALUE - 16) {
      throw new IOException(file.path() + ": BAT of " + batBytes + " bytes is too large");
    }
    int[] slots = new int[(int) (batBytes / 4)];
    ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    int done = 0;
    long pos = ImageHeader.SIZE;
    while (done < slots.length) {
      int n = Math.min(buf.capacity() / 4, slots.length - done);
      buf.clear().limit(n * 4);
      file.read(buf, pos);
      buf.flip();
      buf.asIntBuffer().get(slots, done, n);
      done += n;
      pos += n * 4L;
    }
    return slots;
  }
}
