package org.jploop.volume;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.format.descriptor.DiskDescriptor.Shot;
import org.jploop.format.descriptor.DiskDescriptor.Volume;
import org.jploop.format.descriptor.Guid;
import org.jploop.image.DescriptorTransaction;
import org.jploop.image.ImageOperationException;
import org.jploop.io.ImageWriter;

/**
 * {@code ploop-volume switch FROM TO} (ploop_volume_switch), offline: the read-write volume FROM,
 * unmounted and without children, drops its content and becomes a clone of TO: one new empty delta
 * (in the directory of FROM's base image) on TO's top when TO is a snapshot, else on TO's {@code
 * <SnapshotGUID>} or the parent of TO's top. FROM's descriptor is replaced atomically (the commit
 * point), then the links move ({@code TO/children/FROM}, off FROM's old parent) and FROM's old
 * images are deleted ("remove old rw delta"; ploop deletes only the top and leaves any other image
 * of FROM behind).
 */
public final class VolumeSwitch {
  private final PrintWriter log;

  public VolumeSwitch(PrintWriter log) {
    this.log = log;
  }

  /** Switches FROM to TO. */
  public void switchTo(VolumeLayout from, VolumeLayout to) throws IOException {
    log.println("Switch " + from.dir() + " to " + to.dir());
    try (VolumeDisk f = VolumeDisk.open(from, "volume switch")) {
      if (f.volume().readOnly()) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED, "Switching from snapshot is prohibited");
      }
      int n = from.children().size();
      if (n != 0) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Unable to switch from " + from.dir() + ": it has " + n + " children");
      }
      DiskDescriptor fd = f.descriptor();
      List<Path> oldFiles = new ArrayList<>();
      for (ImageEntry e : fd.ownImages()) {
        oldFiles.add(f.fileOf(e));
      }
      List<ImageEntry> chain = fd.topChain(from.xml());
      Path storage = f.fileOf(chain.get(0)).getParent();
      try (VolumeDisk t = VolumeDisk.open(to, "volume switch")) {
        DiskDescriptor td = t.descriptor();
        String snap;
        if (t.volume().readOnly()) {
          snap = td.topGuid();
        } else if (t.volume().snapshotGuid() != null) {
          snap = t.volume().snapshotGuid();
        } else {
          snap = td.shot(td.topGuid()).parentGuid();
        }
        if (Guid.same(snap, Guid.NONE)) {
          throw new ImageOperationException(
              ImageOperationException.Kind.REFUSED,
              "Unable to"
                  + " switch to "
                  + to.dir()
                  + ": it is a single read-write image with no snapshot"
                  + " to share (take one with ploop-volume snapshot first)");
        }
        ImageHeader h = t.headerOf(snap);
        Path newFile = storage.resolve(Guid.random() + ".hds");
        String x = Guid.random();
        DiskDescriptor next =
            td.withChain(
                    List.of(
                        new ImageEntry(
                            x,
                            DiskDescriptor.TYPE_COMPRESSED,
                            VolumeDisk.nameFrom(from.dir(), newFile))),
                    List.of(new Shot(x, snap, null)),
                    x)
                .withVolume(new Volume(VolumeDisk.nameFrom(from.dir(), to.dir()), snap, false));
        ImageWriter.createEmpty(newFile, VolumeSnapshot.emptyLike(h));
        DescriptorTransaction.fsyncDirectory(newFile);
        try {
          next.write(from.xml());
        } catch (IOException | RuntimeException e) {
          Files.deleteIfExists(newFile);
          throw e;
        }
        VolumeLayout oldParent = f.parent();
        if (oldParent != null) {
          oldParent.unregisterChild(from, log);
        }
        to.registerChild(from, log);
        for (Path p : oldFiles) {
          log.println("remove old rw delta " + p);
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
