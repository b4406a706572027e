package org.jploop.volume;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.format.descriptor.DiskDescriptor.Volume;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;

/**
 * One volume held for a ploop-volume operation: its {@link VolumeLayout} and its disk locked
 * through {@link OfflineDisk} (refused while mounted or busy, exit 17), with the descriptor read
 * (parents' entries as aliens). Refuses a directory without {@code <Volume>} ("Volume management is
 * prohibited on non volume layout", 38). Closing releases the lock.
 */
final class VolumeDisk implements AutoCloseable {
  private final VolumeLayout layout;
  private final OfflineDisk disk;

  private VolumeDisk(VolumeLayout layout, OfflineDisk disk) {
    this.layout = layout;
    this.disk = disk;
  }

  /** Locks and reads the volume at {@code layout}. */
  static VolumeDisk open(VolumeLayout layout, String purpose) throws IOException {
    OfflineDisk d = OfflineDisk.open(layout.xml(), purpose);
    try {
      if (d.descriptor().volume() == null) {
        throw new ImageOperationException(
            ImageOperationException.Kind.REFUSED,
            "Volume management is prohibited on non volume layout (" + layout.xml() + ")");
      }
      return new VolumeDisk(layout, d);
    } catch (IOException | RuntimeException e) {
      d.close();
      throw e;
    }
  }

  VolumeLayout layout() {
    return layout;
  }

  OfflineDisk disk() {
    return disk;
  }

  DiskDescriptor descriptor() {
    return disk.descriptor();
  }

  Volume volume() {
    return disk.descriptor().volume();
  }

  /** Returns the parent volume's layout, or null. */
  VolumeLayout parent() {
    Volume v = volume();
    return v.parent() == null ? null : new VolumeLayout(v.parentDir(layout.xml()));
  }

  /** Returns the file of image {@code e} of this volume's chain. */
  Path fileOf(ImageEntry e) throws IOException {
    return disk.fileOf(e);
  }

  /** Returns the header of the image of snapshot {@code guid} in this volume's chain. */
  ImageHeader headerOf(String guid) throws IOException {
    try (BlockFile f = FileBlockFile.open(disk.fileOf(guid), true)) {
      return ImageReader.readHeader(f);
    }
  }

  /**
   * Returns {@code image} as a descriptor in {@code dir} names it: relative when it shares a
   * directory below {@code /} with it, else absolute (ploop 9's get_relative_path).
   */
  static String nameFrom(Path dir, Path image) throws IOException {
    Path d = Files.exists(dir) ? dir.toRealPath() : dir.toAbsolutePath().normalize();
    return DiskDescriptor.relativePath(d, image);
  }

  /** Returns a copy of an own image entry with its file named from {@code dir}. */
  ImageEntry rebased(ImageEntry e, Path dir) throws IOException {
    return new ImageEntry(e.guid(), e.type(), nameFrom(dir, fileOf(e)));
  }

  @Override
  public void close() throws IOException {
    disk.close();
  }
}
