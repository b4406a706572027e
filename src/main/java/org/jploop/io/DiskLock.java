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
 * The lock that says "this disk is in use": an exclusive fcntl lock on {@code DiskDescriptor.xml.lck}
 * beside the descriptor, held by the mount daemon for as long as it serves the disk and by offline
 * operations (check with repair, snapshot, merge, resize, convert, compact) while they run. The file
 * holds the owner's pid and what it is doing, for messages; the lock itself, not the file, is the
 * truth, so a crashed owner never leaves the disk locked.
 *
 * <p>Within one JVM a second {@link #tryAcquire} of the same file fails like one from another
 * process.
 */
public final class DiskLock implements AutoCloseable {
  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private DiskLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
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
    FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
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
    ch.truncate(0);
    ch.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + " " + purpose + "\n")
        .getBytes(StandardCharsets.UTF_8)), 0);
    ch.force(true);
    return Optional.of(new DiskLock(f, ch, l));
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
      channel.close();
    }
  }
}
