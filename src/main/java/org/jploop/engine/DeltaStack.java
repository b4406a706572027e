package org.jploop.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.CorruptImageException;
import org.jploop.format.ImageHeader;
import org.jploop.io.BatValidator;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;

/**
 * The stack of deltas of one disk, base first, top last (the kernel's {@code deltas[]}): validated
 * at open, loaded top-down into the merged BAT, and the read side of the data path, which reads a
 * mapped cluster from the delta that owns it ({@code bat_levels}). Only the top is ever written,
 * and not by this class.
 *
 * <p>Immutable after {@link #loadInto}, which runs once before any request; the files are
 * thread-safe.
 */
final class DeltaStack {
  /** dm-ploop's limit on the number of deltas. */
  static final int MAX_DELTAS = 253;

  private final List<Delta> deltas;
  private final Delta top;

  /** Raw BAT slots per delta until {@link #loadInto} consumes them (null for a raw base). */
  private int[][] slots;

  private final long clusterBytes;

  /** End of the highest cluster the top's BAT references, header clusters included. */
  private final long topDataEnd;

  private DeltaStack(List<Delta> deltas, int[][] slots) {
    this.deltas = List.copyOf(deltas);
    this.top = deltas.get(deltas.size() - 1);
    this.slots = slots;
    this.clusterBytes = top.header().clusterSectors() * 512L;
    ImageHeader th = top.header();
    long end = th.firstBlockOffset() * 512L;
    int[] s = slots[deltas.size() - 1];
    for (int i = 0; i < th.batEntries(); i++) {
      if (s[i] != 0) {
        long phys =
            th.version().toPhysicalCluster(Integer.toUnsignedLong(s[i]), (int) th.clusterSectors());
        end = Math.max(end, (phys + 1) * clusterBytes);
      }
    }
    this.topDataEnd = end;
  }

  /**
   * Reads and validates the headers and BATs of {@code files}, base first: every delta has the
   * top's version and cluster size and no more BAT entries than the top, and every BAT entry points
   * at a whole cluster inside its file. With {@code rawBase} the first file is a raw base (at least
   * one delta above it). The files are not closed on failure; the caller owns them.
   *
   * @throws CorruptImageException naming the file and the offset of the first bad field
   */
  static DeltaStack open(List<BlockFile> files, boolean rawBase, boolean readOnly)
      throws IOException {
    if (files.isEmpty()) {
      throw new IllegalArgumentException("no delta given");
    }
    if (rawBase && files.size() < 2) {
      throw new IllegalArgumentException("a raw base alone is served by RawDisk, not PloopDisk");
    }
    if (files.size() > MAX_DELTAS) {
      throw new IllegalArgumentException(
          "too many deltas: " + files.size() + " (max " + MAX_DELTAS + ")");
    }
    BlockFile topFile = files.get(files.size() - 1);
    if (!readOnly && topFile.readOnly()) {
      throw new IOException(topFile.path() + ": top delta is read-only but options ask for writes");
    }
    List<Delta> deltas = new ArrayList<>();
    int[][] slots = new int[files.size()][];
    ImageHeader th = ImageReader.readHeader(topFile);
    for (int i = 0; i < files.size(); i++) {
      BlockFile f = files.get(i);
      if (i == 0 && rawBase) {
        deltas.add(new Delta(f, null, 0));
        continue;
      }
      ImageHeader h = i == files.size() - 1 ? th : ImageReader.readHeader(f);
      if (h.version() != th.version() || h.clusterSectors() != th.clusterSectors()) {
        throw new CorruptImageException(
            f.path(),
            ImageHeader.OFFSET_SECTORS,
            "delta is version "
                + h.version().number()
                + " with "
                + h.clusterSectors()
                + "-sector clusters, but the top is version "
                + th.version().number()
                + " with "
                + th.clusterSectors());
      }
      if (h.batEntries() > th.batEntries()) {
        throw new CorruptImageException(
            f.path(),
            ImageHeader.OFFSET_SIZE,
            "lower delta has "
                + h.batEntries()
                + " BAT entries, more than the top's "
                + th.batEntries());
      }
      slots[i] = ImageReader.readBatSlots(f, h);
      BatValidator.validate(f.path(), h, slots[i], f.size());
      deltas.add(new Delta(f, h, i));
    }
    return new DeltaStack(deltas, slots);
  }

  /**
   * Opens image files, base first, as {@link FileBlockFile}s: the lower deltas read-only, the top
   * read-only too if {@code readOnly}. On failure the files opened so far are closed.
   */
  static List<BlockFile> openFiles(List<Path> pathsBaseFirst, boolean readOnly) throws IOException {
    List<BlockFile> files = new ArrayList<>();
    try {
      for (int i = 0; i < pathsBaseFirst.size(); i++) {
        boolean isTop = i == pathsBaseFirst.size() - 1;
        files.add(FileBlockFile.open(pathsBaseFirst.get(i), !isTop || readOnly));
      }
    } catch (IOException e) {
      closeAll(files, e);
      throw e;
    }
    return files;
  }

  /**
   * Closes every file of {@code files}. With a {@code primary} failure, close failures are added to
   * it as suppressed and null is returned; without one, the first close failure is returned (later
   * ones suppressed in it), null if all closed.
   */
  static IOException closeAll(List<BlockFile> files, Throwable primary) {
    IOException first = null;
    for (BlockFile f : files) {
      try {
        f.close();
      } catch (IOException e) {
        if (primary != null) {
          primary.addSuppressed(e);
        } else if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    return first;
  }

  /**
   * Fills the merged BAT top-down (a slot set by a higher delta is never overwritten) and marks the
   * top's clusters used in {@code holes}. Runs once, before any request.
   */
  void loadInto(MergedBat bat, FreeClusterBitmap holes) throws IOException {
    ImageHeader th = top.header();
    for (int d = deltas.size() - 1; d >= 0; d--) {
      Delta delta = deltas.get(d);
      if (delta.raw()) {
        long rawClusters =
            Math.min(th.batEntries(), (delta.file().size() + clusterBytes - 1) / clusterBytes);
        for (long c = 0; c < rawClusters; c++) {
          bat.loadIfUnmapped(c, c + 1, delta.level());
        }
        continue;
      }
      int[] s = slots[d];
      long entries = delta.header().batEntries();
      int sectors = (int) delta.header().clusterSectors();
      for (int i = 0; i < entries; i++) {
        if (s[i] == 0) {
          continue;
        }
        long phys =
            delta.header().version().toPhysicalCluster(Integer.toUnsignedLong(s[i]), sectors);
        bat.loadIfUnmapped(i, phys, delta.level());
        if (d == deltas.size() - 1) {
          holes.markUsed(phys);
        }
      }
    }
    slots = null;
  }

  /** Returns the files of every delta, base first. */
  List<BlockFile> files() {
    return deltas.stream().map(Delta::file).toList();
  }

  /** Returns the number of deltas. */
  int count() {
    return deltas.size();
  }

  /** Returns the top delta, the only one written. */
  Delta top() {
    return top;
  }

  /** Returns the top's level. */
  int topLevel() {
    return top.level();
  }

  /** Returns the cluster size in bytes. */
  long clusterBytes() {
    return clusterBytes;
  }

  /** Returns the disk size in bytes (the top's {@code m_SizeInSectors}). */
  long size() {
    return top.header().sizeSectors() * 512L;
  }

  /** Returns where the clusters the top's BAT references end (at least the data offset). */
  long topDataEnd() {
    return topDataEnd;
  }

  /** Returns the top's data offset in bytes ({@code m_FirstBlockOffset}). */
  long dataOffset() {
    return top.header().firstBlockOffset() * 512L;
  }

  /**
   * Reads {@code dst.remaining()} bytes at {@code inOff} of the cluster that {@code entry} ({@code
   * level << 32 | physical}, physical not 0) names, from the delta that owns it.
   */
  void read(long entry, int inOff, ByteBuffer dst) throws IOException {
    Delta d = deltas.get(MergedBat.levelOf(entry));
    d.file().read(dst, d.offsetOf(MergedBat.physOf(entry), clusterBytes) + inOff);
  }

  /** Reads the whole cluster {@code entry} names into a fresh buffer (position 0, full). */
  ByteBuffer readCluster(long entry) throws IOException {
    ByteBuffer whole = ByteBuffer.allocate((int) clusterBytes);
    read(entry, 0, whole);
    whole.clear();
    return whole;
  }
}
