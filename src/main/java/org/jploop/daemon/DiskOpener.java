package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jploop.engine.EngineOptions;
import org.jploop.engine.ImageInUseException;
import org.jploop.engine.PloopDisk;
import org.jploop.engine.RawDisk;
import org.jploop.engine.VirtualDisk;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.jploop.host.MountException;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;

/**
 * The one place that turns a descriptor into the {@link VirtualDisk} the daemon serves: a lone
 * {@code Plain} image becomes a {@link RawDisk}; a chain of ploop1 deltas (on a ploop1 or a raw
 * base) is refused if its top delta is dirty and otherwise opened as a {@link PloopDisk} (lower
 * deltas read-only, the top read-write unless {@code -r}).
 */
public final class DiskOpener {
  private DiskOpener() {}

  /** Opens the disk of {@code xml} ({@code descriptor} read from it). */
  public static VirtualDisk open(Path xml, DiskDescriptor descriptor, boolean readOnly)
      throws IOException {
    return open(xml, descriptor, readOnly, null);
  }

  /**
   * Opens the disk of {@code xml} as of snapshot {@code guid} (the chain from the base up to it;
   * null = the top). A snapshot below the top is only opened read-only: the deltas above it depend
   * on its content.
   */
  public static VirtualDisk open(Path xml, DiskDescriptor descriptor, boolean readOnly, String guid)
      throws IOException {
    boolean atTop = guid == null || Guid.same(guid, descriptor.topGuid());
    if (!atTop && !readOnly) {
      throw new IllegalArgumentException(
          "Snapshot "
              + guid
              + " is not the top delta; mount it"
              + " read-only (-r): the deltas above it depend on its content");
    }
    List<Path> files = atTop ? descriptor.topChainFiles(xml) : descriptor.chainFiles(xml, guid);
    Path top = files.get(files.size() - 1);
    boolean rawBase = descriptor.raw();
    if (rawBase && files.size() == 1) {
      return new RawDisk(FileBlockFile.open(top, readOnly));
    }
    if (!readOnly) {
      refuseDirty(xml, top);
    }
    try {
      return PloopDisk.openPaths(files, rawBase, EngineOptions.defaults().readOnly(readOnly));
    } catch (ImageInUseException e) {
      throw new MountException(MountException.Reason.DIRTY, dirtyMessage(top), e);
    }
  }

  private static String dirtyMessage(Path top) {
    return "Image " + top + " is dirty (not closed cleanly); run ploop check -d " + top + " first";
  }

  /** Throws {@link MountException.Reason#DIRTY} if {@code top}'s in-use flag is set. */
  static void refuseDirty(Path xml, Path top) throws IOException {
    ImageHeader h;
    try (FileBlockFile f = FileBlockFile.open(top, true)) {
      h = ImageReader.readHeader(f);
    }
    if (h.inUse()) {
      throw new MountException(MountException.Reason.DIRTY, dirtyMessage(top));
    }
  }
}
