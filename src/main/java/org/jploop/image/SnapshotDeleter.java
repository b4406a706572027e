package org.jploop.image;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.format.descriptor.DiskDescriptor.Shot;
import org.jploop.format.descriptor.Guid;

/**
 * {@code ploop snapshot-delete}: removes a snapshot, acting on its number of children as ploop
 * does. No child: drop the entry and the file (a deleted top hands {@link Guid#TOP_DELTA} to its
 * parent). One child: merge the child into the snapshot's file ({@link SnapshotMerger}). More: mark
 * it {@code <Temporary/>} so it is merged once that becomes possible.
 */
public final class SnapshotDeleter {
  private final OfflineDisk disk;
  private final Progress progress;
  private final PrintWriter log;
  private final StepHook hook;

  public SnapshotDeleter(OfflineDisk disk, Progress progress, PrintWriter log, StepHook hook) {
    this.disk = disk;
    this.progress = progress;
    this.log = log;
    this.hook = hook;
  }

  /** Deletes snapshot {@code guid}, then merges temporary snapshots that now can be. */
  public void delete(String guid) throws IOException {
    deleteOne(guid);
    mergeTemporary();
  }

  /**
   * Merges away every {@code <Temporary/>} snapshot that is down to one child (ploop does this
   * after each delete), so a snapshot deleted while it had two children disappears once one of them
   * goes.
   */
  public void mergeTemporary() throws IOException {
    boolean again = true;
    while (again) {
      again = false;
      DiskDescriptor d = disk.descriptor();
      Map<String, Path> shared = ChildVolumes.shared(disk.xml(), d);
      for (Shot s : d.shots()) {
        List<Shot> children = d.children(s.guid());
        // a snapshot a child volume grows from stays until that volume is deleted
        if (s.temporary() != null
            && children.size() == 1
            && !shared.containsKey(s.guid().toLowerCase(Locale.ROOT))) {
          log.println("Merging temporary snapshot " + s.guid());
          new SnapshotMerger(disk, progress, log, hook).mergeIntoParent(children.get(0).guid());
          again = true;
          break;
        }
      }
    }
  }

  private void deleteOne(String guid) throws IOException {
    disk.requireClean();
    DiskDescriptor d = disk.descriptor();
    Shot shot = d.shot(guid);
    if (shot == null) {
      throw OfflineDisk.noSnapshot(guid);
    }
    if (shot.alien()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to delete "
              + guid
              + ": it belongs to a parent volume; use ploop-volume delete on that volume");
    }
    List<Shot> children = d.children(shot.guid());
    if (children.size() == 1) {
      new SnapshotMerger(disk, progress, log, hook).mergeIntoParent(children.get(0).guid());
      return;
    }
    if (children.size() > 1) {
      log.println(
          "Warning: snapshot "
              + shot.guid()
              + " has "
              + children.size()
              + " children, marking it as temporary instead");
      List<Shot> shots =
          d.shots().stream()
              .map(s -> s == shot ? new Shot(s.guid(), s.parentGuid(), "Temporary") : s)
              .toList();
      DiskDescriptor next = d.withChain(d.images(), shots, d.topGuid());
      next.write(disk.xml());
      disk.update(next);
      return;
    }
    if (Guid.same(shot.parentGuid(), Guid.NONE)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED, "Unable to delete base image");
    }
    disk.requireNotShared("delete snapshot " + guid, List.of(guid));
    boolean isTop = Guid.same(shot.guid(), d.topGuid());
    Shot parent = d.shot(shot.parentGuid());
    if (isTop && parent.temporary() != null) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to delete " + shot.guid() + ": its parent " + parent.guid() + " is temporary");
    }
    ImageEntry image = d.image(shot.guid());
    Path file = disk.fileOf(image);
    List<ImageEntry> images = new ArrayList<>();
    for (ImageEntry e : d.images()) {
      if (e == image) {
        continue;
      }
      boolean promote = isTop && Guid.same(e.guid(), parent.guid());
      images.add(promote ? new ImageEntry(Guid.TOP_DELTA, e.type(), e.file()) : e);
    }
    List<Shot> shots = new ArrayList<>();
    for (Shot s : d.shots()) {
      if (s == shot) {
        continue;
      }
      if (isTop && s == parent) {
        shots.add(new Shot(Guid.TOP_DELTA, s.parentGuid(), null));
      } else if (isTop && Guid.same(s.parentGuid(), parent.guid())) {
        shots.add(new Shot(s.guid(), Guid.TOP_DELTA, s.temporary()));
      } else {
        shots.add(s);
      }
    }
    DiskDescriptor next = d.withChain(images, shots, d.topGuid());
    next.write(disk.xml());
    disk.update(next);
    hook.reached("delete: descriptor committed");
    Files.deleteIfExists(file);
    DescriptorTransaction.fsyncDirectory(file);
    hook.reached("delete: file removed");
  }
}
