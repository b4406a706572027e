package org.jploop.image;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.BitSet;
import org.jploop.format.BatLayout;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.io.BatValidator;
import org.jploop.io.BlockFile;
import org.jploop.io.CbtStore;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.io.ImageWriter;

/**
 * One ploop1 delta opened for an offline operation: its header and its whole BAT in memory, with
 * the md pages changed since the last {@link #writeDirtyBatPages} remembered. Mapping changes are
 * made in memory first; the caller decides when the pages go to disk, always after the data they
 * point at is durable.
 *
 * <p>On open every mapped entry is checked the way {@code ploop check -c} checks it (aligned, past
 * the header, inside the file, referenced once), because relocating data on a damaged BAT would
 * destroy it. Not thread-safe: one operation thread owns it.
 */
public final class DeltaFile implements Closeable {
  private final BlockFile file;
  private ImageHeader header;

  /** Raw BAT slots of the header clusters, slot i = virtual cluster i (units of the version). */
  private long[] slots;

  /** md pages whose in-memory slots differ from the file. */
  private final BitSet dirtyPages = new BitSet();

  private DeltaFile(BlockFile file, ImageHeader header, long[] slots) {
    this.file = file;
    this.header = header;
    this.slots = slots;
  }

  /** Opens and validates the delta at {@code path}. */
  public static DeltaFile open(Path path, boolean readOnly) throws IOException {
    BlockFile f = FileBlockFile.open(path, readOnly);
    try {
      return of(f);
    } catch (IOException | RuntimeException e) {
      f.close();
      throw e;
    }
  }

  /**
   * Wraps an open file (the mount daemon passes its own), reading and validating header and BAT.
   */
  public static DeltaFile of(BlockFile f) throws IOException {
    ImageHeader h = ImageReader.readHeader(f);
    int[] raw = ImageReader.readBatSlots(f, h);
    BatValidator.validate(f.path(), h, raw, f.size());
    long[] slots = new long[raw.length];
    for (int i = 0; i < raw.length; i++) {
      slots[i] = Integer.toUnsignedLong(raw[i]);
    }
    return new DeltaFile(f, h, slots);
  }

  /** Returns the file. */
  public BlockFile file() {
    return file;
  }

  /** Returns the file's path. */
  public Path path() {
    return file.path();
  }

  /** Returns the current header (as last read or written). */
  public ImageHeader header() {
    return header;
  }

  /** Returns the format version. */
  public FormatVersion version() {
    return header.version();
  }

  /** Returns the cluster size in sectors. */
  public int clusterSectors() {
    return (int) header.clusterSectors();
  }

  /** Returns the cluster size in bytes. */
  public long clusterBytes() {
    return header.clusterSectors() * ImageGeometry.SECTOR;
  }

  /** Returns the number of BAT entries (virtual clusters). */
  public long batEntries() {
    return header.batEntries();
  }

  /** Returns the clusters taken by header and BAT. */
  public long headerClusters() {
    return header.firstBlockOffset() / header.clusterSectors();
  }

  /** Returns the physical cluster holding virtual cluster {@code clu}, or 0 if unmapped. */
  public long physicalOf(long clu) {
    if (clu >= header.batEntries()) {
      return 0;
    }
    long v = slots[(int) clu];
    return v == 0 ? 0 : header.version().toPhysicalCluster(v, clusterSectors());
  }

  /** Returns the raw BAT value of {@code clu}. */
  public long rawEntry(long clu) {
    return clu < slots.length ? slots[(int) clu] : 0;
  }

  /** Maps {@code clu} to physical cluster {@code phys} (0 = unmap), in memory only. */
  public void map(long clu, long phys) {
    setRaw(clu, phys == 0 ? 0 : header.version().toBatValue(phys, clusterSectors()));
  }

  /** Sets the raw BAT value of {@code clu}, in memory only. */
  public void setRaw(long clu, long raw) {
    if (raw < 0 || raw > ImageGeometry.MAX_BAT_VALUE) {
      throw new IllegalArgumentException(
          path() + ": BAT value " + raw + " out of range for " + header.version());
    }
    slots[(int) clu] = raw;
    dirtyPages.set(BatLayout.pageOf(clu));
  }

  /** Returns the set of physical clusters referenced by the BAT. */
  public BitSet usedClusters() {
    BitSet used = new BitSet();
    for (long c = 0; c < header.batEntries(); c++) {
      long p = physicalOf(c);
      if (p != 0) {
        used.set((int) p);
      }
    }
    return used;
  }

  /** Returns one past the highest referenced physical cluster, at least the header clusters. */
  public long usedEnd() {
    BitSet used = usedClusters();
    return Math.max(headerClusters(), used.length());
  }

  /** Returns the file length in whole clusters, rounded up. */
  public long fileClusters() throws IOException {
    return (file.size() + clusterBytes() - 1) / clusterBytes();
  }

  /** Returns the number of mapped entries. */
  public long mappedCount() {
    long n = 0;
    for (long c = 0; c < header.batEntries(); c++) {
      if (slots[(int) c] != 0) {
        n++;
      }
    }
    return n;
  }

  /** Reads physical cluster {@code phys} into a fresh buffer. */
  public ByteBuffer readCluster(long phys) throws IOException {
    ByteBuffer b = ByteBuffer.allocate((int) clusterBytes());
    file.read(b, phys * clusterBytes());
    return b.flip();
  }

  /** Writes a whole cluster at physical cluster {@code phys} (not synced). */
  public void writeCluster(long phys, ByteBuffer data) throws IOException {
    file.write(data.duplicate(), phys * clusterBytes());
  }

  /** Returns whether any md page has unwritten changes. */
  public boolean hasDirtyBatPages() {
    return !dirtyPages.isEmpty();
  }

  /**
   * Writes every changed md page (page 0 without the 64 header bytes); does not fsync. The caller
   * must have made the data the new entries point at durable first.
   */
  public void writeDirtyBatPages() throws IOException {
    for (int p = dirtyPages.nextSetBit(0); p >= 0; p = dirtyPages.nextSetBit(p + 1)) {
      writeBatPage(p);
    }
    dirtyPages.clear();
  }

  private void writeBatPage(int page) throws IOException {
    int perPage = BatLayout.ENTRIES_PER_PAGE;
    int firstSlot = page == 0 ? ImageGeometry.MAP_OFFSET : 0;
    ByteBuffer b = ByteBuffer.allocate((perPage - firstSlot) * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int s = firstSlot; s < perPage; s++) {
      long clu = BatLayout.clusterAt(page, s);
      b.putInt((int) (clu < slots.length ? slots[(int) clu] : 0));
    }
    b.flip();
    file.write(b, BatLayout.pageOffset(page) + firstSlot * 4L);
  }

  /** Makes everything written so far durable. */
  public void force() throws IOException {
    file.force();
  }

  /** Writes {@code h} as the new header and fsyncs; the in-memory BAT must already fit it. */
  public void writeHeader(ImageHeader h) throws IOException {
    ImageWriter.writeHeader(file, h);
    this.header = h;
  }

  /**
   * Sets the in-use flag (the delta is being changed) and fsyncs. A Format Extension (CBT) loses
   * its pointer: ploop's {@code dirty_delta}/{@code clear_delta} leave it void too (in-use 0 means
   * "ignore the extension"), and a pointer into clusters the operation may reuse must not survive.
   * Operations that keep the CBT read it first and write it again at the end ({@link CbtCarrier}).
   */
  public void markInUse() throws IOException {
    writeHeader(header.withDiskInUse(ImageHeader.IN_USE).withFormatExtensionOffset(0));
  }

  /**
   * Marks the delta cleanly closed (v2.0, no extension): in-use cleared, CIF_Empty set exactly when
   * nothing is mapped, then fsync.
   */
  public void markClean() throws IOException {
    long flags = header.flags() & ~ImageHeader.CIF_EMPTY;
    if (mappedCount() == 0) {
      flags |= ImageHeader.CIF_EMPTY;
    }
    writeHeader(
        header.withDiskInUse(ImageHeader.CLOSED_V20).withFlags(flags).withFormatExtensionOffset(0));
  }

  /** Returns where the clusters the BAT references end, in bytes (header clusters included). */
  public long dataEnd() {
    return usedEnd() * clusterBytes();
  }

  /**
   * Reads the delta's CBT, or null if it has none.
   *
   * @throws org.jploop.format.BadExtensionException if its extension is bad (ploop's messages)
   */
  public CbtStore.Stored readCbt() throws IOException {
    return CbtStore.read(file, header, dataEnd());
  }

  /**
   * Appends {@code bitmap} as the delta's CBT and marks it closed v2.1 ({@link CbtStore#write}).
   */
  public void writeCbt(DirtyBitmap bitmap) throws IOException {
    this.header = CbtStore.write(file, header, bitmap);
  }

  /**
   * Replaces the in-memory BAT with one sized for {@code geometry}'s header clusters, keeping every
   * entry (used by grow before the new header is written).
   */
  void resizeSlots(ImageGeometry geometry) {
    long n = geometry.headerClusters() * geometry.clusterBytes() / 4 - ImageGeometry.MAP_OFFSET;
    long[] bigger = new long[(int) n];
    System.arraycopy(slots, 0, bigger, 0, Math.min(slots.length, bigger.length));
    slots = bigger;
  }

  /** Number of slots in memory (all header clusters). */
  int slotCount() {
    return slots.length;
  }

  @Override
  public void close() throws IOException {
    file.close();
  }
}
