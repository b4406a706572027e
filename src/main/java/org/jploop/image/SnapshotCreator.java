package org.jploop.image;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.format.descriptor.DiskDescriptor.Shot;
import org.jploop.format.descriptor.Guid;
import org.jploop.io.BlockFile;
import org.jploop.io.CbtStore;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.io.ImageWriter;

/**
 * {@code ploop snapshot}: freezes the current top delta under a snapshot GUID and puts a new empty
 * top delta ({@link Guid#TOP_DELTA}) above it.
 *
 * <p>Split in two so the mount daemon can reuse it: {@link #prepare} stages the new descriptor in
 * {@code DiskDescriptor.xml.tmp} and creates the empty delta file; the daemon then switches its
 * engine to the new top (set in-use on the new delta, drain in-flight writes, clear in-use on the
 * old top); {@link #commit} renames the descriptor. Offline, {@link #create} does both. A crash
 * before the commit leaves the old descriptor and an unreferenced empty file; after it, the new
 * chain.
 *
 * <p>{@link #temporary} makes a temporary snapshot ({@code ploop tsnapshot}): the frozen delta's
 * {@code <Shot>} is marked {@code <Temporary/>}, so the next operation that merges temporary
 * snapshots merges it back ({@link SnapshotDeleter#mergeTemporary}).
 */
public final class SnapshotCreator {
  /** ploop's limit: base + 126 snapshots + 1 reserved. */
  public static final int MAX_IMAGES = 128;

  private final OfflineDisk disk;
  private final StepHook hook;
  private final boolean temporary;

  public SnapshotCreator(OfflineDisk disk, StepHook hook) {
    this(disk, hook, false);
  }

  private SnapshotCreator(OfflineDisk disk, StepHook hook, boolean temporary) {
    this.disk = disk;
    this.hook = hook;
    this.temporary = temporary;
  }

  /** Returns a creator of temporary snapshots ({@code <Temporary/>}) on the same disk. */
  public SnapshotCreator temporary() {
    return new SnapshotCreator(disk, hook, true);
  }

  /**
   * A prepared snapshot: the staged descriptor and the new, empty top delta file.
   *
   * @param snapshotGuid the GUID the old top is frozen under
   * @param newTop the new top delta file
   * @param next the descriptor after the snapshot
   */
  public record Prepared(String snapshotGuid, Path newTop, DiskDescriptor next) {}

  /** Takes an offline snapshot; returns its GUID. {@code guid} may be null for a random one. */
  public String create(String guid) throws IOException {
    return create(guid, null, new PrintWriter(Writer.nullWriter()));
  }

  /**
   * Takes an offline snapshot with ploop's CBT handling (verbs notes §2.3) and returns its GUID.
   * Without {@code cbtUuid} the old top's CBT, if any, is copied into the new top (the old top
   * keeps its own: {@code ploop_move_cbt}); with it ({@code -b}) the new top gets an empty CBT of
   * that name, so the next mount tracks a new backup epoch from clean, while the old top keeps the
   * bitmap of the epoch that ends. A bad CBT in the old top refuses the snapshot (ploop: exit 13)
   * and nothing stays behind. {@code log} gets ploop's messages ("Write new CBT uuid=...", "Move
   * CBT ...").
   */
  public String create(String guid, UUID cbtUuid, PrintWriter log) throws IOException {
    disk.requireClean();
    DiskDescriptor d = disk.descriptor();
    boolean rawTop = d.raw() && d.images().size() == 1;
    Path oldTop = rawTop ? null : disk.fileOf(d.image(d.topGuid()));
    DirtyBitmap carried = null;
    if (cbtUuid == null && oldTop != null && mayCarryCbt(oldTop)) {
      try (DeltaFile old = DeltaFile.open(oldTop, true)) {
        CbtStore.Stored s = old.readCbt();
        carried = s == null ? null : s.bitmap();
      }
    }
    Prepared p = prepare(guid);
    try {
      if (cbtUuid != null || carried != null) {
        try (DeltaFile top = DeltaFile.open(p.newTop(), false)) {
          if (cbtUuid != null) {
            log.println("Write new CBT uuid=" + cbtUuid + " " + p.newTop());
            top.writeCbt(
                DirtyBitmap.empty(
                    cbtUuid, top.header().sizeSectors(), DirtyBitmap.DEFAULT_GRANULARITY_SECTORS));
          } else {
            log.println("Move CBT " + oldTop + " -> " + p.newTop());
            top.writeCbt(carried);
          }
        }
        hook.reached("snapshot: CBT written");
      }
    } catch (IOException | RuntimeException e) {
      abort(p);
      throw e;
    }
    commit(p);
    return p.snapshotGuid();
  }

  /** Validates, stages the descriptor and creates the new empty top delta. */
  public Prepared prepare(String requested) throws IOException {
    DiskDescriptor d = disk.descriptor();
    String snap = requested == null ? Guid.random() : Guid.parse(requested);
    if (d.shot(snap) != null || d.image(snap) != null) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED, "The snapshot " + snap + " already exist");
    }
    boolean childVolume = d.volume() != null && d.volume().parent() != null;
    if (!Guid.same(d.topGuid(), Guid.TOP_DELTA) && !childVolume) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "DiskDescriptor.xml is in old format (TopGUID "
              + d.topGuid()
              + " is not "
              + Guid.TOP_DELTA
              + "); converting it is not supported by jploop");
    }
    if (d.volume() != null && d.volume().readOnly()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Creating a snapshot from snapshot is prohibited ("
              + disk.xml().getParent()
              + " is a read-only snapshot volume)");
    }
    if (Guid.same(snap, Guid.TOP_DELTA) || Guid.same(snap, Guid.NONE)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED, "Incorrect guid " + snap);
    }
    if (d.images().size() >= MAX_IMAGES - 1) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to create a snapshot. The maximum number of snapshots ("
              + (MAX_IMAGES - 2)
              + ") has been reached");
    }
    ImageHeader topHeader = topHeader(d);
    String fileName = DeltaNames.newDeltaFile(d);
    String oldTop = d.topGuid();
    // ploop: the new top of a volume that has a parent gets a random GUID, else TOPDELTA
    String newTop = childVolume ? Guid.random() : Guid.TOP_DELTA;
    List<ImageEntry> images = new ArrayList<>();
    for (ImageEntry e : d.images()) {
      images.add(
          Guid.same(e.guid(), oldTop) ? new ImageEntry(snap, e.type(), e.file(), e.alien()) : e);
    }
    images.add(new ImageEntry(newTop, DiskDescriptor.TYPE_COMPRESSED, fileName));
    List<Shot> shots = new ArrayList<>();
    for (Shot s : d.shots()) {
      boolean frozen = Guid.same(s.guid(), oldTop);
      String g = frozen ? snap : s.guid();
      String parent = Guid.same(s.parentGuid(), oldTop) ? snap : s.parentGuid();
      shots.add(new Shot(g, parent, frozen && temporary ? "Temporary" : s.temporary(), s.alien()));
    }
    shots.add(new Shot(newTop, snap, null));
    DiskDescriptor next = d.withChain(images, shots, newTop);
    new DescriptorTransaction(disk.xml()).stage(next);
    hook.reached("snapshot: descriptor staged");
    Path newTopFile = next.fileOf(disk.xml(), next.image(newTop));
    ImageHeader h =
        topHeader
            .withDiskInUse(ImageHeader.CLOSED_V20)
            .withFlags(ImageHeader.CIF_EMPTY)
            .withFormatExtensionOffset(0);
    ImageWriter.createEmpty(newTopFile, h);
    DescriptorTransaction.fsyncDirectory(newTopFile);
    hook.reached("snapshot: new delta created");
    return new Prepared(snap, newTopFile, next);
  }

  /** Renames the staged descriptor over the old one. */
  public void commit(Prepared p) throws IOException {
    new DescriptorTransaction(disk.xml()).commit();
    disk.update(p.next());
    hook.reached("snapshot: descriptor committed");
  }

  /** Undoes {@link #prepare} when the switch failed: removes the staged state and the new file. */
  public void abort(Prepared p) throws IOException {
    new DescriptorTransaction(disk.xml()).abandon();
    Files.deleteIfExists(p.newTop());
  }

  /** Returns whether the header of {@code image} says it was closed with a Format Extension. */
  private static boolean mayCarryCbt(Path image) throws IOException {
    try (BlockFile f = FileBlockFile.open(image, true)) {
      ImageHeader h = ImageReader.readHeader(f);
      return h.formatExtensionOffset() != 0 && h.diskInUse() != ImageHeader.CLOSED_V20;
    }
  }

  /** Returns the header a new delta on top of this disk gets (size, cluster and version). */
  private ImageHeader topHeader(DiskDescriptor d) throws IOException {
    ImageEntry top = d.image(d.topGuid());
    if (d.raw() && d.images().size() == 1) {
      ImageGeometry g = ImageGeometry.forSize(d.diskSizeSectors(), d.blocksize());
      return ImageHeader.create(FormatVersion.V2, g);
    }
    try (BlockFile f = FileBlockFile.open(disk.fileOf(top), true)) {
      return ImageReader.readHeader(f);
    }
  }
}
