package org.jploop.volume;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.format.descriptor.DiskDescriptor.Shot;
import org.jploop.format.descriptor.DiskDescriptor.Volume;
import org.jploop.format.descriptor.Guid;
import org.jploop.image.DeltaNames;
import org.jploop.image.DescriptorTransaction;
import org.jploop.image.ImageOperationException;
import org.jploop.image.SnapshotCreator;
import org.jploop.image.StepHook;
import org.jploop.io.DiskLock;
import org.jploop.io.ImageWriter;

/**
 * {@code ploop-volume snapshot SRC DST} and {@code ploop-volume clone SRC DST [--image DIR]}
 * (lib/volume.c), offline.
 *
 * <p>snapshot: SRC (read-write) keeps being the volume users write to; its current images move to
 * the new read-only volume DST ({@code <ReadOnly>}, top GUID G, SRC's old {@code <Parent>} and
 * {@code <SnapshotGUID>}), and SRC gets one new empty top delta ({@code <first image>.<fileGUID>},
 * GUID TOPDELTA, or random when SRC has a parent) on G, with {@code <Parent>} DST and {@code
 * <SnapshotGUID>} G. Links: {@code DST/children/SRC}; SRC's old parent lists DST instead of SRC.
 * Order: DST layout and the new delta, DST's descriptor staged as {@code .tmp}, SRC's descriptor
 * renamed into place (the commit point), DST's renamed, links; a crash before the commit leaves SRC
 * as it was and a stray DST directory.
 *
 * <p>clone: DST gets one new empty delta {@code <DIR or DST>/<fileGUID>.hds} on G with {@code
 * <Parent>} SRC and {@code SRC/children/DST}. A read-write SRC is first snapshotted in place under
 * G (its own descriptor, {@link SnapshotCreator}); for a read-only SRC, G is its top (ploop takes
 * {@code <SnapshotGUID>} first, which for a snapshot of a volume with a parent is the parent's
 * snapshot and drops SRC's own content: README, "ploop-volume").
 */
public final class VolumeSnapshot {
  private final PrintWriter log;

  public VolumeSnapshot(PrintWriter log) {
    this.log = log;
  }

  /** Takes snapshot DST of SRC; returns its GUID. */
  public String snapshot(VolumeLayout src, VolumeLayout dst) throws IOException {
    String g = Guid.random();
    log.println("Create snapshot " + dst.dir() + " from " + src.dir() + " uuid=" + g);
    try (VolumeDisk s = VolumeDisk.open(src, "volume snapshot")) {
      s.disk().requireClean();
      if (s.volume().readOnly()) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Creating a snapshot from snapshot is prohibited");
      }
      requireNew(dst);
      DiskDescriptor d = s.descriptor();
      String oldTop = d.topGuid();
      String newTop = s.volume().parent() != null ? Guid.random() : Guid.TOP_DELTA;
      // DST: SRC's own images, the top renamed G, read-only, SRC's old place in the tree
      List<ImageEntry> dstImages = new ArrayList<>();
      for (ImageEntry e : d.ownImages()) {
        ImageEntry r = s.rebased(e, dst.dir());
        dstImages.add(Guid.same(e.guid(), oldTop) ? new ImageEntry(g, r.type(), r.file()) : r);
      }
      List<Shot> dstShots = new ArrayList<>();
      for (Shot sh : d.shots()) {
        if (!sh.alien()) {
          dstShots.add(Guid.same(sh.guid(), oldTop) ? new Shot(g, sh.parentGuid(), null) : sh);
        }
      }
      VolumeLayout oldParent = s.parent();
      Volume dstVol =
          new Volume(
              oldParent == null ? null : VolumeDisk.nameFrom(dst.dir(), oldParent.dir()),
              s.volume().snapshotGuid(),
              true);
      DiskDescriptor dstDesc = d.withChain(dstImages, dstShots, g).withVolume(dstVol);
      // SRC: one new empty top on G
      String newFileName = DeltaNames.newDeltaFile(d);
      Path newFile = s.layout().dir().resolve(newFileName).normalize();
      List<ImageEntry> srcImages =
          List.of(
              new ImageEntry(
                  newTop, DiskDescriptor.TYPE_COMPRESSED, VolumeDisk.nameFrom(src.dir(), newFile)));
      List<Shot> srcShots = List.of(new Shot(newTop, g, null));
      Volume srcVol = new Volume(VolumeDisk.nameFrom(src.dir(), dst.dir()), g, false);
      DiskDescriptor srcDesc = d.withChain(srcImages, srcShots, newTop).withVolume(srcVol);
      ImageHeader top = s.headerOf(oldTop);

      dst.create(log);
      try (DiskLock dl = lockNew(dst)) {
        build(dst, dstDesc, newFile, top, () -> srcDesc.write(src.xml()));
        dst.registerChild(src, log);
        if (oldParent != null) {
          oldParent.registerChild(dst, log);
          oldParent.unregisterChild(src, log);
        }
      }
      return g;
    }
  }

  /** Clones SRC into the new volume DST, its delta in {@code imageDir} (null: DST). */
  public void clone(VolumeLayout src, VolumeLayout dst, Path imageDir) throws IOException {
    log.println(
        "Clone "
            + src.dir()
            + " to "
            + dst.dir()
            + " "
            + (imageDir == null ? "" : imageDir.toString()));
    try (VolumeDisk s = VolumeDisk.open(src, "volume clone")) {
      s.disk().requireClean();
      requireNew(dst);
      DiskDescriptor d = s.descriptor();
      boolean snapshotFirst = !s.volume().readOnly();
      String g = snapshotFirst ? Guid.random() : d.topGuid();
      ImageHeader base = s.headerOf(d.topGuid());
      dst.create(log);
      try (DiskLock dl = lockNew(dst)) {
        Path dir = imageDir == null ? dst.dir() : imageDir.toRealPath();
        Path newFile = dir.resolve(Guid.random() + ".hds");
        String x = Guid.random();
        DiskDescriptor dstDesc =
            d.withChain(
                    List.of(
                        new ImageEntry(
                            x,
                            DiskDescriptor.TYPE_COMPRESSED,
                            VolumeDisk.nameFrom(dst.dir(), newFile))),
                    List.of(new Shot(x, g, null)),
                    x)
                .withVolume(new Volume(VolumeDisk.nameFrom(dst.dir(), src.dir()), g, false));
        build(
            dst,
            dstDesc,
            newFile,
            base,
            () -> {
              if (snapshotFirst) {
                new SnapshotCreator(s.disk(), StepHook.NONE).create(g);
              }
            });
        src.registerChild(dst, log);
      }
    }
  }

  /** The step that commits an operation on SRC's side (its descriptor replaced). */
  private interface Commit {
    void run() throws IOException;
  }

  /**
   * Builds the new volume DST: its empty delta {@code newFile} (header like {@code like}) and its
   * descriptor staged as {@code .tmp}, then {@code commit}, then DST's descriptor renamed into
   * place. If anything up to and including {@code commit} fails, DST's files and layout go again.
   */
  private void build(
      VolumeLayout dst, DiskDescriptor dstDesc, Path newFile, ImageHeader like, Commit commit)
      throws IOException {
    Path dstTmp = DescriptorTransaction.tempFor(dst.xml());
    boolean committed = false;
    try {
      ImageWriter.createEmpty(newFile, emptyLike(like));
      DescriptorTransaction.fsyncDirectory(newFile);
      dstDesc.writeTemp(dstTmp);
      commit.run();
      committed = true;
    } finally {
      if (!committed) {
        Files.deleteIfExists(newFile);
        Files.deleteIfExists(dstTmp);
        dst.destroy(log);
      }
    }
    Files.move(dstTmp, dst.xml(), StandardCopyOption.ATOMIC_MOVE);
    DescriptorTransaction.fsyncDirectory(dst.xml());
  }

  /** An empty delta header like {@code h}: same size, cluster and version, clean, CIF_Empty. */
  static ImageHeader emptyLike(ImageHeader h) {
    return h.withDiskInUse(ImageHeader.CLOSED_V20)
        .withFlags(ImageHeader.CIF_EMPTY)
        .withFormatExtensionOffset(0);
  }

  /** Refuses a DST that already holds a descriptor (ploop would overwrite it). */
  static void requireNew(VolumeLayout dst) throws ImageOperationException {
    if (Files.exists(dst.xml())) {
      throw new ImageOperationException(
          ImageOperationException.Kind.BUSY, "Can't create " + dst.xml() + ": File exists");
    }
  }

  /** Locks the new volume DST while it is being built. */
  static DiskLock lockNew(VolumeLayout dst) throws IOException {
    Optional<DiskLock> l = DiskLock.tryAcquire(dst.xml(), "volume create");
    return l.orElseThrow(
        () ->
            new ImageOperationException(
                ImageOperationException.Kind.BUSY,
                dst.dir() + " is in use: " + DiskLock.holder(dst.xml())));
  }
}
