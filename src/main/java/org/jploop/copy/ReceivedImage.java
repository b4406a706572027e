package org.jploop.copy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jploop.engine.ChangedBlockTracker;
import org.jploop.engine.EngineOptions;
import org.jploop.engine.PloopDisk;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.stream.CbtBatch;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageWriter;

/**
 * The image a copy builds, what ploop's receiver mounts as a device: created at INIT as a fresh
 * expanded ploop image (default version, the sender's cluster size and disk size; no
 * DiskDescriptor.xml), opened read-write in this process through the engine ({@link PloopDisk}) on
 * an {@link UnfinishedImageFile}, written by DATA_DEVICE packets at their virtual offsets, flushed
 * at SYNC, given the sender's CBT, closed at UMOUNT (the CBT is saved into its Format Extension, as
 * ploop's umount of the receiving device does), and made a valid image by {@link #finish}. {@link
 * #abort} closes and removes it. Used by one thread.
 */
final class ReceivedImage {
  private final Path file;
  private final long sizeBytes;
  private final long clusterBytes;
  private UnfinishedImageFile top;
  private PloopDisk disk;
  private boolean closed;

  private ReceivedImage(
      Path file, long sizeBytes, long clusterBytes, UnfinishedImageFile top, PloopDisk disk) {
    this.file = file;
    this.sizeBytes = sizeBytes;
    this.clusterBytes = clusterBytes;
    this.top = top;
    this.disk = disk;
  }

  /**
   * Creates {@code file} (O_EXCL, 0600) for a disk of {@code sizeSectors} with clusters of {@code
   * clusterSectors} and opens it. Parameters are checked by the caller.
   *
   * @throws java.nio.file.FileAlreadyExistsException if {@code file} exists (nothing is touched)
   */
  static ReceivedImage create(Path file, long sizeSectors, int clusterSectors) throws IOException {
    ImageGeometry g = ImageGeometry.forSize(sizeSectors, clusterSectors);
    ImageWriter.createEmpty(file, ImageHeader.create(FormatVersion.V2, g));
    UnfinishedImageFile top = null;
    try {
      top = new UnfinishedImageFile(FileBlockFile.open(file, false));
      // ENOSPC fails at once: a receiver has no one to wait for, and a full disk is an error.
      PloopDisk disk = PloopDisk.open(List.of(top), EngineOptions.defaults().enospcTimeoutMs(0));
      return new ReceivedImage(file, g.sizeBytes(), g.clusterBytes(), top, disk);
    } catch (IOException | RuntimeException e) {
      if (top != null) {
        top.close();
      }
      Files.deleteIfExists(file);
      throw e;
    }
  }

  long sizeBytes() {
    return sizeBytes;
  }

  long clusterBytes() {
    return clusterBytes;
  }

  /** Returns whether the engine is still open (before UMOUNT). */
  boolean open() {
    return !closed;
  }

  /** Writes {@code data} at virtual byte {@code pos} (bounds checked by the caller). */
  void write(byte[] data, long pos) throws IOException {
    disk.write(ByteBuffer.wrap(data), pos);
  }

  /** SYNC: makes everything written so far durable. */
  void sync() throws IOException {
    disk.flush();
  }

  /**
   * Applies one CBT batch: the first ({@code start == 0}) starts the CBT with the batch's UUID and
   * block size (BLKCBTSTART), each marks its extents (BLKCBTSET).
   *
   * @throws IllegalArgumentException if the batch does not fit the disk or no CBT was started
   */
  void cbt(CbtBatch b) throws IOException {
    ChangedBlockTracker t;
    if (b.start() == 0) {
      if (disk.tracking().cbt().isPresent()) {
        throw new IllegalArgumentException("a second CBT batch starts at offset 0");
      }
      t = disk.tracking().startCbt(b.id(), b.blockSize());
    } else {
      t =
          disk.tracking()
              .cbt()
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "CBT batch at " + b.start() + " before the one at offset 0"));
      if (!t.id().equals(b.id()) || t.granularityBytes() != b.blockSize()) {
        throw new IllegalArgumentException(
            "CBT batch "
                + b.id()
                + "/"
                + b.blockSize()
                + " does not continue CBT "
                + t.id()
                + "/"
                + t.granularityBytes());
      }
    }
    for (long[] e : b.extents()) {
      if (e[0] >= sizeBytes || e[1] > sizeBytes - e[0]) {
        throw new IllegalArgumentException(
            "CBT extent {" + e[0] + ", " + e[1] + "} is past the disk's " + sizeBytes + " bytes");
      }
      t.mark(e[0], e[1]);
    }
  }

  /** UMOUNT: closes the engine (flush, CBT saved, in-use cleared). Idempotent. */
  void umount() throws IOException {
    if (!closed) {
      closed = true;
      disk.close();
    }
  }

  /** FINISH: closes if still open and writes the real signature: the file is a valid image. */
  void finish() throws IOException {
    umount();
    top.finish(file);
  }

  /** Closes the engine (errors ignored) and removes the file. */
  void abort() {
    try {
      umount();
    } catch (IOException | RuntimeException e) {
      // the file goes anyway
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // nothing more to do: the signature mark keeps the file from looking complete
    }
  }
}
