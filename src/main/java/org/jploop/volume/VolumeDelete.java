package org.jploop.volume;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.format.descriptor.DiskDescriptor.Shot;
import org.jploop.format.descriptor.DiskDescriptor.Volume;
import org.jploop.format.descriptor.Guid;
import org.jploop.image.DeltaFile;
import org.jploop.image.DeltaMerger;
import org.jploop.image.DescriptorTransaction;
import org.jploop.image.ImageOperationException;
import org.jploop.image.Progress;
import org.jploop.image.StepHook;

/**
 * {@code ploop-volume delete VOL} (ploop_volume_delete), offline, by VOL's number of children:
 *
 * <ul>
 *   <li>none: VOL's own images are deleted, VOL is removed from its parent's {@code children/}, and
 *       its layout goes (ploop deletes only the top image of a volume with a parent);
 *   <li>one, C: VOL's snapshot that C grows from is deleted inside C, as {@code snapshot-delete}
 *       does: C's lowest image is merged into VOL's image ({@link DeltaMerger}), C takes that file
 *       over and VOL's {@code <Parent>} and {@code <SnapshotGUID>}; C's descriptor is replaced
 *       atomically (the commit point), then C's old file is deleted, the links move to VOL's parent
 *       and VOL's layout goes. C must be unmounted (offline only; ploop merges a mounted child
 *       online) and VOL must hold exactly that one image;
 *   <li>more: "Unable to delete VOL: it has N children" (38), nothing changed.
 * </ul>
 */
public final class VolumeDelete {
  private final PrintWriter log;
  private final Progress progress;

  public VolumeDelete(PrintWriter log, Progress progress) {
    this.log = log;
    this.progress = progress;
  }

  /** Deletes the volume VOL. */
  public void delete(VolumeLayout vol) throws IOException {
    log.println("Delete volume " + vol.dir());
    try (VolumeDisk v = VolumeDisk.open(vol, "volume delete")) {
      v.disk().requireClean();
      List<Path> children = vol.children();
      if (children.size() > 1) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Unable to delete " + vol.dir() + ": it has " + children.size() + " children");
      }
      VolumeLayout parent = v.parent();
      if (children.isEmpty()) {
        for (ImageEntry e : v.descriptor().ownImages()) {
          Path p = v.fileOf(e);
          log.println("remove " + p);
          Files.deleteIfExists(p);
        }
        if (parent != null) {
          parent.unregisterChild(vol, log);
        }
        vol.destroy(log);
        return;
      }
      VolumeLayout child = new VolumeLayout(children.get(0));
      mergeIntoChild(v, child, parent);
      vol.destroy(log);
    }
  }

  private void mergeIntoChild(VolumeDisk v, VolumeLayout childLayout, VolumeLayout parent)
      throws IOException {
    List<ImageEntry> own = v.descriptor().ownImages();
    if (own.size() != 1) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to delete "
              + v.layout().dir()
              + ": it holds "
              + own.size()
              + " images; merge them into one first"
              + " (ploop snapshot-merge)");
    }
    try (VolumeDisk c = VolumeDisk.open(childLayout, "volume delete")) {
      c.disk().requireClean();
      DiskDescriptor cd = c.descriptor();
      String s = c.volume().snapshotGuid();
      if (s == null || cd.shot(s) == null) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Unable to delete "
                + v.layout().dir()
                + ": its child "
                + childLayout.dir()
                + " names no snapshot of it"
                + " (<SnapshotGUID>)");
      }
      ImageEntry snapImage = cd.image(s);
      if (!snapImage.alien() || !Guid.same(snapImage.guid(), own.get(0).guid())) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Unable to delete "
                + v.layout().dir()
                + ": "
                + childLayout.dir()
                + " grows from "
                + s
                + ", which is not this volume's image");
      }
      List<Shot> kids = cd.children(s);
      if (kids.size() != 1 || kids.get(0).alien()) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Can't merge to snapshot " + s + ": it has " + kids.size() + " children");
      }
      Shot snapShot = cd.shot(s);
      Shot x = kids.get(0);
      ImageEntry xImage = cd.image(x.guid());
      Path snapFile = c.fileOf(snapImage);
      Path xFile = c.fileOf(xImage);
      log.println("Merging image: " + xFile + " -> " + snapFile);
      try (DeltaFile dest = DeltaFile.open(snapFile, false);
          DeltaFile src = DeltaFile.open(xFile, true)) {
        new DeltaMerger(progress, StepHook.NONE).merge(List.of(src), dest);
      }
      List<ImageEntry> images = new ArrayList<>();
      for (ImageEntry e : cd.ownImages()) {
        images.add(
            e == xImage
                ? new ImageEntry(
                    e.guid(), e.type(), VolumeDisk.nameFrom(childLayout.dir(), snapFile))
                : e);
      }
      List<Shot> shots = new ArrayList<>();
      for (Shot sh : cd.shots()) {
        if (!sh.alien()) {
          shots.add(sh == x ? new Shot(sh.guid(), snapShot.parentGuid(), sh.temporary()) : sh);
        }
      }
      Volume vv = v.volume();
      Volume nv =
          new Volume(
              parent == null ? null : VolumeDisk.nameFrom(childLayout.dir(), parent.dir()),
              vv.snapshotGuid(),
              c.volume().readOnly());
      cd.withChain(images, shots, cd.topGuid()).withVolume(nv).write(childLayout.xml());
      Files.deleteIfExists(xFile);
      DescriptorTransaction.fsyncDirectory(xFile);
      if (parent != null) {
        parent.unregisterChild(v.layout(), log);
        parent.registerChild(childLayout, log);
      }
    }
  }
}
