package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.host.DeviceName;
import org.jploop.host.LoopDevice;
import org.jploop.host.MountTable;

/**
 * What the block layer shows of a disk served by a mount daemon, read afresh from the machine: its
 * {@code disk.img}, the loop device attached to it (the first one, if any), that loop's partition 1
 * (or the whole loop device without a partition table), the ploop device name linked to it, where
 * the filesystem on it is mounted (by {@code ploop mount -m} or by the user), the descriptor and
 * the top delta. The balloon, discard and resize verbs work from this. Immutable.
 *
 * @param status the daemon's status
 * @param descriptor the descriptor as read
 * @param loop the loop device over disk.img, or null
 * @param fsDevice partition 1 of the loop device (or the loop device itself), or null
 * @param name the ploop device name of the loop, or null
 * @param mountPoint where the filesystem on {@code fsDevice} is mounted, or null
 */
public record DiskAttachment(
    MountStatus status,
    DiskDescriptor descriptor,
    LoopDevice loop,
    String fsDevice,
    DeviceName name,
    Path mountPoint) {

  /** Reads the attachment of the disk {@code st} describes. */
  public static DiskAttachment of(MountStatus st) throws IOException {
    DiskDescriptor d = DiskDescriptor.read(Path.of(st.descriptor()));
    List<LoopDevice> loops = LoopDevice.backedBy(Path.of(st.diskImage()));
    LoopDevice loop = loops.isEmpty() ? null : loops.get(0);
    if (st.loopDevice() != null) {
      for (LoopDevice l : loops) {
        if (l.device().equals(st.loopDevice())) {
          loop = l;
        }
      }
    }
    if (loop == null) {
      return new DiskAttachment(st, d, null, null, null, null);
    }
    String fsDev = loop.filesystemDevice();
    List<DeviceName> names = DeviceName.of(loop);
    Optional<MountTable.Entry> m = MountTable.fromDevice(loop.device()).stream().findFirst();
    return new DiskAttachment(
        st,
        d,
        loop,
        fsDev,
        names.isEmpty() ? null : names.get(0),
        m.map(e -> Path.of(e.mountPoint())).orElse(null));
  }

  /** Returns the descriptor's path. */
  public Path xml() {
    return Path.of(status.descriptor());
  }

  /** Returns the served {@code disk.img}. */
  public Path diskImage() {
    return Path.of(status.diskImage());
  }

  /** Returns the top delta's file. */
  public Path topImage() throws IOException {
    List<Path> files = descriptor.topChainFiles(xml());
    return files.get(files.size() - 1);
  }

  /** Returns the cluster size in bytes. */
  public long clusterBytes() {
    return descriptor.blocksize() * 512L;
  }

  /** Returns the disk size in bytes, as the kernel sees disk.img. */
  public long diskBytes() throws IOException {
    return Files.size(diskImage());
  }

  /**
   * Returns where partition 1 starts on the disk, in bytes (0 when the filesystem is on the whole
   * device), from sysfs.
   */
  public long partitionStartBytes() throws IOException {
    if (loop == null || fsDevice == null || fsDevice.equals(loop.device())) {
      return 0;
    }
    String ln = Path.of(loop.device()).getFileName().toString();
    Path start = Path.of("/sys/block", ln, ln + "p1", "start");
    return Long.parseLong(Files.readString(start).strip()) * 512;
  }

  /** Returns the size of partition 1 (or of the whole device) in bytes, from sysfs. */
  public long partitionBytes() throws IOException {
    String ln = Path.of(loop.device()).getFileName().toString();
    Path size =
        fsDevice.equals(loop.device())
            ? Path.of("/sys/block", ln, "size")
            : Path.of("/sys/block", ln, ln + "p1", "size");
    return Long.parseLong(Files.readString(size).strip()) * 512;
  }

  /** Returns how ploop names the device: the ploop name if linked, else the loop device. */
  public String deviceLabel() {
    return name != null ? name.path() : loop != null ? loop.device() : status.diskImage();
  }
}
