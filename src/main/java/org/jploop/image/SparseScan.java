package org.jploop.image;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import org.jploop.io.LibC;

/**
 * Finds the allocated parts of a sparse file with {@code lseek(SEEK_DATA)}, so converting a mostly
 * empty raw image does not read its holes. Falls back to "everything is data" where the filesystem
 * does not support SEEK_DATA. Not thread-safe.
 */
final class SparseScan implements Closeable {
  /** The libc descriptor, or -1 when scanning is unavailable. */
  private final int fd;

  SparseScan(Path file) {
    this.fd = LibC.get().open(file.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
  }

  /**
   * Returns the first offset at or after {@code from} that may hold data, or -1 if the rest of the
   * file is a hole.
   */
  long nextData(long from) {
    if (fd < 0) {
      return from;
    }
    long r = LibC.get().lseek(fd, from, LibC.SEEK_DATA);
    if (r >= 0) {
      return r;
    }
    int errno = LibC.errno();
    return errno == 6 /* ENXIO: no data past from */ ? -1 : from;
  }

  @Override
  public void close() throws IOException {
    if (fd >= 0) {
      LibC.get().close(fd);
    }
  }
}
