package org.jploop.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a file's bytes sit on its filesystem's device, as the {@code FS_IOC_FIEMAP} ioctl reports
 * (linux/fiemap.h): logical offset in the file, physical offset on the device, length and flags of
 * each extent. The balloon uses it to find the device ranges its unwritten extents cover. Asked
 * with {@code FIEMAP_FLAG_SYNC}, so delayed allocations are resolved first. Stateless.
 */
public final class FileExtents {
  /** _IOWR('f', 11, struct fiemap): struct fiemap is 32 bytes before its extents. */
  static final long FS_IOC_FIEMAP = 0xC020660BL;

  /** fm_flags: sync the file before mapping. */
  static final int FIEMAP_FLAG_SYNC = 0x1;

  /** fe_flags: the last extent of the file. */
  public static final int EXTENT_LAST = 0x1;

  /** fe_flags: allocated but never written: reads as zeros (fallocate mode 0). */
  public static final int EXTENT_UNWRITTEN = 0x800;

  private static final int HEADER = 32;
  private static final int EXTENT = 56;

  /** Extents asked per ioctl. */
  private static final int BATCH = 256;

  private FileExtents() {}

  /**
   * One extent.
   *
   * @param logical byte offset in the file
   * @param physical byte offset on the filesystem's device
   * @param length bytes
   * @param flags {@code FIEMAP_EXTENT_*} bits
   */
  public record Extent(long logical, long physical, long length, int flags) {
    /** Returns whether the extent is allocated but unwritten (reads as zeros). */
    public boolean unwritten() {
      return (flags & EXTENT_UNWRITTEN) != 0;
    }
  }

  /** Returns the extents of {@code file} that overlap bytes {@code [start, end)}, in file order. */
  public static List<Extent> of(Path file, long start, long end) throws IOException {
    LibC.Native c = LibC.get();
    int fd = c.open(file.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
    if (fd < 0) {
      throw new IOException("Can't open " + file + ": " + LibC.describe(LibC.errno()));
    }
    try {
      return of(fd, file, start, end);
    } finally {
      c.close(fd);
    }
  }

  /** Like {@link #of(Path, long, long)} on an open descriptor of {@code file}. */
  public static List<Extent> of(int fd, Path file, long start, long end) throws IOException {
    List<Extent> out = new ArrayList<>();
    long from = start;
    while (from < end) {
      byte[] buf = new byte[HEADER + BATCH * EXTENT];
      ByteBuffer b = ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder());
      b.putLong(0, from).putLong(8, end - from).putInt(16, FIEMAP_FLAG_SYNC).putInt(24, BATCH);
      if (LibC.get().ioctl(fd, FS_IOC_FIEMAP, buf) != 0) {
        throw new IOException("FIEMAP of " + file + " failed: " + LibC.describe(LibC.errno()));
      }
      int mapped = b.getInt(20);
      boolean last = mapped == 0;
      for (int i = 0; i < mapped; i++) {
        int o = HEADER + i * EXTENT;
        Extent e = new Extent(b.getLong(o), b.getLong(o + 8), b.getLong(o + 16), b.getInt(o + 40));
        out.add(e);
        from = e.logical() + e.length();
        last |= (e.flags() & EXTENT_LAST) != 0;
      }
      if (last || mapped < BATCH) {
        break;
      }
    }
    return out;
  }
}
