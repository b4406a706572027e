package org.jploop.copy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.BitSet;
import org.jploop.daemon.DiskOpener;
import org.jploop.engine.PloopDisk;
import org.jploop.engine.VirtualDisk;
import org.jploop.format.DirtyBitmap;
import org.jploop.image.CbtOperations;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import org.jploop.io.CbtStore;

/**
 * An unmounted disk as a {@link CopySource}: the chain opened read-only in this process under the
 * disk lock ({@link OfflineDisk}), so nothing changes while it is sent: no changes, freeze is a
 * no-op, the CBT is the one saved in the top delta's Format Extension. Used by one thread.
 */
final class OfflineCopySource implements CopySource {
  private final OfflineDisk lock;
  private final PloopDisk disk;

  private OfflineCopySource(OfflineDisk lock, PloopDisk disk) {
    this.lock = lock;
    this.disk = disk;
  }

  static OfflineCopySource open(Path xml) throws IOException {
    OfflineDisk lock = OfflineDisk.open(xml, "copy");
    try {
      VirtualDisk v = DiskOpener.open(xml, lock.descriptor(), true);
      if (!(v instanceof PloopDisk p)) {
        v.close();
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "ploop copy of a disk with a raw (Plain) image is not supported");
      }
      return new OfflineCopySource(lock, p);
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  @Override
  public long sizeBytes() {
    return disk.size();
  }

  @Override
  public long clusterBytes() {
    return disk.clusterBytes();
  }

  @Override
  public BitSet mapped() {
    BitSet b = new BitSet();
    long n = (disk.size() + disk.clusterBytes() - 1) / disk.clusterBytes();
    for (long c = 0; c < n; c++) {
      if (disk.mappedInTop(c)) {
        b.set((int) c);
      }
    }
    return b;
  }

  @Override
  public BitSet takeChanged() {
    return new BitSet();
  }

  @Override
  public void read(long cluster, byte[] dst, int len) throws IOException {
    disk.read(ByteBuffer.wrap(dst, 0, len), cluster * disk.clusterBytes());
  }

  @Override
  public void freeze() {}

  @Override
  public void thaw() {}

  @Override
  public DirtyBitmap cbt() throws IOException {
    Path top = lock.fileOf(lock.descriptor().topGuid());
    CbtStore.Stored s = CbtOperations.read(top);
    return s == null ? null : s.bitmap();
  }

  @Override
  public void close() throws IOException {
    try {
      disk.close();
    } finally {
      lock.close();
    }
  }
}
