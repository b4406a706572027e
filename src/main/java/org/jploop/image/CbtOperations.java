package org.jploop.image;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.jploop.format.BadExtensionException;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.CbtStore;

/**
 * The offline side of {@code ploop-cbt} (tools/ploop-cbt.c, lib/cbt.c): read the CBT of an image,
 * copy one image's CBT into another ({@code ploop_move_cbt}), drop the CBT of a disk's top delta
 * ({@code ploop_drop_cbt} offline). Messages go to {@code log} as ploop logs them. Stateless; the
 * caller holds the disk's lock where a descriptor is involved.
 */
public final class CbtOperations {
  private CbtOperations() {}

  /**
   * Reads the CBT of the ploop1 image {@code image}, read-only; null if it has none.
   *
   * @throws BadExtensionException for a dirty image with an extension ("Can't load dirty_bitmap,
   *     because image was not successfully closed") or a bad extension
   */
  public static CbtStore.Stored read(Path image) throws IOException {
    try (DeltaFile d = DeltaFile.open(image, true)) {
      return d.readCbt();
    }
  }

  /** Returns the top image of {@code disk}, or null if it is a raw image (which has no CBT). */
  public static Path topImage(OfflineDisk disk) throws IOException {
    DiskDescriptor d = disk.descriptor();
    if (d.raw() && d.images().size() == 1) {
      return null;
    }
    return disk.fileOf(d.image(d.topGuid()));
  }

  /**
   * Copies the CBT of {@code src} into {@code dst}, replacing the one {@code dst} had; {@code src}
   * keeps its own. Returns false if {@code src} has none (then {@code dst} is left alone).
   *
   * @throws BadExtensionException if either extension is bad, or the bitmap does not fit {@code
   *     dst}'s size (ploop would write it regardless); nothing is modified
   * @throws ImageOperationException DIRTY if {@code dst} is marked in use
   */
  public static boolean move(Path src, Path dst, PrintWriter log) throws IOException {
    log.println("Move CBT " + src + " -> " + dst);
    CbtStore.Stored s = read(src);
    if (s == null) {
      return false;
    }
    try (DeltaFile d = DeltaFile.open(dst, false)) {
      if (d.header().inUse()) {
        throw new ImageOperationException(
            ImageOperationException.Kind.DIRTY, "Image is in use " + dst);
      }
      if (s.bitmap().sizeSectors() != d.header().sizeSectors()) {
        throw new BadExtensionException(
            dst,
            -1,
            "Image size is not equal to dirty_bitmap size ("
                + d.header().sizeSectors()
                + " sectors, the CBT of "
                + src
                + " covers "
                + s.bitmap().sizeSectors()
                + ")");
      }
      d.readCbt(); // a bad extension in dst refuses the copy, as ploop's remove step does
      CbtCarrier.detach(d);
      d.writeCbt(s.bitmap());
    }
    return true;
  }

  /**
   * Drops the CBT of {@code disk}'s top delta (header pointer cleared, clusters cut off the end).
   * Returns false if the top is raw.
   *
   * @throws BadExtensionException if the extension is bad or the top was not closed cleanly;
   *     nothing is modified ({@code ploop check -f} removes a bad extension)
   */
  public static boolean drop(OfflineDisk disk, PrintWriter log) throws IOException {
    Path top = topImage(disk);
    if (top == null) {
      return false;
    }
    log.println("Drop CBT image=" + top);
    try (DeltaFile d = DeltaFile.open(top, false)) {
      CbtStore.drop(d.file(), d.header(), d.dataEnd());
    }
    return true;
  }
}
