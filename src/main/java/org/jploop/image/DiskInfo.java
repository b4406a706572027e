package org.jploop.image;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jploop.format.FormatVersion;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.DiskLock;

/**
 * What {@code ploop info} reports for a disk: size, cluster size and version of the top delta,
 * every delta of the chain (base first), and who holds the disk's lock if it is in use.
 *
 * @param descriptor the DiskDescriptor.xml, or null for a bare image
 * @param sizeSectors virtual size in sectors (the top delta's)
 * @param clusterSectors cluster size in sectors
 * @param version the top delta's format version (null for a raw-only disk)
 * @param deltas the chain, base first
 * @param lockHolder "pid purpose" of whoever holds the DiskLock (the mount daemon), or null
 */
public record DiskInfo(
    Path descriptor,
    long sizeSectors,
    int clusterSectors,
    FormatVersion version,
    List<DeltaInfo> deltas,
    String lockHolder) {

  public DiskInfo {
    deltas = List.copyOf(deltas);
  }

  /** Reads a disk through its descriptor: every delta of the top chain. */
  public static DiskInfo ofDescriptor(Path xml) throws IOException {
    DiskDescriptor d = DiskDescriptor.read(xml);
    List<DiskDescriptor.ImageEntry> chain = d.topChain(xml);
    List<DeltaInfo> deltas = new ArrayList<>();
    for (DiskDescriptor.ImageEntry e : chain) {
      Path p = d.fileOf(xml, e);
      deltas.add(
          d.raw() && deltas.isEmpty()
              ? DeltaInfo.readRaw(p, e.guid(), d.blocksize())
              : DeltaInfo.readImage(p, e.guid()));
    }
    DeltaInfo top = deltas.get(deltas.size() - 1);
    long size = top.raw() ? d.diskSizeSectors() : top.sizeSectors();
    return new DiskInfo(xml, size, d.blocksize(), top.version(), deltas, lockHolder(xml));
  }

  /** Reads a bare image file. */
  public static DiskInfo ofImage(Path image) throws IOException {
    DeltaInfo di = DeltaInfo.readImage(image, null);
    return new DiskInfo(
        null, di.sizeSectors(), di.clusterSectors(), di.version(), List.of(di), null);
  }

  /** Returns the top delta. */
  public DeltaInfo top() {
    return deltas.get(deltas.size() - 1);
  }

  /** Returns whether the disk's lock is held (mounted, or an offline operation runs). */
  public boolean locked() {
    return lockHolder != null;
  }

  /** Returns the holder text if someone holds the disk's lock, else null (probes the lock). */
  static String lockHolder(Path xml) throws IOException {
    Optional<DiskLock> probe = DiskLock.tryAcquire(xml, "info");
    if (probe.isPresent()) {
      probe.get().close();
      return null;
    }
    return DiskLock.holder(xml);
  }
}
