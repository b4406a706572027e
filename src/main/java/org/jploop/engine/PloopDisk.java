package org.jploop.engine;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jploop.format.BatLayout;
import org.jploop.format.CorruptImageException;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.io.BatValidator;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.io.NoSpaceException;

/**
 * A {@link VirtualDisk} on a stack of ploop1 deltas (base first, top last), the userspace
 * counterpart of dm-ploop. Only the top delta is written; reads fall through to the delta that owns
 * each cluster ({@code bat_levels}).
 *
 * <p>Every request is split at cluster boundaries. Per virtual cluster a striped {@link
 * ReentrantReadWriteLock} (the kernel's cluster locks / {@code exclusive_pios}) is held: shared by
 * reads and in-place writes, exclusive by allocation, COW and punch, which re-check the mapping
 * after locking. A new mapping is staged into its {@link MdPage} only after the data is written;
 * {@link MdWriteback} makes the data durable before it writes the page. Clusters come from {@link
 * ClusterAllocator}, space from {@link Preallocator}. A write that hits ENOSPC is parked and
 * retried (seed 002) instead of failing at once.
 *
 * <p>Locks: {@link #gate} is held shared by every request and exclusively by {@link #close()};
 * {@link #parkLock}'s monitor guards {@link #parkGeneration}. Counters are atomics.
 */
public final class PloopDisk implements VirtualDisk {
  private static final int LOCK_STRIPES = 256;
  private static final int ZERO_CHUNK = 64 * 1024;
  private static final ByteBuffer ZEROS = ByteBuffer.wrap(new byte[ZERO_CHUNK]).asReadOnlyBuffer();

  /**
   * One opened delta: its file, header and level (0 = base). A raw ({@code Plain}) base has no
   * header and no BAT: every cluster {@code c} inside the file is cluster {@code c} of the file,
   * loaded into the merged map as physical {@code c + 1} so that 0 still means "unmapped".
   */
  private record Delta(BlockFile file, ImageHeader header, int level) {
    boolean raw() {
      return header == null;
    }

    /** Returns the byte offset in this delta's file of merged-map cluster {@code phys}. */
    long offsetOf(long phys, long clusterBytes) {
      return (raw() ? phys - 1 : phys) * clusterBytes;
    }
  }

  private final List<Delta> deltas;
  private final Delta top;
  private final int topLevel;
  private final EngineOptions options;
  private final boolean readOnly;
  private final FormatVersion version;
  private final long clusterBytes;
  private final long dataOffset;
  private final long size;
  private final MdPage[] pages;
  /** The top header as page 0 must carry it; replaced, never mutated. */
  private volatile byte[] headerBytes;
  private final ReentrantReadWriteLock[] clusterLocks = new ReentrantReadWriteLock[LOCK_STRIPES];
  private final ReentrantLock batLock = new ReentrantLock();
  private final Preallocator prealloc;
  private final ClusterAllocator allocator;
  private final MdWriteback writeback;
  private final long delayNanos;
  private final long maxDelayNanos;

  private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
  private volatile boolean closing;
  /** Guarded by gate (write lock). */
  private boolean closed;

  private final AtomicBoolean enospcEvent = new AtomicBoolean();
  private final AtomicLong enospcEvents = new AtomicLong();
  private final AtomicLong parked = new AtomicLong();
  private final AtomicLong cowCopies = new AtomicLong();
  private final AtomicLong flushes = new AtomicLong();
  private final Object parkLock = new Object();
  /** Bumped whenever space may have been freed; parked writes retry. Guarded by parkLock. */
  private long parkGeneration;

  private PloopDisk(List<Delta> deltas, EngineOptions options, int[][] slots) throws IOException {
    this.deltas = List.copyOf(deltas);
    this.top = deltas.get(deltas.size() - 1);
    this.topLevel = top.level();
    this.options = options;
    this.readOnly = options.readOnly();
    ImageHeader th = top.header();
    this.version = th.version();
    this.clusterBytes = th.clusterSectors() * 512L;
    this.dataOffset = th.firstBlockOffset() * 512L;
    this.size = th.sizeSectors() * 512L;
    this.headerBytes = th.encode();
    this.delayNanos = TimeUnit.MILLISECONDS.toNanos(options.mdSubmitDelayMs());
    this.maxDelayNanos = TimeUnit.MILLISECONDS.toNanos(options.mdMaxDelayMs());
    for (int i = 0; i < LOCK_STRIPES; i++) {
      clusterLocks[i] = new ReentrantReadWriteLock();
    }
    long headerClusters = dataOffset / clusterBytes;
    long topLength = top.file().size();
    prealloc = new Preallocator(batLock, top.file(), topLength, options.preallocSize(),
        clusterBytes, options.fallocNewClusters());
    // hb_nr = header clusters + BAT entries, but never a cluster whose BAT value would not fit
    // in a u32 (v1 stores sectors: the file must stay below 2 TiB).
    long maxClusters = version.toPhysicalCluster(ImageGeometry.MAX_BAT_VALUE, sectorsOf(th)) + 1;
    FreeClusterBitmap holes = new FreeClusterBitmap(
        Math.min(headerClusters + th.batEntries(), maxClusters), headerClusters);
    allocator = new ClusterAllocator(batLock, holes, prealloc, top.file(), clusterBytes,
        options.fallocNewClusters());
    writeback = new MdWriteback(top.file(), th, topLevel, () -> headerBytes, allocator::release,
        options.nanoClock(), options.mdSubmitDelayMs());
    int pageCount = th.geometry().mdPageCount();
    pages = new MdPage[pageCount];
    for (int i = 0; i < pageCount; i++) {
      MdPage[] self = {null};
      MdPage page = new MdPage(i, () -> writeback.enqueue(self[0]));
      self[0] = page;
      pages[i] = page;
    }
    // Fill the merged BAT top-down: a slot set by a higher delta is never overwritten.
    for (int d = deltas.size() - 1; d >= 0; d--) {
      Delta delta = deltas.get(d);
      if (delta.raw()) {
        long rawClusters = Math.min(th.batEntries(),
            (delta.file().size() + clusterBytes - 1) / clusterBytes);
        for (long c = 0; c < rawClusters; c++) {
          MdPage page = pages[BatLayout.pageOf(c)];
          int slot = BatLayout.slotOf(c);
          if (page.physical(slot) == 0) {
            page.load(slot, c + 1, delta.level());
          }
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
        long phys = delta.header().version().toPhysicalCluster(Integer.toUnsignedLong(s[i]), sectors);
        MdPage page = pages[BatLayout.pageOf(i)];
        int slot = BatLayout.slotOf(i);
        if (page.physical(slot) == 0) {
          page.load(slot, phys, delta.level());
        }
        if (d == deltas.size() - 1) {
          holes.markUsed(phys);
        }
      }
    }
  }

  private static int sectorsOf(ImageHeader h) {
    return (int) h.clusterSectors();
  }

  /**
   * Opens a stack of deltas, base first; the last is the top and, unless {@code options.readOnly()},
   * the only one written. The files are owned by the disk from now on (closed by {@link #close()}),
   * also when this method fails.
   *
   * @throws CorruptImageException if a header or BAT entry is invalid (naming file and offset)
   * @throws ImageInUseException if the top delta is marked in use and dirty opens are not allowed
   */
  public static PloopDisk open(List<BlockFile> deltasBaseFirst, EngineOptions options)
      throws IOException {
    return open(deltasBaseFirst, false, options);
  }

  /**
   * Like {@link #open(List, EngineOptions)}; with {@code rawBase} the first file is a raw
   * ({@code Plain}) base image read through by the ploop1 deltas above it (at least one), as
   * dm-ploop stacks deltas on a raw base. The raw file is never written.
   */
  public static PloopDisk open(List<BlockFile> deltasBaseFirst, boolean rawBase,
      EngineOptions options) throws IOException {
    try {
      return openFiles(deltasBaseFirst, rawBase, options);
    } catch (IOException | RuntimeException e) {
      for (BlockFile f : deltasBaseFirst) {
        try {
          f.close();
        } catch (IOException ce) {
          e.addSuppressed(ce);
        }
      }
      throw e;
    }
  }

  /**
   * Opens image files, base first, as {@link FileBlockFile}s; lower deltas read-only. (Named
   * {@code openPaths} because {@code open(List<Path>, ...)} would erase to the same signature as
   * {@link #open(List, EngineOptions)}.)
   */
  public static PloopDisk openPaths(List<Path> deltasBaseFirst, EngineOptions options)
      throws IOException {
    return openPaths(deltasBaseFirst, false, options);
  }

  /** {@link #openPaths(List, EngineOptions)} with a raw base, as {@link #open(List, boolean,
   * EngineOptions)}. */
  public static PloopDisk openPaths(List<Path> deltasBaseFirst, boolean rawBase,
      EngineOptions options) throws IOException {
    List<BlockFile> files = new ArrayList<>();
    try {
      for (int i = 0; i < deltasBaseFirst.size(); i++) {
        boolean isTop = i == deltasBaseFirst.size() - 1;
        files.add(FileBlockFile.open(deltasBaseFirst.get(i), !isTop || options.readOnly()));
      }
    } catch (IOException e) {
      for (BlockFile f : files) {
        try {
          f.close();
        } catch (IOException ce) {
          e.addSuppressed(ce);
        }
      }
      throw e;
    }
    return open(files, rawBase, options);
  }

  private static PloopDisk openFiles(List<BlockFile> files, boolean rawBase,
      EngineOptions options) throws IOException {
    if (files.isEmpty()) {
      throw new IllegalArgumentException("no delta given");
    }
    if (rawBase && files.size() < 2) {
      throw new IllegalArgumentException("a raw base alone is served by RawDisk, not PloopDisk");
    }
    if (files.size() > 253) {
      throw new IllegalArgumentException("too many deltas: " + files.size() + " (max 253)");
    }
    BlockFile topFile = files.get(files.size() - 1);
    if (!options.readOnly() && topFile.readOnly()) {
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
        throw new CorruptImageException(f.path(), ImageHeader.OFFSET_SECTORS,
            "delta is version " + h.version().number() + " with " + h.clusterSectors()
                + "-sector clusters, but the top is version " + th.version().number() + " with "
                + th.clusterSectors());
      }
      if (h.batEntries() > th.batEntries()) {
        throw new CorruptImageException(f.path(), ImageHeader.OFFSET_SIZE,
            "lower delta has " + h.batEntries() + " BAT entries, more than the top's "
                + th.batEntries());
      }
      slots[i] = ImageReader.readBatSlots(f, h);
      BatValidator.validate(f.path(), h, slots[i], f.size());
      deltas.add(new Delta(f, h, i));
    }
    if (!options.readOnly()) {
      if (th.inUse() && !options.allowDirty()) {
        throw new ImageInUseException(topFile.path());
      }
    }
    PloopDisk disk = new PloopDisk(deltas, options, slots);
    if (!options.readOnly()) {
      disk.markInUse();
      String name = String.valueOf(topFile.path().getFileName());
      if (options.backgroundThreads()) {
        disk.writeback.start(name);
        disk.prealloc.start(name);
      }
    }
    return disk;
  }

  /** Writes m_DiskInUse = in use and forces it, before any write is served. */
  private void markInUse() throws IOException {
    reserveBatArea();
    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, (int) ImageHeader.IN_USE);
    top.file().write(b, ImageHeader.OFFSET_DISK_IN_USE);
    top.file().force();
    ImageHeader h = ImageReader.readHeader(top.file());
    headerBytes = h.encode();
  }

  /**
   * Gives the header clusters real blocks (fallocate mode 0 keeps their contents), as ploop does by
   * writing the zeroed BAT at init. A sparse BAT area would make md page writeback need new blocks
   * and so fail with ENOSPC on a full host filesystem, when parked writes need it most. Best
   * effort: a host without fallocate, or already full, keeps the old behaviour.
   */
  private void reserveBatArea() {
    try {
      top.file().allocate(0, dataOffset);
    } catch (IOException e) {
      // not fatal: writeback retries a failed page write, and flush reports it
    }
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public boolean readOnly() {
    return readOnly;
  }

  /** Returns the cluster size in bytes. */
  public long clusterBytes() {
    return clusterBytes;
  }

  // ---- request admission ----

  private void enter() throws IOException {
    gate.readLock().lock();
    if (closing) {
      gate.readLock().unlock();
      throw new IOException(top.file().path() + ": disk is closed");
    }
  }

  private void exit() {
    gate.readLock().unlock();
  }

  private void checkRange(long offset, long length) throws EOFException {
    if (offset < 0 || length < 0 || length > size - offset) {
      throw new EOFException(top.file().path() + ": range offset " + offset + " length " + length
          + " is outside the disk of " + size + " bytes");
    }
  }

  private void checkWritable() throws IOException {
    if (readOnly) {
      throw new IOException(top.file().path() + ": disk is open read-only");
    }
  }

  private ReentrantReadWriteLock lockOf(long cluster) {
    return clusterLocks[(int) ((cluster * 0x9E3779B97F4A7C15L) >>> 56) & (LOCK_STRIPES - 1)];
  }

  /** Returns {@code level << 32 | physical} of a virtual cluster. */
  private long lookup(long cluster) {
    return pages[BatLayout.pageOf(cluster)].lookup(BatLayout.slotOf(cluster));
  }

  private static long physOf(long entry) {
    return entry & 0xFFFFFFFFL;
  }

  private static int levelOf(long entry) {
    return (int) (entry >>> 32);
  }

  /** A per-cluster piece of a request. */
  @FunctionalInterface
  private interface Piece {
    void run(long cluster, int inOff, int len, int bufPos) throws IOException;
  }

  private void split(long offset, long length, Piece piece) throws IOException {
    long pos = offset;
    long end = offset + length;
    int bufPos = 0;
    while (pos < end) {
      long c = pos / clusterBytes;
      int inOff = (int) (pos % clusterBytes);
      int n = (int) Math.min(clusterBytes - inOff, end - pos);
      piece.run(c, inOff, n, bufPos);
      pos += n;
      bufPos += n;
    }
  }

  // ---- read ----

  @Override
  public void read(ByteBuffer dst, long offset) throws IOException {
    checkRange(offset, dst.remaining());
    enter();
    try {
      int base = dst.position();
      split(offset, dst.remaining(), (c, inOff, len, bufPos) ->
          readPiece(c, inOff, dst.slice(base + bufPos, len)));
      dst.position(dst.limit());
    } finally {
      exit();
    }
  }

  private void readPiece(long c, int inOff, ByteBuffer piece) throws IOException {
    Lock l = lockOf(c).readLock();
    l.lock();
    try {
      long e = lookup(c);
      long p = physOf(e);
      if (p == 0) {
        zeroFill(piece);
      } else {
        Delta d = deltas.get(levelOf(e));
        d.file().read(piece, d.offsetOf(p, clusterBytes) + inOff);
      }
    } finally {
      l.unlock();
    }
  }

  private static void zeroFill(ByteBuffer b) {
    while (b.hasRemaining()) {
      int n = Math.min(ZERO_CHUNK, b.remaining());
      b.put(ZEROS.slice(0, n));
    }
  }

  /** Returns whether every remaining byte of {@code b} is zero (position unchanged). */
  static boolean isAllZero(ByteBuffer b) {
    int pos = b.position();
    int end = b.limit();
    while (pos < end) {
      int n = Math.min(ZERO_CHUNK, end - pos);
      if (b.slice(pos, n).mismatch(ZEROS.slice(0, n)) != -1) {
        return false;
      }
      pos += n;
    }
    return true;
  }

  // ---- write ----

  @Override
  public void write(ByteBuffer src, long offset) throws IOException {
    checkRange(offset, src.remaining());
    checkWritable();
    enter();
    try {
      int base = src.position();
      split(offset, src.remaining(), (c, inOff, len, bufPos) ->
          retryOnEnospc(() -> writePiece(c, inOff, src.slice(base + bufPos, len))));
      src.position(src.limit());
    } finally {
      exit();
    }
  }

  private void writePiece(long c, int inOff, ByteBuffer piece) throws IOException {
    Lock shared = lockOf(c).readLock();
    shared.lock();
    try {
      long e = lookup(c);
      if (physOf(e) != 0 && levelOf(e) == topLevel) {
        top.file().write(piece.duplicate(), physOf(e) * clusterBytes + inOff);
        return;
      }
    } finally {
      shared.unlock();
    }
    Lock excl = lockOf(c).writeLock();
    excl.lock();
    try {
      long e = lookup(c);
      long p = physOf(e);
      if (p != 0 && levelOf(e) == topLevel) {
        top.file().write(piece.duplicate(), p * clusterBytes + inOff);
      } else if (p == 0) {
        if (isAllZero(piece)) {
          return; // nothing to allocate: the cluster reads zeros already
        }
        long q = allocator.allocate();
        try {
          top.file().write(piece.duplicate(), q * clusterBytes + inOff);
          stage(c, q, -1);
        } catch (IOException | RuntimeException ex) {
          allocator.free(q);
          throw ex;
        }
      } else {
        ByteBuffer whole = readLowerCluster(c, e);
        whole.put(inOff, piece.duplicate(), piece.position(), piece.remaining());
        copyUp(c, whole);
      }
    } finally {
      excl.unlock();
    }
  }

  /** Reads the whole cluster {@code c} from the lower delta named by {@code entry}. */
  private ByteBuffer readLowerCluster(long c, long entry) throws IOException {
    ByteBuffer whole = ByteBuffer.allocate((int) clusterBytes);
    Delta d = deltas.get(levelOf(entry));
    d.file().read(whole, d.offsetOf(physOf(entry), clusterBytes));
    whole.clear();
    return whole;
  }

  /** COW: writes {@code whole} to a new top cluster and maps {@code c} to it. */
  private void copyUp(long c, ByteBuffer whole) throws IOException {
    assert lockOf(c).isWriteLockedByCurrentThread();
    long q = allocator.allocate();
    try {
      top.file().write(whole.duplicate(), q * clusterBytes);
      stage(c, q, -1);
    } catch (IOException | RuntimeException ex) {
      allocator.free(q);
      throw ex;
    }
    cowCopies.incrementAndGet();
  }

  /**
   * Stages {@code c -> q} (top level) into its md page; if {@code freed >= 0}, {@code c} is
   * unmapped instead and {@code freed} is released after the page is durable (HIGHPRIO).
   */
  private void stage(long c, long q, long freed) throws IOException {
    assert lockOf(c).isWriteLockedByCurrentThread();
    MdPage page = pages[BatLayout.pageOf(c)];
    MdPage.Update u = page.beginUpdate();
    try {
      if (freed >= 0) {
        u.set(BatLayout.slotOf(c), 0, 0);
        u.freeAfterWriteback(freed);
      } else {
        u.set(BatLayout.slotOf(c), q, topLevel);
      }
      u.commit(options.nanoClock().getAsLong(), delayNanos, maxDelayNanos);
    } catch (RuntimeException ex) {
      u.abort();
      throw ex;
    }
    // A page holding freed clusters is raised to HIGHPRIO by discard() once the whole request is
    // staged, so a large punch (fstrim sends up to 128 MiB) costs one write per page, not one per
    // cluster.
    if (freed < 0 && delayNanos == 0) {
      writeback.wake();
    }
  }

  // ---- punch / zero range ----

  @Override
  public void punchHole(long offset, long length) throws IOException {
    discard(offset, length);
  }

  @Override
  public void zeroRange(long offset, long length) throws IOException {
    discard(offset, length);
  }

  private void discard(long offset, long length) throws IOException {
    checkRange(offset, length);
    checkWritable();
    enter();
    try {
      split(offset, length, (c, inOff, len, bufPos) ->
          retryOnEnospc(() -> discardPiece(c, inOff, len)));
    } finally {
      if (length > 0) {
        raisePriority(offset / clusterBytes, (offset + length - 1) / clusterBytes);
      }
      exit();
    }
  }

  /**
   * Raises the dirty md pages covering clusters {@code first..last} to HIGHPRIO and wakes the
   * writeback: freed clusters become reusable only once their zeroed entries are durable, so the
   * pages are written at once rather than after the delay (the kernel's discard does the same).
   */
  private void raisePriority(long first, long last) {
    boolean raised = false;
    for (int p = BatLayout.pageOf(first); p <= BatLayout.pageOf(last); p++) {
      raised |= pages[p].raisePriority();
    }
    if (raised) {
      writeback.wake();
    }
  }

  private void discardPiece(long c, int inOff, int len) throws IOException {
    long clusterEnd = Math.min(clusterBytes, size - c * clusterBytes);
    boolean whole = inOff == 0 && len >= clusterEnd;
    Lock excl = lockOf(c).writeLock();
    excl.lock();
    try {
      long e = lookup(c);
      long p = physOf(e);
      if (p == 0) {
        return;
      }
      if (levelOf(e) == topLevel) {
        if (!whole) {
          top.file().punchHole(p * clusterBytes + inOff, len);
          return;
        }
        top.file().punchHole(p * clusterBytes, clusterBytes);
        if (deltas.size() == 1) {
          stage(c, 0, p);
        }
        // With lower deltas the mapping stays: the punched cluster reads zeros, not lower data.
        wakeParked();
      } else if (whole) {
        long q = allocator.allocate(); // reads zeros: fresh, or punched before reuse
        try {
          stage(c, q, -1);
        } catch (IOException | RuntimeException ex) {
          allocator.free(q);
          throw ex;
        }
      } else {
        ByteBuffer w = readLowerCluster(c, e);
        for (int i = 0; i < len; i += ZERO_CHUNK) {
          int n = Math.min(ZERO_CHUNK, len - i);
          w.put(inOff + i, ZEROS, 0, n);
        }
        copyUp(c, w);
      }
    } finally {
      excl.unlock();
    }
  }

  // ---- ENOSPC parking (seed 002) ----

  @FunctionalInterface
  private interface IoAction {
    void run() throws IOException;
  }

  private void retryOnEnospc(IoAction action) throws IOException {
    long start = System.nanoTime();
    long timeout = TimeUnit.MILLISECONDS.toNanos(options.enospcTimeoutMs());
    long retry = TimeUnit.MILLISECONDS.toNanos(options.enospcRetryMs());
    while (true) {
      try {
        action.run();
        return;
      } catch (NoSpaceException e) {
        long elapsed = System.nanoTime() - start;
        if (timeout == 0 || closing || elapsed >= timeout) {
          throw e;
        }
        park(Math.min(retry, timeout - elapsed));
        if (closing) {
          throw e;
        }
      }
    }
  }

  /**
   * Parks the calling request (it holds no cluster lock): raises the ENOSPC event, then sleeps
   * until the retry time, a wake-up (space freed by a punch, close), or more free host space.
   */
  private void park(long nanos) throws IOException {
    enospcEvents.incrementAndGet();
    enospcEvent.set(true);
    parked.incrementAndGet();
    try {
      long space0 = usableSpace();
      long deadline = System.nanoTime() + nanos;
      synchronized (parkLock) {
        long gen = parkGeneration;
        while (parkGeneration == gen && !closing) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          parkLock.wait(Math.max(1, Math.min(500, TimeUnit.NANOSECONDS.toMillis(left))));
          if (space0 >= 0 && usableSpace() > space0) {
            break;
          }
        }
      }
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while parked on ENOSPC");
    } finally {
      parked.decrementAndGet();
    }
  }

  private long usableSpace() {
    Path p = top.file().path();
    try {
      return p != null && Files.exists(p) ? Files.getFileStore(p).getUsableSpace() : -1;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Lets parked writes retry now. */
  private void wakeParked() {
    synchronized (parkLock) {
      parkGeneration++;
      parkLock.notifyAll();
    }
  }

  @Override
  public boolean takeEnospcEvent() {
    return enospcEvent.getAndSet(false);
  }

  // ---- flush / close ----

  @Override
  public void flush() throws IOException {
    enter();
    try {
      if (!readOnly) {
        writeback.flush();
      }
      flushes.incrementAndGet();
    } finally {
      exit();
    }
  }

  /** Runs one writeback cycle now (only due pages); for tests without background threads. */
  int runWritebackCycle() throws IOException {
    return writeback.runCycle(false);
  }

  /** Runs one preallocation round now; for tests without background threads. */
  IOException runPreallocator() {
    return prealloc.preallocate();
  }

  /** Returns the md page with number {@code id}; for tests. */
  MdPage page(int id) {
    return pages[id];
  }

  /** Returns whether top cluster {@code physical} is in the free set; for tests. */
  boolean isClusterFree(long physical) {
    return allocator.isFree(physical);
  }

  /** Returns {@code level << 32 | physical} of virtual cluster {@code c}; for tests. */
  long mapping(long c) {
    return lookup(c);
  }

  /** Returns the number of preallocation bytes requested and not yet served; for tests. */
  long preallocRequested() {
    batLock.lock();
    try {
      return prealloc.requestedLocked();
    } finally {
      batLock.unlock();
    }
  }

  @Override
  public void close() throws IOException {
    closing = true;
    wakeParked();
    gate.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      IOException err = null;
      if (!readOnly) {
        writeback.stop();
        prealloc.stop();
        try {
          writeback.flush();
          long usedEnd = Math.max(dataOffset, allocator.usedEnd());
          prealloc.truncateTail(usedEnd);
          ImageHeader h = ImageReader.readHeader(top.file());
          long flags = h.flags();
          if (usedEnd > dataOffset) {
            flags &= ~ImageHeader.CIF_EMPTY;
          }
          ImageHeader closedHeader = h.withFlags(flags).withDiskInUse(ImageHeader.CLOSED_V20);
          headerBytes = closedHeader.encode();
          top.file().write(ByteBuffer.wrap(closedHeader.encode()), 0);
          top.file().force();
        } catch (IOException e) {
          err = e;
        }
      }
      for (Delta d : deltas) {
        try {
          d.file().close();
        } catch (IOException e) {
          if (err == null) {
            err = e;
          } else {
            err.addSuppressed(e);
          }
        }
      }
      if (err != null) {
        throw err;
      }
    } finally {
      gate.writeLock().unlock();
    }
  }

  @Override
  public DiskStats stats() {
    long fileSize;
    long areaStart;
    long preallocated;
    batLock.lock();
    try {
      fileSize = prealloc.fileSizeLocked();
      areaStart = prealloc.areaStartLocked();
      preallocated = prealloc.preallocatedBytesLocked();
    } finally {
      batLock.unlock();
    }
    return new DiskStats(allocator.allocatedCount(), allocator.holesReusedCount(),
        allocator.freedCount(), cowCopies.get(), writeback.pageWrites(), flushes.get(),
        preallocated, fileSize, areaStart, enospcEvents.get(), parked.get());
  }
}
