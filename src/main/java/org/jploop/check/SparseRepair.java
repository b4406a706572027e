package org.jploop.check;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.Consumer;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.io.LibC;

/**
 * {@code ploop check -S} (ploop 1.15 and 7.x check_and_repair_sparse): finds holes of the image
 * file that ploop 7's kernel could not live with, inside the header clusters or inside a data
 * cluster the BAT references, and writes zeros into them ("Reallocating sparse blocks back",
 * "Filling hole at start=... len=..."). Holes in unreferenced clusters are left alone.
 *
 * <p>Without {@code -S} jploop does not look, like ploop 9 (where the check is disabled): dm-ploop
 * and jploop's engine punch partial discards into clusters on purpose, and such an image is valid;
 * {@code -S} makes it acceptable to ploop 1.15/7.x, whose check otherwise says "ploop image is
 * sparse" (exit 11). ploop 7 finds holes with FIEMAP on ext4 only; jploop uses {@code
 * lseek(SEEK_HOLE/SEEK_DATA)} on any filesystem, which also reports unwritten (fallocated) ranges
 * as holes on some filesystems; filling those with zeros changes nothing visible. Stateless.
 */
public final class SparseRepair {
  /** lseek whence: the next hole at or after the offset. */
  private static final int SEEK_HOLE = 4;

  /** Zeros are written in pieces of at most this many bytes. */
  private static final int CHUNK = 1 << 20;

  private SparseRepair() {}

  /**
   * One hole to fill: {@code [start, start + length)} in bytes.
   *
   * @param start file offset
   * @param length bytes
   */
  public record Hole(long start, long length) {}

  /** Returns the holes inside the header clusters or a referenced cluster, in file order. */
  public static List<Hole> find(Path image) throws IOException {
    ImageHeader h;
    BitSet used = new BitSet();
    long size;
    try (BlockFile f = FileBlockFile.open(image, true)) {
      h = ImageReader.readHeader(f);
      size = f.size();
      int[] slots = ImageReader.readBatSlots(f, h);
      int bs = (int) h.clusterSectors();
      for (int i = 0; i < slots.length; i++) {
        long v = Integer.toUnsignedLong(slots[i]);
        if (v != 0) {
          long phys = h.version().toPhysicalCluster(v, bs);
          if (phys < Integer.MAX_VALUE) {
            used.set((int) phys);
          }
        }
      }
    }
    long cluster = h.clusterSectors() * 512;
    long headerClusters = h.firstBlockOffset() / h.clusterSectors();
    used.set(0, (int) headerClusters);
    List<Hole> out = new ArrayList<>();
    LibC.Native c = LibC.get();
    int fd = c.open(image.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
    if (fd < 0) {
      throw new IOException("open " + image + ": errno " + LibC.errno());
    }
    try {
      long pos = 0;
      while (pos < size) {
        long hole = c.lseek(fd, pos, SEEK_HOLE);
        if (hole < 0 || hole >= size) {
          break;
        }
        long data = c.lseek(fd, hole, LibC.SEEK_DATA);
        long end = data < 0 || data > size ? size : data;
        for (long s = hole; s < end; ) {
          long clu = s / cluster;
          long e = Math.min(end, (clu + 1) * cluster);
          if (clu < Integer.MAX_VALUE && used.get((int) clu)) {
            out.add(new Hole(s, e - s));
          }
          s = e;
        }
        pos = end;
      }
    } finally {
      c.close(fd);
    }
    return out;
  }

  /**
   * Fills {@code holes} of {@code image} with zeros and fsyncs, reporting each step to {@code log}.
   */
  public static void fill(Path image, List<Hole> holes, Consumer<String> log) throws IOException {
    if (holes.isEmpty()) {
      return;
    }
    log.accept("Warning: ploop image '" + image + "' is sparse");
    log.accept("Reallocating sparse blocks back");
    ByteBuffer zeros = ByteBuffer.allocate(CHUNK);
    try (BlockFile f = FileBlockFile.open(image, false)) {
      for (Hole hole : holes) {
        log.accept("Filling hole at start=" + hole.start() + " len=" + hole.length());
        for (long done = 0; done < hole.length(); ) {
          int n = (int) Math.min(CHUNK, hole.length() - done);
          f.write(zeros.clear().limit(n), hole.start() + done);
          done += n;
        }
      }
      f.force();
    }
  }
}
