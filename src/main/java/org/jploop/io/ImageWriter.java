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

  /**
   * Creates {@code path} (O_EXCL, mode 0600) holding an empty image with {@code header}, and
   * fsyncs it. The BAT area is written as a sparse tail: only the header bytes are written and the
   * file is extended to the data offset, so a 10 GiB image takes a few KiB on disk.
   *
   * @throws FileAlreadyExistsException if the file exists ("Can't create ...: File exists")
   */
  public static void createEmpty(Path path, ImageHeader header) throws IOException {
    long length = header.firstBlockOffset() * 512L;
    try (FileChannel ch = FileChannel.open(path, java.util.Set.of(StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rw-------")))) {
      ch.write(ByteBuffer.wrap(header.encode()), 0);
      if (length > ImageHeader.SIZE) {
        ch.write(ByteBuffer.allocate(1), length - 1);
      }
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
