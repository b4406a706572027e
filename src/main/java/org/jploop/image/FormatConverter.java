package org.jploop.image;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.BatLayout;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageWriter;
import org.jploop.io.NoSpaceException;

/**
 * {@code ploop convert}: between format versions v1 and v2 (every ploop1 delta of the disk), and
 * between a ploop1 base image and a raw one. Offline only.
 *
 * <p>Version conversion follows ploop: each delta's header clusters are backed up to {@code
 * <image>.idx}; every delta gets the in-use flag and {@code CIF_FmtVersionConvert} (base first);
 * BAT units and signatures are rewritten; the flags are cleared (base last); the backups are
 * deleted. {@link #recover} rolls an interrupted run back from the backups whenever the base still
 * carries the convert flag.
 *
 * <p>Raw conversion writes the new image as {@code <base>.tmp}, stages the descriptor with the new
 * {@code <Type>}, renames the image over the base and then commits the descriptor. {@link #recover}
 * finishes a run that crashed between the two renames (the staged descriptor matches the file).
 */
public final class FormatConverter {
  private final OfflineDisk disk;
  private final Progress progress;
  private final PrintWriter log;
  private final StepHook hook;

  public FormatConverter(OfflineDisk disk, Progress progress, PrintWriter log, StepHook hook) {
    this.disk = disk;
    this.progress = progress;
    this.log = log;
    this.hook = hook;
  }

  /** Returns the backup path of a delta's header clusters: {@code <image>.idx}. */
  public static Path backupOf(Path image) {
    return image.resolveSibling(image.getFileName() + ".idx");
  }

  /** Returns the temporary path of a converted base image: {@code <image>.tmp}. */
  public static Path tempOf(Path image) {
    return image.resolveSibling(image.getFileName() + ".tmp");
  }

  /** Repairs the effects of an interrupted conversion, if any; returns whether it did anything. */
  public boolean recover() throws IOException {
    boolean did = recoverVersion();
    did |= recoverRaw();
    return did;
  }

  private boolean recoverVersion() throws IOException {
    List<Path> deltas = ploopFiles();
    if (deltas.isEmpty()) {
      return false;
    }
    Path base = deltas.get(0);
    boolean flagged;
    try (BlockFile f = FileBlockFile.open(base, true)) {
      flagged = (readFlags(f) & ImageHeader.CIF_FMT_VERSION_CONVERT) != 0;
    }
    boolean did = false;
    if (flagged) {
      log.println(
          "Image "
              + base
              + " is in the changing version state: restoring every delta"
              + " from its .idx backup");
      List<Path> order = new ArrayList<>(deltas.subList(1, deltas.size()));
      order.add(base);
      for (Path p : order) {
        Path idx = backupOf(p);
        if (!Files.exists(idx)) {
          throw new ImageOperationException(
              ImageOperationException.Kind.CORRUPT,
              "Image "
                  + p
                  + " is in the changing version state but its backup "
                  + idx
                  + " is missing");
        }
        byte[] saved = Files.readAllBytes(idx);
        try (BlockFile f = FileBlockFile.open(p, false)) {
          f.write(ByteBuffer.wrap(saved), 0);
          f.force();
        }
        hook.reached("convert: delta restored from backup");
      }
      did = true;
    }
    for (Path p : deltas) {
      did |= Files.deleteIfExists(backupOf(p));
    }
    return did;
  }

  /**
   * Returns {@code m_Flags}, or 0 if the file does not start with a ploop1 signature: after a crash
   * in {@code convert -f raw} the base can already hold raw disk data while the descriptor still
   * lists it as ploop1, and raw bytes at offset 52 must not be read as a convert flag.
   */
  private static long readFlags(BlockFile f) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(ImageHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN);
    f.read(b, 0);
    byte[] sig = new byte[16];
    b.get(0, sig);
    if (FormatVersion.ofSignature(sig) == null) {
      return 0;
    }
    return Integer.toUnsignedLong(b.getInt(ImageHeader.OFFSET_FLAGS));
  }

  private boolean recoverRaw() throws IOException {
    DiskDescriptor d = disk.descriptor();
    Path baseFile = disk.fileOf(d.images().get(0));
    Path staged = DescriptorTransaction.tempFor(disk.xml());
    boolean did = false;
    if (Files.exists(staged)) {
      DiskDescriptor next;
      try {
        next = DiskDescriptor.read(staged);
      } catch (IOException e) {
        next = null;
      }
      boolean baseIsPloop = isPloopImage(baseFile);
      if (next != null
          && next.raw() != d.raw()
          && next.images()
              .equals(
                  d.withType(
                          next.raw() ? DiskDescriptor.TYPE_PLAIN : DiskDescriptor.TYPE_COMPRESSED)
                      .images())
          && baseIsPloop == !next.raw()) {
        log.println("Finishing an interrupted conversion of " + baseFile);
        new DescriptorTransaction(disk.xml()).commit();
        disk.update(next);
        did = true;
      } else {
        Files.delete(staged);
      }
    }
    did |= Files.deleteIfExists(tempOf(baseFile));
    return did;
  }

  private static boolean isPloopImage(Path p) throws IOException {
    try (BlockFile f = FileBlockFile.open(p, true)) {
      ByteBuffer b = ByteBuffer.allocate(16);
      f.read(b, 0);
      return FormatVersion.ofSignature(b.array()) != null;
    }
  }

  private List<Path> ploopFiles() throws IOException {
    DiskDescriptor d = disk.descriptor();
    List<Path> out = new ArrayList<>();
    for (ImageEntry e : d.images()) {
      if (d.raw() && e == d.images().get(0)) {
        continue;
      }
      out.add(disk.fileOf(e));
    }
    return out;
  }

  /** Converts every ploop1 delta of the disk to {@code target}. */
  public void convertVersion(FormatVersion target) throws IOException {
    recover();
    disk.requireClean();
    disk.requireNoParentVolumes("convert");
    disk.requireNotShared("convert", null);
    List<Path> files = ploopFiles();
    List<DeltaFile> deltas = new ArrayList<>();
    try {
      for (Path p : files) {
        deltas.add(DeltaFile.open(p, false));
      }
      if (deltas.stream().allMatch(d -> d.version() == target)) {
        log.println("The image is already in v" + target.number() + " format");
        return;
      }
      if (target == FormatVersion.V1) {
        for (DeltaFile d : deltas) {
          if (d.header().sizeSectors() > 0xFFFFFFFFL
              || d.fileClusters() * d.clusterSectors() > ImageGeometry.MAX_BAT_VALUE) {
            throw new ImageOperationException(
                ImageOperationException.Kind.REFUSED,
                "Unable to convert "
                    + d.path()
                    + " to v1: the disk or the image file is "
                    + "larger than 2 TiB (0xffffffff sectors)");
          }
        }
      }
      for (DeltaFile d : deltas) {
        CbtCarrier.detach(d); // ploop's convert voids the CBT (dirty_delta, clear_delta)
      }
      for (DeltaFile d : deltas) {
        long bytes = d.headerClusters() * d.clusterBytes();
        ByteBuffer b = ByteBuffer.allocate((int) bytes);
        d.file().read(b, 0);
        Path idx = backupOf(d.path());
        try (FileChannel ch =
            FileChannel.open(
                idx,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
          b.flip();
          while (b.hasRemaining()) {
            ch.write(b);
          }
          ch.force(true);
        }
        DescriptorTransaction.fsyncDirectory(idx);
      }
      hook.reached("convert: backups written");
      for (DeltaFile d : deltas) {
        d.writeHeader(
            d.header()
                .withDiskInUse(ImageHeader.IN_USE)
                .withFlags(d.header().flags() | ImageHeader.CIF_FMT_VERSION_CONVERT));
        hook.reached("convert: delta flagged");
      }
      progress.start(deltas.size());
      for (DeltaFile d : deltas) {
        FormatVersion from = d.version();
        for (long c = 0; c < d.batEntries(); c++) {
          long v = d.rawEntry(c);
          if (v != 0) {
            d.setRaw(
                c,
                target.toBatValue(
                    from.toPhysicalCluster(v, d.clusterSectors()), d.clusterSectors()));
          }
        }
        d.writeDirtyBatPages();
        d.writeHeader(d.header().withVersion(target));
        hook.reached("convert: delta rewritten");
        progress.advance(1);
      }
      progress.finish();
      for (int i = deltas.size() - 1; i >= 0; i--) {
        DeltaFile d = deltas.get(i);
        d.writeHeader(
            d.header()
                .withDiskInUse(ImageHeader.CLOSED_V20)
                .withFlags(d.header().flags() & ~ImageHeader.CIF_FMT_VERSION_CONVERT));
        hook.reached("convert: delta flag cleared");
      }
      for (DeltaFile d : deltas) {
        Files.deleteIfExists(backupOf(d.path()));
      }
      hook.reached("convert: backups deleted");
    } finally {
      for (DeltaFile d : deltas) {
        d.close();
      }
    }
  }

  /** Converts the ploop1 base of a single-image disk to a raw image. */
  public void toRaw() throws IOException {
    recover();
    DiskDescriptor d = disk.descriptor();
    if (d.raw()) {
      log.println("The image is already raw");
      return;
    }
    if (d.images().size() != 1) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to convert to raw: the disk has snapshots; merge them first"
              + " (ploop snapshot-merge -A)");
    }
    disk.requireClean();
    disk.requireNoParentVolumes("convert");
    disk.requireNotShared("convert", null);
    Path base = disk.fileOf(d.images().get(0));
    Path tmp = tempOf(base);
    Files.deleteIfExists(tmp);
    try (DeltaFile delta = DeltaFile.open(base, true)) {
      long cb = delta.clusterBytes();
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        progress.start(delta.batEntries());
        for (long c = 0; c < delta.batEntries(); c++) {
          long p = delta.physicalOf(c);
          if (p != 0) {
            ByteBuffer data = delta.readCluster(p);
            long pos = c * cb;
            while (data.hasRemaining()) {
              pos += ch.write(data, pos);
            }
          }
          progress.advance(1);
        }
        progress.finish();
        ch.truncate(Math.max(ch.size(), d.diskSizeSectors() * ImageGeometry.SECTOR));
        if (ch.size() < d.diskSizeSectors() * ImageGeometry.SECTOR) {
          ch.write(ByteBuffer.allocate(1), d.diskSizeSectors() * ImageGeometry.SECTOR - 1);
        }
        ch.force(true);
      }
    }
    hook.reached("convert: raw image written");
    swapBase(d.withType(DiskDescriptor.TYPE_PLAIN), base, tmp);
  }

  /** Converts a raw base image to ploop1 of {@code version}, keeping only non-zero clusters. */
  public void toPloop(FormatVersion version) throws IOException {
    recover();
    DiskDescriptor d = disk.descriptor();
    if (!d.raw()) {
      if (d.preallocated()) {
        // ploop convert -f expanded: only the descriptor changes.
        DiskDescriptor next =
            new DiskDescriptor(
                d.diskSizeSectors(),
                d.maxDeltaSize(),
                d.cylinders(),
                d.heads(),
                d.sectors(),
                d.encryptionKeyId(),
                d.blocksize(),
                false,
                d.images(),
                d.topGuid(),
                d.shots());
        next.write(disk.xml());
        disk.update(next);
        log.println("The image is now expanded (Preallocated dropped from the descriptor)");
      } else {
        log.println("The image is already in ploop1 format");
      }
      return;
    }
    disk.requireClean();
    disk.requireNoParentVolumes("convert");
    disk.requireNotShared("convert", null);
    Path base = disk.fileOf(d.images().get(0));
    Path tmp = tempOf(base);
    Files.deleteIfExists(tmp);
    long rawSize = Files.size(base);
    long sizeSectors = Math.max(1, (rawSize + ImageGeometry.SECTOR - 1) / ImageGeometry.SECTOR);
    ImageGeometry g = ImageGeometry.forSize(sizeSectors, d.blocksize());
    if (version == FormatVersion.V1 && g.sizeSectors() > 0xFFFFFFFFL) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to convert to v1: the disk is larger than 2 TiB");
    }
    ImageWriter.createEmpty(tmp, ImageHeader.create(version, g));
    try (BlockFile raw = FileBlockFile.open(base, true);
        SparseScan scan = new SparseScan(base);
        DeltaFile delta = DeltaFile.open(tmp, false)) {
      long cb = g.clusterBytes();
      long allocHead = g.headerClusters();
      ByteBuffer data = ByteBuffer.allocate((int) cb);
      progress.start(g.batEntries());
      long c = 0;
      while (c < g.batEntries()) {
        long next = scan.nextData(c * cb);
        long skipTo = next < 0 ? g.batEntries() : Math.min(g.batEntries(), next / cb);
        if (skipTo > c) {
          progress.advance(skipTo - c);
          c = skipTo;
          continue;
        }
        data.clear();
        raw.read(data, c * cb);
        data.flip();
        if (!allZero(data)) {
          delta.writeCluster(allocHead, data);
          delta.map(c, allocHead++);
        }
        progress.advance(1);
        c++;
      }
      progress.finish();
      delta.force();
      delta.writeDirtyBatPages();
      delta.markClean();
    }
    hook.reached("convert: ploop1 image written");
    swapBase(d.withType(DiskDescriptor.TYPE_COMPRESSED), base, tmp);
  }

  /**
   * {@code convert -f preallocated}: gives every unmapped cluster of the base image a real,
   * fallocated (zero) cluster at the end of the file, a BAT page at a time (space reserved and
   * fsynced, then the page written and fsynced), and records {@code <Preallocated>1} in the
   * descriptor. Newly mapped clusters read as zeros, exactly like the holes they replace, so a
   * crash at any point leaves the content unchanged.
   */
  public void toPreallocated() throws IOException {
    recover();
    DiskDescriptor d = disk.descriptor();
    if (d.raw()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED, "Converting raw image is not supported");
    }
    if (d.images().size() != 1) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to convert to preallocated: the disk has snapshots; merge them first"
              + " (ploop snapshot-merge -A)");
    }
    disk.requireClean();
    disk.requireNoParentVolumes("convert");
    disk.requireNotShared("convert", null);
    Path base = disk.fileOf(d.images().get(0));
    try (DeltaFile delta = DeltaFile.open(base, false)) {
      long cb = delta.clusterBytes();
      long allocHead = Math.max(delta.usedEnd(), delta.fileClusters());
      long holes = delta.batEntries() - delta.mappedCount();
      if (holes > 0) {
        delta.markInUse();
        hook.reached("convert: delta marked in use");
        progress.start(holes);
        int page = -1;
        long pending = 0;
        long runStart = allocHead;
        for (long c = 0; c < delta.batEntries(); c++) {
          if (delta.physicalOf(c) != 0) {
            continue;
          }
          int p = BatLayout.pageOf(c);
          if (p != page && pending > 0) {
            commitPreallocated(delta, runStart, allocHead, pending);
            runStart = allocHead;
            pending = 0;
          }
          page = p;
          delta.map(c, allocHead++);
          pending++;
        }
        if (pending > 0) {
          commitPreallocated(delta, runStart, allocHead, pending);
        }
        progress.finish();
        delta.markClean();
        hook.reached("convert: delta marked clean");
      }
      if (delta.file().size() < allocHead * cb) {
        delta.file().truncate(allocHead * cb);
        delta.force();
      }
    }
    if (!d.preallocated()) {
      DiskDescriptor next =
          new DiskDescriptor(
              d.diskSizeSectors(),
              d.maxDeltaSize(),
              d.cylinders(),
              d.heads(),
              d.sectors(),
              d.encryptionKeyId(),
              d.blocksize(),
              true,
              d.images(),
              d.topGuid(),
              d.shots());
      next.write(disk.xml());
      disk.update(next);
      hook.reached("convert: descriptor committed");
    }
  }

  private void commitPreallocated(DeltaFile delta, long fromCluster, long toCluster, long clusters)
      throws IOException {
    long cb = delta.clusterBytes();
    try {
      delta.file().allocate(fromCluster * cb, (toCluster - fromCluster) * cb);
    } catch (NoSpaceException e) {
      throw e;
    } catch (IOException e) {
      // No fallocate on this filesystem: write the zeros (ploop falls back the same way).
      ByteBuffer zeros = ByteBuffer.allocate((int) cb);
      for (long k = fromCluster; k < toCluster; k++) {
        delta.file().write(zeros.duplicate(), k * cb);
      }
    }
    delta.force();
    hook.reached("convert: clusters reserved");
    delta.writeDirtyBatPages();
    delta.force();
    hook.reached("convert: BAT page durable");
    progress.advance(clusters);
  }

  /** Stages {@code next}, renames {@code tmp} over {@code base}, commits {@code next}. */
  private void swapBase(DiskDescriptor next, Path base, Path tmp) throws IOException {
    DescriptorTransaction tx = new DescriptorTransaction(disk.xml());
    tx.stage(next);
    hook.reached("convert: descriptor staged");
    Files.move(tmp, base, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    DescriptorTransaction.fsyncDirectory(base);
    hook.reached("convert: image replaced");
    tx.commit();
    disk.update(next);
    hook.reached("convert: descriptor committed");
  }

  private static boolean allZero(ByteBuffer b) {
    for (int i = b.position(); i < b.limit(); i += 8) {
      if (i + 8 <= b.limit() ? b.getLong(i) != 0 : b.get(i) != 0) {
        return false;
      }
    }
    return true;
  }
}
