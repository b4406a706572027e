package org.jploop.daemon;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.jploop.engine.VirtualDisk;
import org.jploop.format.descriptor.DiskDescriptor;

/**
 * Tells, without serving the disk, what {@code ploop init} left on it: reads the virtual disk
 * read-only through the engine, looks for a GPT ("EFI PART" in sector 1) and its partition 1, and
 * at the start of that partition (or of the disk) for an ext2/3/4 superblock (magic 0xEF53 at byte
 * 1080) or an xfs one ("XFSB"). {@code ploop resize} uses it to decide whether a filesystem must be
 * resized with the image (which needs the disk served and a loop device) or only the image grows
 * ({@code -t none} disks). Stateless.
 */
public final class FilesystemProbe {
  /** What was found. */
  public enum Kind {
    /** No filesystem jploop knows. */
    NONE,
    /** ext2, ext3 or ext4. */
    EXT,
    /** xfs. */
    XFS
  }

  /**
   * The result.
   *
   * @param kind the filesystem found
   * @param partitionStartSector where it starts (0: whole disk)
   * @param gpt whether the disk has a GPT
   */
  public record Found(Kind kind, long partitionStartSector, boolean gpt) {}

  private FilesystemProbe() {}

  /** Probes the disk of {@code xml} (not mounted; the caller holds the disk lock). */
  public static Found probe(Path xml) throws IOException {
    DiskDescriptor d = DiskDescriptor.read(xml);
    try (VirtualDisk disk = DiskOpener.open(xml, d, true)) {
      return probe(disk);
    }
  }

  /** Probes an open disk. */
  public static Found probe(VirtualDisk disk) throws IOException {
    long start = 0;
    boolean gpt = false;
    if (disk.size() >= 34 * 512) {
      ByteBuffer h = read(disk, 512, 512);
      if ("EFI PART".equals(new String(h.array(), h.arrayOffset(), 8, StandardCharsets.US_ASCII))) {
        gpt = true;
        long entriesLba = h.getLong(72);
        ByteBuffer e = read(disk, entriesLba * 512, 128);
        boolean used = e.getLong(0) != 0 || e.getLong(8) != 0;
        start = used ? e.getLong(32) : 0;
      }
    }
    if (start * 512 + 4096 > disk.size()) {
      return new Found(Kind.NONE, start, gpt);
    }
    ByteBuffer sb = read(disk, start * 512, 2048);
    if ((sb.getShort(1024 + 56) & 0xffff) == 0xEF53) {
      return new Found(Kind.EXT, start, gpt);
    }
    if ("XFSB".equals(new String(sb.array(), sb.arrayOffset(), 4, StandardCharsets.US_ASCII))) {
      return new Found(Kind.XFS, start, gpt);
    }
    return new Found(Kind.NONE, start, gpt);
  }

  private static ByteBuffer read(VirtualDisk disk, long offset, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    disk.read(b, offset);
    b.clear();
    return b;
  }
}
