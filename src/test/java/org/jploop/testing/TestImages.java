package org.jploop.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;

/** Builds empty ploop1 images for tests, as {@code ploop init} would (sparse, zero BAT). */
public final class TestImages {
  private TestImages() {}

  /** Returns the geometry of a disk of {@code diskBytes} with {@code clusterBytes} clusters. */
  public static ImageGeometry geometry(long diskBytes, int clusterBytes) {
    return ImageGeometry.forSize(diskBytes / 512, clusterBytes / 512);
  }

  /** Writes an empty image into {@code f}: header, zero BAT, length = data offset. */
  public static void format(BlockFile f, FormatVersion v, ImageGeometry g) throws IOException {
    f.truncate(0);
    f.write(ByteBuffer.wrap(ImageHeader.create(v, g).encode()), 0);
    f.truncate(g.dataOffsetBytes());
    f.force();
  }

  /** Returns a new in-memory empty image. */
  public static MemoryBlockFile empty(String name, FormatVersion v, ImageGeometry g)
      throws IOException {
    MemoryBlockFile f = new MemoryBlockFile(name);
    format(f, v, g);
    return f;
  }

  /** Returns a new in-memory empty v2 image of {@code diskBytes} with {@code clusterBytes}. */
  public static MemoryBlockFile empty(String name, long diskBytes, int clusterBytes)
      throws IOException {
    return empty(name, FormatVersion.V2, geometry(diskBytes, clusterBytes));
  }
}
