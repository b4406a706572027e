package org.jploop.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.FileUsage;
import org.jploop.io.ImageReader;

/**
 * What {@code ploop info} says about one delta file: its header values, how many virtual clusters
 * it maps, its length and the space it really takes.
 *
 * @param file the image file
 * @param guid its snapshot GUID from the descriptor, or null for a bare image
 * @param raw whether it is a raw (Plain) image without header
 * @param version format version, null for raw
 * @param clusterSectors cluster size in sectors (the descriptor's blocksize for raw)
 * @param sizeSectors virtual size in sectors ({@code m_SizeInSectors}; file size for raw)
 * @param clustersAllocated non-zero BAT entries among the first {@code m_Size} (raw: -1)
 * @param fileBytes the file's length
 * @param bytesOnDisk space allocated to the file (st_blocks * 512)
 * @param diskInUse raw {@code m_DiskInUse} (0 for raw)
 * @param flags raw {@code m_Flags} (0 for raw)
 */
public record DeltaInfo(
    Path file,
    String guid,
    boolean raw,
    FormatVersion version,
    int clusterSectors,
    long sizeSectors,
    long clustersAllocated,
    long fileBytes,
    long bytesOnDisk,
    long diskInUse,
    long flags) {

  /** Reads a ploop1 delta: validated header and BAT. Errors name the file and offset. */
  public static DeltaInfo readImage(Path file, String guid) throws IOException {
    try (BlockFile f = FileBlockFile.openForMetadata(file)) {
      ImageHeader h = ImageReader.readHeader(f);
      int[] slots = ImageReader.readBatSlots(f, h);
      long allocated = 0;
      for (int i = 0; i < h.batEntries() && i < slots.length; i++) {
        if (slots[i] != 0) {
          allocated++;
        }
      }
      return new DeltaInfo(
          file,
          guid,
          false,
          h.version(),
          (int) h.clusterSectors(),
          h.sizeSectors(),
          allocated,
          f.size(),
          FileUsage.bytesOnDisk(file),
          h.diskInUse(),
          h.flags());
    }
  }

  /** Describes a raw image of the descriptor's blocksize. */
  public static DeltaInfo readRaw(Path file, String guid, int blocksize) throws IOException {
    long size = Files.size(file);
    return new DeltaInfo(
        file, guid, true, null, blocksize, size / 512, -1, size, FileUsage.bytesOnDisk(file), 0, 0);
  }

  /** Returns whether the in-use flag is set (not closed cleanly, or open read-write now). */
  public boolean inUse() {
    return diskInUse == ImageHeader.IN_USE;
  }

  /** Returns "clean", "in use" or "clean (v2.1, extension valid)" for the in-use marker. */
  public String state() {
    if (raw) {
      return "raw";
    }
    if (diskInUse == ImageHeader.IN_USE) {
      return "in use (dirty)";
    }
    return diskInUse == ImageHeader.CLOSED_V21 ? "clean (v2.1)" : "clean";
  }
}
