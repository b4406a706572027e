package org.jploop.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.jploop.format.CorruptImageException;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;
import org.jploop.io.CbtStore;

/**
 * A {@link VirtualDisk} on a stack of ploop1 deltas (base first, top last), the userspace
 * counterpart of dm-ploop ({@code struct ploop}). This class opens and closes the disk and routes
 * each request through the parts that are one idea of the kernel driver each:
 *
 * <ul>
 *   <li>{@link RequestGate}: range checks, the suspend gate close shuts, the split at cluster
 *       boundaries;
 *   <li>{@link DeltaStack}: the deltas and the read path ({@code bat_levels});
 *   <li>{@link MergedBat} of {@link MdPage}s, written back by {@link MdWriteback};
 *   <li>{@link ClusterWriter} (write path), {@link CopyOnWrite}, {@link Discarder} (punch,
 *       zero-range), all under the {@link ClusterLocks};
 *   <li>{@link ClusterAllocator} with {@link FreeClusterBitmap} and {@link Preallocator};
 *   <li>{@link EnospcParking}: a piece that hits ENOSPC is parked and retried (seed 002);
 *   <li>{@link TopHeader}: the in-use marker of the top delta, and the CBT saved at close;
 *   <li>{@link ChangeTracking} ({@link #tracking()}): the CBT ({@link ChangedBlockTracker}, ploop's
 *       changed-block tracking; loaded at a read-write open, saved at a clean close) and
 *       copy-sender trackers, marked when a write, punch or zero-range completes.
 * </ul>
 *
 * <p>Locks: the {@link RequestGate} is held shared by every request and exclusively by {@link
 * #close()}; {@link #closed} is guarded by its exclusive side. {@code bat_lock} ({@link #batLock})
 * is shared by the allocator and the preallocator. Counters are atomics.
 */
public final class PloopDisk implements VirtualDisk {
  private final DeltaStack stack;
  private final boolean readOnly;
  private final long size;
  private final long clusterBytes;
  private final long dataOffset;
  private final RequestGate gate;
  private final ClusterLocks locks = new ClusterLocks();
  private final ReentrantLock batLock = new ReentrantLock();
  private final TopHeader header;
  private final Preallocator prealloc;
  private final ClusterAllocator allocator;
  private final MdWriteback writeback;
  private final MergedBat bat;
  private final CopyOnWrite cow;
  private final ClusterWriter writer;
  private final EnospcParking parking;
  private final Discarder discarder;
  private final ChangeTracking tracking;
  private final AtomicLong flushes = new AtomicLong();

  /** Guarded by the gate's exclusive side. */
  private boolean closed;

  private PloopDisk(DeltaStack stack, EngineOptions options) throws IOException {
    this.stack = stack;
    this.readOnly = options.readOnly();
    ImageHeader th = stack.top().header();
    BlockFile topFile = stack.top().file();
    this.size = stack.size();
    this.clusterBytes = stack.clusterBytes();
    this.dataOffset = stack.dataOffset();
    this.gate = new RequestGate(topFile.path(), size, clusterBytes, readOnly);
    this.header = new TopHeader(topFile, th);
    prealloc =
        new Preallocator(
            batLock,
            topFile,
            topFile.size(),
            options.preallocSize(),
            clusterBytes,
            options.fallocNewClusters());
    FreeClusterBitmap holes = FreeClusterBitmap.forTop(th);
    allocator =
        new ClusterAllocator(
            batLock, holes, prealloc, topFile, clusterBytes, options.fallocNewClusters());
    writeback =
        new MdWriteback(
            topFile,
            th,
            stack.topLevel(),
            header::bytes,
            allocator::release,
            options.nanoClock(),
            options.mdSubmitDelayMs());
    bat = new MergedBat(th.geometry().mdPageCount(), locks, writeback, stack.topLevel(), options);
    stack.loadInto(bat, holes);
    cow = new CopyOnWrite(stack, locks, bat, allocator);
    writer = new ClusterWriter(stack, locks, bat, allocator, cow);
    parking = new EnospcParking(topFile.path(), gate, options);
    discarder = new Discarder(stack, locks, bat, allocator, cow, parking);
    tracking = new ChangeTracking(size, gate, String.valueOf(topFile.path()));
  }

  /**
   * Opens a stack of deltas, base first; the last is the top and, unless {@code
   * options.readOnly()}, the only one written. The files are owned by the disk from now on (closed
   * by {@link #close()}), also when this method fails.
   *
   * @throws CorruptImageException if a header or BAT entry is invalid (naming file and offset)
   * @throws ImageInUseException if the top delta is marked in use and dirty opens are not allowed
   */
  public static PloopDisk open(List<BlockFile> deltasBaseFirst, EngineOptions options)
      throws IOException {
    return open(deltasBaseFirst, false, options);
  }

  /**
   * Like {@link #open(List, EngineOptions)}; with {@code rawBase} the first file is a raw ({@code
   * Plain}) base image read through by the ploop1 deltas above it (at least one), as dm-ploop
   * stacks deltas on a raw base. The raw file is never written.
   */
  public static PloopDisk open(
      List<BlockFile> deltasBaseFirst, boolean rawBase, EngineOptions options) throws IOException {
    try {
      return openFiles(deltasBaseFirst, rawBase, options);
    } catch (IOException | RuntimeException e) {
      DeltaStack.closeAll(deltasBaseFirst, e);
      throw e;
    }
  }

  /**
   * Opens image files, base first; lower deltas read-only. (Named {@code openPaths} because {@code
   * open(List<Path>, ...)} would erase to the signature of {@link #open(List, EngineOptions)}.)
   */
  public static PloopDisk openPaths(List<Path> deltasBaseFirst, EngineOptions options)
      throws IOException {
    return openPaths(deltasBaseFirst, false, options);
  }

  /**
   * {@link #openPaths(List, EngineOptions)} with a raw base, as {@link #open(List, boolean,
   * EngineOptions)}.
   */
  public static PloopDisk openPaths(
      List<Path> deltasBaseFirst, boolean rawBase, EngineOptions options) throws IOException {
    return open(DeltaStack.openFiles(deltasBaseFirst, options.readOnly()), rawBase, options);
  }

  private static PloopDisk openFiles(List<BlockFile> files, boolean rawBase, EngineOptions options)
      throws IOException {
    DeltaStack stack = DeltaStack.open(files, rawBase, options.readOnly());
    if (!options.readOnly() && stack.top().header().inUse() && !options.allowDirty()) {
      throw new ImageInUseException(stack.top().file().path());
    }
    PloopDisk disk = new PloopDisk(stack, options);
    if (!options.readOnly()) {
      disk.startWriting(options.backgroundThreads());
    }
    return disk;
  }

  /**
   * The read-write part of open, before any request: the saved CBT read, the top marked in use
   * (which clears the extension pointer), the extension's clusters cut off, the CBT running, the
   * writeback and preallocation threads started.
   */
  private void startWriting(boolean backgroundThreads) throws IOException {
    BlockFile top = stack.top().file();
    CbtStore.Stored saved = tracking.readSaved(stack);
    header.markInUse();
    if (saved != null) {
      prealloc.truncateTail(CbtStore.trimmedEnd(saved, top.size(), clusterBytes));
      tracking.adoptCbt(ChangedBlockTracker.of(saved.bitmap()));
    }
    if (backgroundThreads) {
      String name = String.valueOf(top.path().getFileName());
      writeback.start(name);
      prealloc.start(name);
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

  // ---- requests ----

  @Override
  public void read(ByteBuffer dst, long offset) throws IOException {
    gate.checkRange(offset, dst.remaining());
    gate.enter();
    try {
      int base = dst.position();
      gate.split(
          offset,
          dst.remaining(),
          (c, inOff, len, bufPos) -> readPiece(c, inOff, dst.slice(base + bufPos, len)));
      dst.position(dst.limit());
    } finally {
      gate.exit();
    }
  }

  private void readPiece(long c, int inOff, ByteBuffer piece) throws IOException {
    Lock l = locks.of(c).readLock();
    l.lock();
    try {
      long e = bat.lookup(c);
      if (MergedBat.physOf(e) == 0) {
        Zeros.fill(piece);
      } else {
        stack.read(e, inOff, piece);
      }
    } finally {
      l.unlock();
    }
  }

  @Override
  public void write(ByteBuffer src, long offset) throws IOException {
    gate.checkRange(offset, src.remaining());
    gate.checkWritable();
    gate.enter();
    int length = src.remaining();
    try {
      int base = src.position();
      gate.split(
          offset,
          length,
          (c, inOff, len, bufPos) ->
              parking.retry(() -> writer.write(c, inOff, src.slice(base + bufPos, len))));
      src.position(src.limit());
    } finally {
      tracking.mark(offset, length);
      gate.exit();
    }
  }

  @Override
  public void punchHole(long offset, long length) throws IOException {
    discard(offset, length);
  }

  @Override
  public void zeroRange(long offset, long length) throws IOException {
    discard(offset, length);
  }

  private void discard(long offset, long length) throws IOException {
    gate.checkRange(offset, length);
    gate.checkWritable();
    gate.enter();
    try {
      gate.split(
          offset,
          length,
          (c, inOff, len, bufPos) -> parking.retry(() -> discarder.discard(c, inOff, len)));
    } finally {
      if (length > 0) {
        bat.raisePriority(offset / clusterBytes, (offset + length - 1) / clusterBytes);
      }
      tracking.mark(offset, length);
      gate.exit();
    }
  }

  @Override
  public boolean takeEnospcEvent() {
    return parking.takeEvent();
  }

  // ---- flush / close ----

  @Override
  public void flush() throws IOException {
    gate.enter();
    try {
      if (!readOnly) {
        writeback.flush();
      }
      flushes.incrementAndGet();
    } finally {
      gate.exit();
    }
  }

  @Override
  public void close() throws IOException {
    gate.beginClose();
    parking.wake();
    gate.shut();
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
          String problem = header.markClosed(usedEnd, tracking.cbtToSave());
          if (problem != null) {
            tracking.addProblem(problem);
          }
        } catch (IOException e) {
          err = e;
        }
      }
      IOException closeErr = DeltaStack.closeAll(stack.files(), err);
      if (err != null || closeErr != null) {
        throw err != null ? err : closeErr;
      }
    } finally {
      gate.release();
    }
  }

  /**
   * Returns whether virtual cluster {@code cluster} is mapped in the top delta (its md page as in
   * memory, so mappings whose BAT writeback is still delayed count): the first pass of a live copy
   * sends exactly these ({@code ploop_copy_start}'s bitmap of the top delta's BAT).
   */
  public boolean mappedInTop(long cluster) {
    long e = bat.lookup(cluster);
    return MergedBat.physOf(e) != 0 && MergedBat.levelOf(e) == stack.topLevel();
  }

  /**
   * Returns the disk's change tracking: its CBT (ploop's changed-block tracking) and the trackers a
   * live-copy sender starts and stops.
   */
  public ChangeTracking tracking() {
    return tracking;
  }

  @Override
  // prealloc was built with this same bat_lock, which Error Prone cannot see
  @SuppressWarnings("GuardedBy")
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
    return new DiskStats(
        allocator.allocatedCount(),
        allocator.holesReusedCount(),
        allocator.freedCount(),
        cow.copies(),
        writeback.pageWrites(),
        flushes.get(),
        preallocated,
        fileSize,
        areaStart,
        parking.events(),
        parking.parkedNow());
  }

  // ---- for tests ----

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
    return bat.page(id);
  }

  /** Returns whether top cluster {@code physical} is in the free set; for tests. */
  boolean isClusterFree(long physical) {
    return allocator.isFree(physical);
  }

  /** Returns {@code level << 32 | physical} of virtual cluster {@code c}; for tests. */
  long mapping(long c) {
    return bat.lookup(c);
  }

  /** Returns the number of preallocation bytes requested and not yet served; for tests. */
  // prealloc was built with this same bat_lock, which Error Prone cannot see
  @SuppressWarnings("GuardedBy")
  long preallocRequested() {
    batLock.lock();
    try {
      return prealloc.requestedLocked();
    } finally {
      batLock.unlock();
    }
  }
}
