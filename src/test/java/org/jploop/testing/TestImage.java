package org.jploop.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.io.ImageWriter;

/**
 * Builds and damages ploop1 image files byte by byte for tests, independently of the engine: create
 * an empty image, append data clusters and point BAT entries at them, poke header fields.
 */
public final class TestImage {
  private final Path file;
  private final ImageHeader header;

  private TestImage(Path file, ImageHeader header) {
    this.file = file;
    this.header = header;
  }

  /** Creates an empty image (as ploop init) of {@code sizeSectors} with {@code clusterSectors}. */
  public static TestImage create(Path file, FormatVersion v, long sizeSectors, int clusterSectors)
      throws IOException {
    ImageHeader h = ImageHeader.create(v, ImageGeometry.forSize(sizeSectors, clusterSectors));
    ImageWriter.createEmpty(file, h);
    return new TestImage(file, h);
  }

  public Path file() {
    return file;
  }

  public ImageHeader header() {
    return header;
  }

  public long clusterBytes() {
    return header.clusterSectors() * 512;
  }

  /**
   * Appends one cluster of random bytes at EOF and maps {@code virtualCluster} to it, clearing
   * CIF_Empty as a writer does.
   */
  public long allocate(long virtualCluster, Random random) throws IOException {
    long size = Files.size(file);
    long physical = size / clusterBytes();
    byte[] data = new byte[(int) clusterBytes()];
    random.nextBytes(data);
    writeAt(physical * clusterBytes(), data);
    setBat(virtualCluster, header.version().toBatValue(physical, (int) header.clusterSectors()));
    ByteBuffer flags = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ch.read(flags, ImageHeader.OFFSET_FLAGS);
    }
    putInt(ImageHeader.OFFSET_FLAGS, flags.getInt(0) & ~(int) ImageHeader.CIF_EMPTY);
    return physical;
  }

  /** Writes the raw u32 {@code value} into BAT slot {@code index} (slots past m_Size too). */
  public void setBat(long index, long value) throws IOException {
    putInt(ImageGeometry.batEntryOffset(index), (int) value);
  }

  /** Writes a little-endian u32 at {@code offset}. */
  public void putInt(long offset, int value) throws IOException {
    writeAt(offset, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
  }

  /** Writes bytes at {@code offset}. */
  public void writeAt(long offset, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b, offset + b.position());
      }
    }
  }

  /** Sets the file length. */
  public void truncate(long size) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      if (size < ch.size()) {
        ch.truncate(size);
      } else if (size > ch.size()) {
        ch.write(ByteBuffer.allocate(1), size - 1);
      }
    }
  }

  /**
   * SHA-256 of the content plus the mtime: equal fingerprints mean the file was not written. The
   * mtime is pushed into the past first by {@link #ageMtime}, so a write cannot hide in the same
   * clock tick.
   */
  public static String fingerprint(Path file) throws IOException {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(Files.readAllBytes(file));
      return HexFormat.of().formatHex(md.digest())
          + " size="
          + Files.size(file)
          + " mtime="
          + Files.getLastModifiedTime(file).toMillis();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads the header of the image {@code file} through a read-only handle. */
  public static ImageHeader readHeader(Path file) throws IOException {
    try (BlockFile f = FileBlockFile.open(file, true)) {
      return ImageReader.readHeader(f);
    }
  }

  /** Sets the mtime to a fixed moment in the past. */
  public static void ageMtime(Path file) throws IOException {
    Files.setLastModifiedTime(file, FileTime.fromMillis(1_600_000_000_000L));
  }
}
