package org.jploop.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import jnr.posix.FileStat;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * Space a file really takes on its filesystem: {@code st_blocks * 512} from stat(2), which Java's
 * "unix" attribute view does not expose. A sparse 10 GiB image reports a few KiB here.
 */
public final class FileUsage {
  private static volatile POSIX posix;

  private FileUsage() {}

  /** Returns the bytes allocated to {@code file} (st_blocks * 512). */
  public static long bytesOnDisk(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new NoSuchFileException(file.toString());
    }
    FileStat st = posix().stat(file.toString());
    return st.blocks() * 512L;
  }

  private static POSIX posix() {
    POSIX p = posix;
    if (p == null) {
      synchronized (FileUsage.class) {
        p = posix;
        if (p == null) {
          p = POSIXFactory.getNativePOSIX();
          posix = p;
        }
      }
    }
    return p;
  }
}
