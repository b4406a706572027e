package org.jploop.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.format.descriptor.DiskDescriptor.Shot;
import org.jploop.format.descriptor.Guid;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.io.ImageWriter;

/**
 * {@code ploop snapshot-switch}: discards the current top delta and puts a new empty top delta on
 * the chosen snapshot, so the disk shows that snapshot's content again. Offline only.
 *
 * <p>Order: stage the descriptor, create the new empty delta, commit the descriptor, delete the old
 * top's file. A crash before the commit keeps the old top in force.
 */
public final class SnapshotSwitcher {
  private final OfflineDisk disk;
  private final StepHook hook;

  public SnapshotSwitcher(OfflineDisk disk, StepHook hook) {
    this.disk = disk;
    this.hook = hook;
  }

  /** Switches to snapshot {@code guid}. */
  public void switchTo(String guid) throws IOException {
    DiskDescriptor d = disk.descriptor();
    if (Guid.same(guid, d.topGuid())) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED, "Nothing to do, already on " + guid + " snapshot");
    }
    Shot target = d.shot(guid);
    if (target == null) {
      throw OfflineDisk.noSnapshot(guid);
    }
    if (target.temporary() != null) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to switch to the temporary snapshot " + guid);
    }
    disk.requireClean();
    disk.requireNoParentVolumes("switch snapshots");
    disk.requireNotShared("switch snapshots", List.of(d.topGuid()));
    ImageEntry oldTop = d.image(d.topGuid());
    Path oldTopFile = disk.fileOf(oldTop);
    ImageHeader h;
    if (d.raw() && d.images().get(0) == d.image(guid)) {
      h =
          ImageHeader.create(
              FormatVersion.V2, ImageGeometry.forSize(d.diskSizeSectors(), d.blocksize()));
    } else {
      try (BlockFile f = FileBlockFile.open(disk.fileOf(guid), true)) {
        h = ImageReader.readHeader(f);
      }
    }
    String fileName = d.images().get(0).file() + "." + Guid.random();
    List<ImageEntry> images = new ArrayList<>();
    for (ImageEntry e : d.images()) {
      if (e != oldTop) {
        images.add(e);
      }
    }
    images.add(new ImageEntry(Guid.TOP_DELTA, DiskDescriptor.TYPE_COMPRESSED, fileName));
    List<Shot> shots = new ArrayList<>();
    for (Shot s : d.shots()) {
      if (!Guid.same(s.guid(), d.topGuid())) {
        shots.add(s);
      }
    }
    shots.add(new Shot(Guid.TOP_DELTA, target.guid(), null));
    DiskDescriptor next = d.withChain(images, shots, Guid.TOP_DELTA).withSize(h.sizeSectors());
    DescriptorTransaction tx = new DescriptorTransaction(disk.xml());
    tx.stage(next);
    hook.reached("switch: descriptor staged");
    Path newTop = disk.xml().resolveSibling(fileName);
    ImageWriter.createEmpty(
        newTop,
        h.withDiskInUse(ImageHeader.CLOSED_V20)
            .withFlags(ImageHeader.CIF_EMPTY)
            .withFormatExtensionOffset(0));
    DescriptorTransaction.fsyncDirectory(newTop);
    hook.reached("switch: new delta created");
    tx.commit();
    disk.update(next);
    hook.reached("switch: descriptor committed");
    Files.deleteIfExists(oldTopFile);
    DescriptorTransaction.fsyncDirectory(oldTopFile);
    hook.reached("switch: old top deleted");
  }
}
