package org.jploop.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;

/**
 * A minimal test-scope read path: the flat disk content of a delta chain, found by following the
 * BATs top-down (first delta with a non-zero entry wins, zeros if none). It stands in for the
 * engine's {@code PloopDisk} until that is merged, so we can compare with {@code qemu-img convert}.
 */
public final class BatReader {
  private BatReader() {}

  /** Writes the whole virtual disk of the chain (base first) to {@code out}. */
  public static void readDisk(List<Path> deltasBaseFirst, OutputStream out) throws IOException {
    List<BlockFile> files = new ArrayList<>();
    List<ImageHeader> headers = new ArrayList<>();
    List<int[]> bats = new ArrayList<>();
    try {
      for (Path p : deltasBaseFirst) {
        BlockFile f = FileBlockFile.open(p, true);
        files.add(f);
        ImageHeader h = ImageReader.readHeader(f);
        headers.add(h);
        bats.add(ImageReader.readBatSlots(f, h));
      }
      ImageHeader top = headers.get(headers.size() - 1);
      int cs = (int) top.clusterSectors();
      long cluster = cs * 512L;
      ByteBuffer buf = ByteBuffer.allocate((int) cluster);
      for (long c = 0; c < top.batEntries(); c++) {
        buf.clear();
        boolean found = false;
        for (int d = files.size() - 1; d >= 0 && !found; d--) {
          ImageHeader h = headers.get(d);
          if (c >= h.batEntries()) {
            continue;
          }
          long v = Integer.toUnsignedLong(bats.get(d)[(int) c]);
          if (v != 0) {
            files.get(d).read(buf, h.version().toPhysicalCluster(v, cs) * cluster);
            found = true;
          }
        }
        long len = Math.min(cluster, top.sizeSectors() * 512 - c * cluster);
        out.write(found ? buf.array() : new byte[(int) cluster], 0, (int) len);
      }
    } finally {
      for (BlockFile f : files) {
        f.close();
      }
    }
  }
}
