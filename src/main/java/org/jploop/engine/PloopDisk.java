package org.jploop.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.jploop.format.CorruptImageException;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;
import org.jploop.io.CbtStore;
import org.jploop.io.FileBlockFile;

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
 *   <li>{@link ChangeTracking}: the CBT ({@link ChangedBlockTracker}, ploop's changed-block
 *       tracking) and copy-sender trackers, marked when a write, punch or zero-range completes.
 * </ul>
 *
 * <p>CBT life cycle (ploop's, §2.3 of the verbs notes): a read-write open of a top closed as
 * v2.1 loads the dirty bitmap of its Format Extension and cuts the extension's clusters off the
 * file end; a bad extension is not used (its message is in {@link #cbtProblems()}) and the
 * header's pointer is cleared with the in-use marker either way. A clean {@link #close()} with a
 * CBT running appends the bitmap and marks the top v2.1. A crash leaves the top in use, and
 * {@code ploop check} then clears the pointer: CBT does not survive a crash.
 *
 * <p>Locks: the {@link RequestGate} is held shared by every request and exclusively by {@link
 * #close()}; {@link #closed} is guarded by its exclusive side. {@code bat_lock} ({@link
 * #batLock}) is shared by the allocator and the preallocator. Counters are atomics.
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
  /** Why a CBT could not be loaded at open or saved at close; for the caller's log. */
  private final List<String> cbtProblems = new CopyOnWriteArrayList<>();
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
    long headerClusters = dataOffset / clusterBytes;
    long topLength = topFile.size();
    prealloc = new Preallocator(batLock, topFile, topLength, options.preallocSize(),
        clusterBytes, options.fallocNewClusters());
    // hb_nr = header clusters + BAT entries, but never a cluster whose BAT value would not fit
    // in a u32 (v1 stores sectors: the file must stay below 2 TiB).
    long maxClusters = th.version().toPhysicalCluster(ImageGeometry.MAX_BAT_VALUE,
        (int) th.clusterSectors()) + 1;
    FreeClusterBitmap holes = new FreeClusterBitmap(
        Math.min(headerClusters + th.batEntries(), maxClusters), headerClusters);
    allocator = new ClusterAllocator(batLock, holes, prealloc, topFile, clusterBytes,
        options.fallocNewClusters());
    writeback = new MdWriteback(topFile, th, stack.topLevel(), header::bytes, allocator::release,
        options.nanoClock(), options.mdSubmitDelayMs());
    bat = new MergedBat(th.geometry().mdPageCount(), locks, writeback, stack.topLevel(), options);
    stack.loadInto(bat, holes);
    cow = new CopyOnWrite(stack, locks, bat, allocator);
    writer = new ClusterWriter(stack, locks, bat, allocator, cow);
    parking = new EnospcParking(topFile.path(), gate, options);
    discarder = new Discarder(stack, locks, bat, allocator, cow, parking);
    tracking = new ChangeTracking(size);
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
      closeAll(deltasBaseFirst, e);
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
      closeAll(files, e);
      throw e;
    }
    return open(files, rawBase, options);
  }

  private static void closeAll(List<BlockFile> files, Exception e) {
    for (BlockFile f : files) {
      try {
        f.close();
      } catch (IOException ce) {
        e.addSuppressed(ce);
      }
    }
  }

  private static PloopDisk openFiles(List<BlockFile> files, boolean rawBase,
      EngineOptions options) throws IOException {
    DeltaStack stack = DeltaStack.open(files, rawBase, options.readOnly());
    if (!options.readOnly()) {
      if (stack.top().header().inUse() && !options.allowDirty()) {
        throw new ImageInUseException(stack.top().file().path());
      }
    }
    CbtStore.Stored cbt = null;
    String cbtProblem = null;
    if (!options.readOnly()) {
      try {
        cbt = CbtStore.read(stack.top().file(), stack.top().header(), stack.topDataEnd());
      } catch (IOException | RuntimeException e) {
        cbtProblem = "Error while loading optional header, CBT not loaded: " + e.getMessage();
      }
    }
    PloopDisk disk = new PloopDisk(stack, options);
    if (cbtProblem != null) {
      disk.cbtProblems.add(cbtProblem);
    }
    if (!options.readOnly()) {
      disk.header.markInUse();
      if (cbt != null) {
        BlockFile top = stack.top().file();
        disk.prealloc.truncateTail(CbtStore.trimmedEnd(cbt, top.size(), disk.clusterBytes));
        disk.tracking.startCbt(ChangedBlockTracker.of(cbt.bitmap()));
      }
      String name = String.valueOf(stack.top().file().path().getFileName());
      if (options.backgroundThreads()) {
        disk.writeback.start(name);
        disk.prealloc.start(name);
      }
    }
    return disk;
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
      gate.split(offset, dst.remaining(), (c, inOff, len, bufPos) ->
          readPiece(c, inOff, dst.slice(base + bufPos, len)));
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
      gate.split(offset, length, (c, inOff, len, bufPos) ->
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
      gate.split(offset, length, (c, inOff, len, bufPos) ->
          parking.retry(() -> discarder.discard(c, inOff, len)));
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
          String problem = header.markClosed(usedEnd,
              tracking.cbt().map(ChangedBlockTracker::snapshot).orElse(null));
          if (problem != null) {
            cbtProblems.add(problem);
          }
        } catch (IOException e) {
          err = e;
        }
      }
      for (Delta d : stack.all()) {
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
      gate.release();
    }
  }

  // ---- change tracking ----

  /** Returns the CBT (ploop's changed-block tracking) if one runs. */
  public Optional<ChangedBlockTracker> cbt() {
    return tracking.cbt();
  }

  /**
   * Starts a CBT named {@code id} with granules of {@code granularityBytes} ({@code BLKCBTSTART};
   * ploop's default block size is 64 KiB). It is saved into the top delta at a clean close.
   *
   * @throws IllegalStateException if a CBT runs already
   * @throws IOException if the disk is read-only or closed
   */
  public ChangedBlockTracker startCbt(UUID id, long granularityBytes) throws IOException {
    ChangedBlockTracker t = new ChangedBlockTracker(id, size, granularityBytes);
    adoptCbt(t);
    return t;
  }

  /**
   * Makes {@code t} this disk's CBT: one {@link #stopCbt() stopped} on the disk's previous
   * incarnation (an online operation closes and reopens the engine; the kernel keeps CBT across
   * table reloads), or one received with a copy.
   *
   * @throws IllegalStateException if a CBT runs already
   * @throws IllegalArgumentException if {@code t} has no name or covers another size
   * @throws IOException if the disk is read-only or closed
   */
  public void adoptCbt(ChangedBlockTracker t) throws IOException {
    gate.checkWritable();
    if (gate.closing()) {
      throw new IOException(stack.top().file().path() + ": disk is closed");
    }
    tracking.startCbt(t);
  }

  /**
   * Stops the CBT ({@code BLKCBTSTOP}): nothing more is marked and nothing is saved at close.
   * Returns it (to hand to a reopened disk with {@link #adoptCbt}), empty if none ran.
   */
  public Optional<ChangedBlockTracker> stopCbt() {
    return tracking.stopCbt();
  }

  /**
   * Starts an unnamed tracker for a live-copy sender: from now on every completed write, punch
   * and zero-range marks it, until {@link #stopTracking}. The sender takes the dirty set with
   * {@link ChangedBlockTracker#takeAndClear()} (atomic per word: a write completing meanwhile is
   * either in that set or in the next), then reads what it names through {@link #read}.
   */
  public ChangedBlockTracker startTracking(long granularityBytes) {
    ChangedBlockTracker t = new ChangedBlockTracker(null, size, granularityBytes);
    tracking.addSender(t);
    return t;
  }

  /** Stops a tracker of {@link #startTracking}; returns whether it was running. */
  public boolean stopTracking(ChangedBlockTracker t) {
    return tracking.removeSender(t);
  }

  /**
   * Returns why a CBT found in the top could not be loaded at open, or could not be saved at
   * close (ploop only logs these: the disk works without CBT); for the caller's log.
   */
  public List<String> cbtProblems() {
    return List.copyOf(cbtProblems);
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
        allocator.freedCount(), cow.copies(), writeback.pageWrites(), flushes.get(),
        preallocated, fileSize, areaStart, parking.events(), parking.parkedNow());
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
  long preallocRequested() {
    batLock.lock();
    try {
      return prealloc.requestedLocked();
    } finally {
      batLock.unlock();
    }
  }
}
