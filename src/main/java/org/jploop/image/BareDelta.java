package org.jploop.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jploop.format.CorruptImageException;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.BlockFile;
import org.jploop.io.DiskLock;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;

/**
 * Opening delta files named on the command line without a descriptor ({@code ploop grow DELTA},
 * {@code ploop merge DELTA... BASE}), with ploop's open_delta failures: a missing file, a file that
 * is not a ploop image, or one whose in-use flag is set all give {@link
 * ImageOperationException.Kind#OPEN} (exit 4) naming the file. {@link #lockDisks} takes the {@link
 * DiskLock} of every {@code DiskDescriptor.xml} beside those files, so a bare operation never runs
 * under a mounted disk. Stateless.
 */
public final class BareDelta {
  private BareDelta() {}

  /**
   * Opens a ploop1 delta. A missing file, a bad header or the in-use flag fail with OPEN, as in
   * ploop ("Image is in use"); a damaged BAT fails as CorruptImageException (exit 11), since moving
   * data on it would destroy more.
   */
  public static DeltaFile open(Path path, boolean readOnly) throws IOException {
    ImageHeader h;
    try (BlockFile f = FileBlockFile.open(path, true)) {
      h = ImageReader.readHeader(f);
    } catch (NoSuchFileException e) {
      throw new ImageOperationException(
          ImageOperationException.Kind.OPEN, "open " + path + ": No such file or directory");
    } catch (CorruptImageException e) {
      throw new ImageOperationException(ImageOperationException.Kind.OPEN, e.getMessage());
    }
    if (h.inUse()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.OPEN,
          "Image is in use " + path + " (the dirty flag is set; run ploop check first)");
    }
    return DeltaFile.open(path, readOnly);
  }

  /** Fails with OPEN when {@code path} is not an existing regular file. */
  public static void requireFile(Path path) throws ImageOperationException {
    if (!Files.isRegularFile(path)) {
      throw new ImageOperationException(
          ImageOperationException.Kind.OPEN, "open " + path + ": No such file or directory");
    }
  }

  /**
   * Locks the disk of every directory holding one of {@code files} that has a {@code
   * DiskDescriptor.xml}; the caller closes the returned locks.
   *
   * @throws ImageOperationException BUSY if one of them is mounted or busy
   */
  public static List<DiskLock> lockDisks(List<Path> files, String purpose) throws IOException {
    Set<Path> xmls = new LinkedHashSet<>();
    for (Path f : files) {
      Path dir = f.toAbsolutePath().getParent();
      Path xml = dir.resolve(DiskDescriptor.FILE_NAME);
      if (Files.exists(xml)) {
        xmls.add(xml);
      }
    }
    List<DiskLock> held = new ArrayList<>();
    try {
      for (Path xml : xmls) {
        Optional<DiskLock> l = DiskLock.tryAcquire(xml, purpose);
        if (l.isEmpty()) {
          throw new ImageOperationException(
              ImageOperationException.Kind.BUSY,
              "Image "
                  + xml.getParent()
                  + " is in use (mounted or busy: "
                  + DiskLock.holder(xml)
                  + ")");
        }
        held.add(l.get());
      }
    } catch (IOException | RuntimeException e) {
      unlock(held);
      throw e;
    }
    return held;
  }

  /** Releases locks taken by {@link #lockDisks}. */
  public static void unlock(List<DiskLock> locks) throws IOException {
    IOException first = null;
    for (DiskLock l : locks) {
      try {
        l.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
