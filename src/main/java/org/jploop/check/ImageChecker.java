package org.jploop.check;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.jploop.format.BadExtensionException;
import org.jploop.format.CorruptImageException;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.BlockFile;
import org.jploop.io.CbtStore;
import org.jploop.io.DiskLock;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;

/**
 * {@code ploop check} (lib/check.c, ploop_check): verifies one ploop1 image, or every delta of a
 * DiskDescriptor.xml chain, and repairs what the flags allow.
 *
 * <p>Order, as ploop's: header (fatal on any bad field); file size a multiple of the cluster (else
 * stop with success unless {@code -f} rounds it up); a clean image without {@code -f} or {@code -c}
 * is not scanned; an interrupted version conversion stops the check; then every BAT slot of the
 * header clusters: past the disk size (soft fix: zero it), misaligned v1 entry (hard fix), cluster
 * past EOF (hard fix), and with {@code -c} a cluster used twice or inside the header (never fixed).
 * Then jploop's additions: the Format Extension (CBT) of a clean image (valid: its clusters belong
 * to the image; bad, or left on a v2.0 image: pointer cleared with {@code -f}/{@code -F}); file
 * space after the last used cluster (qemu-img's "leak"), truncated with {@code -f}/{@code -F}; and,
 * as ploop 1.15 does for a clean image, a CIF_Empty flag that disagrees with the BAT (qemu-img
 * leaves it set), corrected with {@code -f}/{@code -F}. Finally the verdict: fatal findings, else a
 * set in-use flag without {@code -d}, else unrepaired soft findings; with {@code -d} a clean dirty
 * image gets its header reset (in-use 0, flags 0, no extension: CBT does not survive a crash, as in
 * ploop).
 *
 * <p>The image is read through a read-only handle; a read-write handle is opened only for a fix the
 * flags allow, so a check without repair flags leaves the file byte-identical, mtime included.
 * Repairs and the descriptor form hold the disk's {@link DiskLock}. Stateless and thread-safe.
 */
public final class ImageChecker {
  private ImageChecker() {}

  /**
   * Checks one image file. Repairs take the {@link DiskLock} of the DiskDescriptor.xml in the
   * image's directory, if there is one.
   *
   * @param log told each finding as soon as it is known
   * @throws CorruptImageException for a bad header (exit 11)
   * @throws DiskBusyException if a repair is asked while the disk's lock is held
   */
  public static CheckResult checkImage(Path image, CheckOptions options, Consumer<Finding> log)
      throws IOException {
    if (!options.repairs()) {
      return checkDelta(image, options, log);
    }
    Path xml = image.toAbsolutePath().resolveSibling(DiskDescriptor.FILE_NAME);
    if (!Files.exists(xml)) {
      return checkDelta(image, options, log);
    }
    try (DiskLock lock = lockOrFail(xml, "check " + image.getFileName())) {
      return checkDelta(image, options, log);
    }
  }

  /**
   * Checks every delta of the descriptor's top chain, base first, as {@code ploop check
   * DiskDescriptor.xml} does: always detailed and dropping the in-use flag of clean deltas, lower
   * deltas read-only, all with the descriptor's blocksize. Refused while the disk is in use. Stops
   * at the first delta that does not pass.
   *
   * @throws DiskBusyException if the disk's lock is held (mounted)
   */
  public static CheckResult checkDisk(Path xml, CheckOptions options, Consumer<Finding> log)
      throws IOException {
    return checkDisk(xml, null, options, log);
  }

  /**
   * Like {@link #checkDisk(Path, CheckOptions, Consumer)} for the chain from the base up to the
   * snapshot {@code guid} ({@code -u}); null means the top.
   */
  public static CheckResult checkDisk(
      Path xml, String guid, CheckOptions options, Consumer<Finding> log) throws IOException {
    DiskDescriptor d = DiskDescriptor.read(xml);
    List<Path> chain = new ArrayList<>();
    for (DiskDescriptor.ImageEntry e : d.chain(xml, guid == null ? d.topGuid() : guid)) {
      chain.add(d.fileOf(xml, e));
    }
    try (DiskLock lock = lockOrFail(xml, "check")) {
      List<Finding> all = new ArrayList<>();
      CheckResult last = new CheckResult(xml, CheckResult.Status.CLEAN, "", List.of());
      for (int i = 0; i < chain.size(); i++) {
        Path delta = chain.get(i);
        if (d.raw() && i == 0) {
          continue; // a raw base has nothing to check (ploop check -R)
        }
        CheckOptions o = options.forDescriptor();
        if (i < chain.size() - 1) {
          o = o.asReadOnly();
        }
        requireBlocksize(delta, d.blocksize());
        CheckResult r = checkDelta(delta, o, log);
        all.addAll(r.findings());
        if (!r.ok()) {
          return new CheckResult(r.file(), r.status(), r.message(), all);
        }
        last = r;
      }
      return new CheckResult(xml, last.status(), last.message(), all);
    }
  }

  private static DiskLock lockOrFail(Path xml, String purpose) throws IOException {
    Optional<DiskLock> lock = DiskLock.tryAcquire(xml, purpose);
    if (lock.isEmpty()) {
      throw new DiskBusyException(xml, DiskLock.holder(xml));
    }
    return lock.get();
  }

  private static void requireBlocksize(Path delta, int blocksize) throws IOException {
    try (BlockFile f = FileBlockFile.open(delta, true)) {
      ImageHeader h = ImageReader.readHeader(f);
      if (h.clusterSectors() != blocksize) {
        throw new CorruptImageException(
            delta,
            ImageHeader.OFFSET_SECTORS,
            "Incorrect blocksize "
                + h.clusterSectors()
                + " sectors [DiskDescriptor.xml says "
                + blocksize
                + "]");
      }
    }
  }

  /** The per-delta algorithm, without locking (ploop_check). */
  static CheckResult checkDelta(Path image, CheckOptions options, Consumer<Finding> log)
      throws IOException {
    try (BlockFile ro = FileBlockFile.open(image, true);
        Repairer fix = new Repairer(image)) {
      return new Run(image, options, log, ro, fix).run();
    }
  }

  /** Opens the image read-write on the first fix and applies fixes durably. */
  private static final class Repairer implements AutoCloseable {
    private final Path image;
    private BlockFile rw;

    Repairer(Path image) {
      this.image = image;
    }

    BlockFile file() throws IOException {
      if (rw == null) {
        rw = FileBlockFile.open(image, false);
      }
      return rw;
    }

    void zeroSlot(long slotOffset) throws IOException {
      file().write(ByteBuffer.allocate(4), slotOffset);
      file().force();
    }

    void truncate(long size) throws IOException {
      file().truncate(size);
      file().force();
    }

    void writeHeader(ImageHeader h) throws IOException {
      file().write(ByteBuffer.wrap(h.encode()), 0);
      file().force();
    }

    @Override
    public void close() throws IOException {
      if (rw != null) {
        rw.close();
      }
    }
  }

  /** One check of one delta: the state ploop keeps in its ploop_check_desc. */
  private static final class Run {
    private final Path image;
    private final CheckOptions options;
    private final Consumer<Finding> log;
    private final BlockFile ro;
    private final Repairer fix;
    private final List<Finding> findings = new ArrayList<>();

    /** Set when a soft finding was skipped (ploop's clean = 0). */
    private boolean unrepaired;

    /**
     * Whether the image's in-use flag is set. A clean image is only scanned because of {@code -c}
     * (or the descriptor form); ploop would skip it, so it is repaired only with an explicit {@code
     * -f} or {@code -F}, never just because the descriptor form implies {@code -d}.
     */
    private boolean dirty;

    Run(Path image, CheckOptions options, Consumer<Finding> log, BlockFile ro, Repairer fix) {
      this.image = image;
      this.options = options;
      this.log = log;
      this.ro = ro;
      this.fix = fix;
    }

    CheckResult run() throws IOException {
      ImageHeader h = ImageReader.readHeader(ro);
      dirty = h.inUse();
      ImageGeometry g = h.geometry();
      long cluster = g.clusterBytes();
      long size = ro.size();
      if (size % cluster != 0) {
        boolean round = options.force() && options.repairs();
        long up = (size + cluster - 1) / cluster * cluster;
        add(
            Finding.Kind.UNALIGNED_SIZE,
            -1,
            "Image size " + size + " is not aligned to cluster " + cluster,
            round ? Resolution.FIXED : Resolution.SKIPPED);
        if (!round) {
          return result(
              CheckResult.Status.STOPPED_UNALIGNED,
              image
                  + ": Image size "
                  + size
                  + " is not aligned to cluster "
                  + cluster
                  + ", check stopped (use -f to round up)");
        }
        fix.truncate(up);
        size = up;
      }
      if (!h.inUse() && !options.scansCleanImage()) {
        return result(
            CheckResult.Status.SKIPPED_CLEAN, image + ": Image is clean, check is skipped");
      }
      if (h.inUse() && (h.flags() & ImageHeader.CIF_FMT_VERSION_CONVERT) != 0) {
        return result(
            CheckResult.Status.CONVERTING, image + ": Image is in the changing version state");
      }
      long lastUsedEnd = scanSlots(h, g, size);
      lastUsedEnd = checkExtension(h, g, lastUsedEnd);
      checkTail(size, lastUsedEnd);
      if (!h.inUse()) {
        h = checkEmptyFlag(h, lastUsedEnd > h.firstBlockOffset() * ImageGeometry.SECTOR);
      }
      if (findings.stream().anyMatch(Finding::fatal)) {
        return result(
            CheckResult.Status.CORRUPT, image + ": Fatal errors were found, image is not repaired");
      }
      if (h.inUse() && !options.dropInUse()) {
        return result(CheckResult.Status.DIRTY, image + ": Dirty flag is set");
      }
      if (unrepaired) {
        return result(
            CheckResult.Status.CORRUPT,
            image + ": Errors were found, image is not repaired (read-only check; -f repairs)");
      }
      if (h.inUse()) {
        fix.writeHeader(
            h.withDiskInUse(ImageHeader.CLOSED_V20).withFlags(0).withFormatExtensionOffset(0));
        return result(CheckResult.Status.CLEAN, image + ": Image is clean, in-use flag dropped");
      }
      return result(CheckResult.Status.CLEAN, "");
    }

    /** Judges every BAT slot; returns the end offset of the last cluster still referenced. */
    private long scanSlots(ImageHeader h, ImageGeometry g, long fileSize) throws IOException {
      int[] slots = ImageReader.readBatSlots(ro, h);
      long cluster = g.clusterBytes();
      int bs = (int) h.clusterSectors();
      long headerClusters = h.firstBlockOffset() / bs;
      BitSet used = null;
      if (options.detailed()) {
        used = new BitSet();
        used.set(0, (int) Math.min(headerClusters, Integer.MAX_VALUE));
      }
      long lastUsedEnd = h.firstBlockOffset() * ImageGeometry.SECTOR;
      for (int clu = 0; clu < slots.length; clu++) {
        long v = Integer.toUnsignedLong(slots[clu]);
        if (v == 0) {
          continue;
        }
        long off = ImageGeometry.batEntryOffset(clu);
        long isec = h.version() == FormatVersion.V2 ? v * bs : v;
        long iblk = isec / bs;
        // ploop tests (clu << log) > bd_size, which misses the first padding slot; >= is exact.
        if ((long) clu * bs >= h.sizeSectors()) {
          slotFix(
              Finding.Kind.BEYOND_DISK_SIZE,
              off,
              "Data cluster ("
                  + clu
                  + ") beyond block device size ("
                  + h.sizeSectors()
                  + " sectors)...",
              false,
              false);
          continue;
        }
        if (h.version() == FormatVersion.V1 && isec % bs != 0) {
          slotFix(
              Finding.Kind.MISALIGNED_V1,
              off,
              "L2 slot ("
                  + clu
                  + ") corrupted: sector "
                  + isec
                  + " is not a multiple of the cluster ("
                  + bs
                  + " sectors)...",
              true,
              false);
          continue;
        }
        if (iblk * cluster + cluster > fileSize) {
          slotFix(
              Finding.Kind.BEYOND_EOF,
              off,
              "Data cluster "
                  + iblk
                  + " beyond EOF, vsec="
                  + clu
                  + ", image size="
                  + fileSize
                  + "...",
              true,
              false);
          continue;
        }
        if (used != null) {
          if (used.get((int) iblk)) {
            slotFix(
                Finding.Kind.DUPLICATE,
                off,
                "Block "
                    + iblk
                    + " is used more than once, vsec="
                    + clu
                    + (iblk < headerClusters ? " (it is a header cluster)" : "")
                    + "...",
                true,
                true);
          }
          used.set((int) iblk);
        }
        lastUsedEnd = Math.max(lastUsedEnd, (iblk + 1) * cluster);
      }
      return lastUsedEnd;
    }

    /** ploop's zero_index_fix: soft or hard, zero the slot or ignore, fatal or not. */
    private void slotFix(Finding.Kind kind, long off, String msg, boolean hard, boolean ignore)
        throws IOException {
      boolean mayRepair = options.repairs() && (dirty || options.force() || options.hardForce());
      boolean skip = !mayRepair || (hard && !options.hardForce());
      Resolution r;
      if (skip) {
        r = hard ? Resolution.FATAL : Resolution.SKIPPED;
        unrepaired = true;
      } else if (ignore) {
        r = Resolution.IGNORED;
      } else {
        fix.zeroSlot(off);
        r = Resolution.FIXED;
      }
      add(kind, off, msg, r);
    }

    /**
     * Judges the Format Extension of a cleanly closed image (a dirty one loses it with the in-use
     * flag): a valid CBT's clusters are part of the image, not a leaked tail, so the returned end
     * covers them; a bad one, or a pointer on a v2.0 image, is a soft finding whose fix clears the
     * pointer (ploop's "Drop optional header"). Returns the end of what the image uses.
     */
    private long checkExtension(ImageHeader h, ImageGeometry g, long lastUsedEnd)
        throws IOException {
      if (h.inUse() || h.formatExtensionOffset() == 0) {
        return lastUsedEnd;
      }
      String problem;
      if (h.diskInUse() == ImageHeader.CLOSED_V20) {
        problem =
            "m_FormatExtensionOffset "
                + Long.toUnsignedString(h.formatExtensionOffset())
                + " is set on an image closed as v2.0 (ploop ignores it, QEMU would parse it)";
      } else {
        try {
          CbtStore.Stored s = CbtStore.read(ro, h, lastUsedEnd);
          return s == null
              ? lastUsedEnd
              : Math.max(lastUsedEnd, s.extensionOffset() + g.clusterBytes());
        } catch (BadExtensionException e) {
          problem =
              "Format Extension at offset "
                  + Math.max(e.offset(), 0)
                  + ": "
                  + e.detail()
                  + ": the CBT is not usable";
        }
      }
      boolean fixIt = options.repairs() && (options.force() || options.hardForce());
      add(
          Finding.Kind.BAD_EXTENSION,
          ImageHeader.OFFSET_EXTENSION,
          problem,
          fixIt ? Resolution.FIXED : Resolution.SKIPPED);
      if (fixIt) {
        fix.writeHeader(h.withFormatExtensionOffset(0).withDiskInUse(ImageHeader.CLOSED_V20));
      } else {
        unrepaired = true;
      }
      return lastUsedEnd;
    }

    private void checkTail(long fileSize, long lastUsedEnd) throws IOException {
      if (fileSize <= lastUsedEnd) {
        return;
      }
      boolean truncate = options.repairs() && (options.force() || options.hardForce());
      add(
          Finding.Kind.LEAKED_TAIL,
          lastUsedEnd,
          (fileSize - lastUsedEnd)
              + " bytes after the last used cluster are unused (qemu-img reports them as leaked)",
          truncate ? Resolution.FIXED : Resolution.SKIPPED);
      if (truncate) {
        fix.truncate(lastUsedEnd);
      }
    }

    /**
     * Compares CIF_Empty with whether any cluster is mapped; corrects it in the header with {@code
     * -f}/{@code -F} (never fatal: nothing reads the flag but {@code ploop check}).
     */
    private ImageHeader checkEmptyFlag(ImageHeader h, boolean mapped) throws IOException {
      boolean empty = (h.flags() & ImageHeader.CIF_EMPTY) != 0;
      if (empty != mapped) {
        return h;
      }
      boolean fixIt = options.repairs() && (options.force() || options.hardForce());
      add(
          Finding.Kind.WRONG_EMPTY_FLAG,
          ImageHeader.OFFSET_FLAGS,
          "CIF_Empty flag is incorrect"
              + (mapped ? " (set, but clusters are mapped)" : " (clear, but no cluster is mapped)"),
          fixIt ? Resolution.FIXED : Resolution.SKIPPED);
      if (!fixIt) {
        return h;
      }
      ImageHeader fixed = h.withFlags(h.flags() ^ ImageHeader.CIF_EMPTY);
      fix.writeHeader(fixed);
      return fixed;
    }

    private void add(Finding.Kind kind, long off, String msg, Resolution r) {
      Finding f = new Finding(image, off, kind, msg, r);
      findings.add(f);
      log.accept(f);
    }

    private CheckResult result(CheckResult.Status status, String message) {
      return new CheckResult(image, status, message, findings);
    }
  }
}
