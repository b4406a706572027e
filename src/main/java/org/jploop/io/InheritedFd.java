package org.jploop.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * A file descriptor this process inherited, given by number on the command line ({@code ploop copy
 * -i IFD / -o OFD}), read and written with libc's {@code read}/{@code write}. Java opens a
 * descriptor by number only through {@code /proc/self/fd/N}, which works for files, pipes and FIFOs
 * but not for a socket (ENXIO); this class is for the socket case. No state but the number; a
 * stream is used by one thread at a time.
 */
public final class InheritedFd {
  private final int fd;

  private InheritedFd(int fd) {
    this.fd = fd;
  }

  /** Returns descriptor {@code fd}, or empty if this process has no such descriptor open. */
  public static Optional<InheritedFd> of(int fd) {
    return Files.exists(link(fd)) || Files.isSymbolicLink(link(fd))
        ? Optional.of(new InheritedFd(fd))
        : Optional.empty();
  }

  private static Path link(int fd) {
    return Path.of("/proc/self/fd/" + fd);
  }

  /** Whether the descriptor is a socket ({@code /proc/self/fd/N} reads {@code socket:[inode]}). */
  public boolean isSocket() {
    try {
      return Files.readSymbolicLink(link(fd)).toString().startsWith("socket:");
    } catch (IOException e) {
      return false;
    }
  }

  /** Returns the descriptor's number. */
  public int number() {
    return fd;
  }

  /** Returns a stream reading the descriptor; closing it does not close the descriptor. */
  public InputStream input() {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
          return 0;
        }
        byte[] buf = off == 0 ? b : new byte[len];
        while (true) {
          long n = LibC.get().read(fd, buf, len);
          if (n < 0 && LibC.errno() == LibC.EINTR) {
            continue;
          }
          if (n < 0) {
            throw new IOException("read from fd " + fd + ": " + LibC.describe(LibC.errno()));
          }
          if (n == 0) {
            return -1;
          }
          if (buf != b) {
            System.arraycopy(buf, 0, b, off, (int) n);
          }
          return (int) n;
        }
      }
    };
  }

  /** Returns a stream writing the descriptor; closing it does not close the descriptor. */
  public OutputStream output() {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        int from = off;
        int left = len;
        while (left > 0) {
          byte[] chunk =
              from == 0 && left == b.length ? b : Arrays.copyOfRange(b, from, from + left);
          long n = LibC.get().write(fd, chunk, left);
          if (n < 0 && LibC.errno() == LibC.EINTR) {
            continue;
          }
          if (n < 0) {
            throw new IOException("write to fd " + fd + ": " + LibC.describe(LibC.errno()));
          }
          from += (int) n;
          left -= (int) n;
        }
      }
    };
  }
}
