package org.jploop.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.jploop.format.ImageHeader;

/**
 * Creates empty ploop1 images: the header, a zeroed BAT and zero padding up to the first data
 * cluster, so the file is exactly {@code m_FirstBlockOffset * 512} bytes. Used by {@code init},
 * {@code snapshot} and {@code snapshot-switch}.
 */
public final class ImageWriter {
  private ImageWriter() {}

  /** Zeros are written in pieces of this many bytes. */
  private static final int ZERO_CHUNK = 1 << 20;

  /**
   * Creates {@code path} (O_EXCL, mode 0600) holding an empty image with {@code header}, and fsyncs
   * it. The whole header area (header, BAT, padding) is written with zeros, as ploop writes it:
   * ploop 1.15 and 7.x {@code check} refuse an image whose header clusters have holes ("ploop image
   * is sparse", exit 11), which a sparse tail here used to produce.
   *
   * @throws FileAlreadyExistsException if the file exists ("Can't create ...: File exists")
   */
  public static void createEmpty(Path path, ImageHeader header) throws IOException {
    long length = header.firstBlockOffset() * 512L;
    try (FileChannel ch =
        FileChannel.open(
            path,
            java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
      ByteBuffer zeros =
          ByteBuffer.allocate((int) Math.min(ZERO_CHUNK, Math.max(length, ImageHeader.SIZE)));
      for (long pos = 0; pos < length; ) {
        zeros.clear().limit((int) Math.min(zeros.capacity(), length - pos));
        while (zeros.hasRemaining()) {
          pos += ch.write(zeros, pos);
        }
      }
      ch.write(ByteBuffer.wrap(header.encode()), 0);
      ch.force(true);
    } catch (IOException e) {
      if (!(e instanceof FileAlreadyExistsException)) {
        Files.deleteIfExists(path);
      }
      throw e;
    }
  }

  /** Rewrites the 64-byte header of an open image in place and fsyncs it. */
  public static void writeHeader(BlockFile file, ImageHeader header) throws IOException {
    file.write(ByteBuffer.wrap(header.encode()), 0);
    file.force();
  }
}
