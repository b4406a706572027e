package org.jploop.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The lock that says "this disk is in use": an exclusive lock on {@code DiskDescriptor.xml.lck}
 * beside the descriptor, held by the mount daemon for as long as it serves the disk and by offline
 * operations (check with repair, snapshot, merge, resize, convert, compact) while they run. The
 * lock itself, not the file, is the truth, so a crashed owner never leaves the disk locked.
 *
 * <p>Two locks are taken on the file: a POSIX (fcntl) record lock, which is what Java offers and
 * what keeps jploop's own processes apart, and a BSD {@code flock(LOCK_EX)}, which is the lock
 * ploop 1.15 and 7.x take on the same file (lib/lock.c); the two kinds do not see each other on
 * Linux, so without the flock a real ploop could snapshot or merge a disk jploop is serving.
 *
 * <p>The file differs from ploop's on purpose (README, "The lock file"): ploop leaves it empty
 * (1.15: mode 0600; 7.x since 2016: 0644 so that other users can copy the directory); jploop writes
 * the holder's pid and what it is doing ("4711 mount"), which its messages and {@code ploop info}
 * show, with mode 0644 by the default umask.
 *
 * <p>Within one JVM a second {@link #tryAcquire} of the same file fails like one from another
 * process.
 */
public final class DiskLock implements AutoCloseable {
  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  /** The descriptor holding the flock, closed (which releases it) on {@link #close}. */
  private final int flockFd;

  private DiskLock(Path file, FileChannel channel, FileLock lock, int flockFd) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
    this.flockFd = flockFd;
  }

  /** Returns the lock file path for a descriptor: {@code <xml>.lck}. */
  public static Path lockFileFor(Path descriptor) {
    return descriptor.resolveSibling(descriptor.getFileName() + ".lck");
  }

  /**
   * Takes the lock for {@code descriptor}, recording {@code purpose}, or returns empty if someone
   * holds it.
   */
  public static Optional<DiskLock> tryAcquire(Path descriptor, String purpose) throws IOException {
    Path f = lockFileFor(descriptor);
    FileChannel ch =
        FileChannel.open(
            f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileLock l;
    try {
      l = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      l = null;
    }
    if (l == null) {
      ch.close();
      return Optional.empty();
    }
    int fd;
    try {
      fd = flock(f);
    } catch (IOException | RuntimeException e) {
      l.release();
      ch.close();
      throw e;
    }
    if (fd < 0) {
      l.release();
      ch.close();
      return Optional.empty();
    }
    ch.truncate(0);
    ch.write(
        java.nio.ByteBuffer.wrap(
            (ProcessHandle.current().pid() + " " + purpose + "\n")
                .getBytes(StandardCharsets.UTF_8)),
        0);
    ch.force(true);
    return Optional.of(new DiskLock(f, ch, l, fd));
  }

  /**
   * Opens {@code f} once more and takes ploop's {@code flock(LOCK_EX | LOCK_NB)} on it; returns the
   * descriptor, or -1 if another process (a real ploop) holds the flock.
   */
  private static int flock(Path f) throws IOException {
    LibC.Native c = LibC.get();
    int fd = c.open(f.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
    if (fd < 0) {
      throw new IOException("Can't open lock file " + f + ": errno " + LibC.errno());
    }
    if (c.flock(fd, LibC.LOCK_EX | LibC.LOCK_NB) != 0) {
      int err = LibC.errno();
      c.close(fd);
      if (err == LibC.EWOULDBLOCK) {
        return -1;
      }
      throw new IOException("flock(" + f + "): errno " + err);
    }
    return fd;
  }

  /** Returns what the current holder wrote ("pid purpose"), or "" if unknown. */
  public static String holder(Path descriptor) {
    try {
      return Files.readString(lockFileFor(descriptor), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      return "";
    }
  }

  /** Returns the lock file. */
  public Path file() {
    return file;
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      try {
        channel.close();
      } finally {
        LibC.get().close(flockFd);
      }
    }
  }
}
