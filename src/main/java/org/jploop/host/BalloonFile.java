package org.jploop.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jploop.io.FileExtents;
import org.jploop.io.LibC;

/**
 * ploop's hidden balloon, {@code /.balloon-c3a5ae3d-ce7f-43c4-a1ea-c61e2b4504e8} at the root of the
 * filesystem inside a disk, opened by path (ploop opens it through a VZ-kernel ioctl on the mount
 * point, which no stock kernel has). While open it holds a {@code flock} on the file, as ploop
 * does: exclusive for the verbs that change it ({@code change}, {@code clear}, {@code complete},
 * {@code repair}, shrink), shared for {@code discard} (jploop: so that {@code status} can tell a
 * discard from a balloon change), none for {@code show}. The lock is released at {@link #close}.
 *
 * <p>{@link #change} is ploop's {@code ploop_balloon_change_size} up to the point where the classic
 * kernel relocates: truncate (deflate) or {@code fallocate} mode 0 (inflate: unwritten extents, no
 * data written, the filesystem's free space drops), with ploop's messages and exit codes. What lies
 * under the new extents is released by the caller ({@link #unwrittenExtents}). One instance is used
 * by one thread.
 */
public final class BalloonFile implements AutoCloseable {
  /** The balloon's name in the filesystem root. */
  public static final String NAME = FilesystemMaker.BALLOON_FILE;

  /** How the balloon is locked while open. */
  public enum Lock {
    /** No lock ({@code show}, {@code -f}). */
    NONE,
    /** {@code LOCK_SH}: a discard runs. */
    SHARED,
    /** {@code LOCK_EX}: the balloon is being changed. */
    EXCLUSIVE
  }

  /**
   * What {@link #change} did.
   *
   * @param oldBytes size before
   * @param newBytes size after
   */
  public record Change(long oldBytes, long newBytes) {
    /** Returns whether the balloon grew. */
    public boolean inflated() {
      return newBytes > oldBytes;
    }
  }

  private final Path path;
  private final int fd;

  private BalloonFile(Path path, int fd) {
    this.path = path;
    this.fd = fd;
  }

  /** Returns the balloon's path in the filesystem mounted at {@code mountPoint}. */
  public static Path pathIn(Path mountPoint) {
    return mountPoint.resolve(NAME);
  }

  /**
   * Opens the balloon of the filesystem mounted at {@code mountPoint} and locks it as {@code lock}
   * says.
   *
   * @throws MountException BALLOON_OPEN if it cannot be opened, BALLOON_BUSY if another process
   *     holds a conflicting lock, BALLOON_FLOCK if flock fails otherwise
   */
  public static BalloonFile open(Path mountPoint, Lock lock) throws MountException {
    ServingProcess.refuseSelfIo("Opening the balloon at " + mountPoint);
    Path p = pathIn(mountPoint);
    LibC.Native c = LibC.get();
    int mode = lock == Lock.EXCLUSIVE ? LibC.O_RDWR : LibC.O_RDONLY;
    int fd = c.open(p.toString(), mode | LibC.O_CLOEXEC, 0);
    if (fd < 0) {
      throw new MountException(
          MountException.Reason.BALLOON_OPEN,
          "Cannot open balloon at " + mountPoint + ": " + LibC.describe(LibC.errno()));
    }
    if (lock != Lock.NONE) {
      int op = (lock == Lock.EXCLUSIVE ? LibC.LOCK_EX : LibC.LOCK_SH) | LibC.LOCK_NB;
      if (c.flock(fd, op) != 0) {
        int e = LibC.errno();
        c.close(fd);
        if (e == LibC.EWOULDBLOCK) {
          throw new MountException(
              MountException.Reason.BALLOON_BUSY, "Hidden balloon is in use by someone else!");
        }
        throw new MountException(
            MountException.Reason.BALLOON_FLOCK, "Can't flock balloon: " + LibC.describe(e));
      }
    }
    return new BalloonFile(p, fd);
  }

  /**
   * Returns the state {@code ploop-balloon status} reports, probed with non-blocking flocks (jploop
   * has no in-kernel maintenance state): {@code BALLOON} while another process holds the balloon
   * exclusively (change, repair, shrink), {@code DISCARD} while one holds it shared, else {@code
   * OFF}.
   */
  public static String state(Path mountPoint) throws MountException {
    try (BalloonFile probe = open(mountPoint, Lock.NONE)) {
      LibC.Native c = LibC.get();
      if (c.flock(probe.fd, LibC.LOCK_EX | LibC.LOCK_NB) == 0) {
        return "OFF";
      }
      if (c.flock(probe.fd, LibC.LOCK_SH | LibC.LOCK_NB) == 0) {
        return "DISCARD";
      }
      return "BALLOON";
    }
  }

  /** Returns the balloon's path. */
  public Path path() {
    return path;
  }

  /** Returns the balloon's size in bytes. */
  public long size() throws MountException {
    try {
      return Files.size(path);
    } catch (IOException e) {
      throw new MountException(
          MountException.Reason.BALLOON_FSTAT, "Can't stat balloon: " + e.getMessage(), e);
    }
  }

  /** Returns the unit balloon sizes are rounded up to: the filesystem's block size. */
  public long blockSize() throws MountException {
    try {
      return Files.getFileStore(path).getBlockSize();
    } catch (IOException e) {
      throw new MountException(
          MountException.Reason.BALLOON_FSTAT, "Can't stat balloon: " + e.getMessage(), e);
    }
  }

  /**
   * ploop's {@code change -s}: sets the balloon to {@code sectors} × 512 bytes rounded up to the
   * filesystem block, printing ploop's lines on {@code out}. Needs the exclusive lock (the file is
   * open for writing only then).
   */
  public Change change(long sectors, Consumer<String> out) throws MountException {
    long old = size();
    long bs = blockSize();
    long want = (sectors * 512 + bs - 1) / bs * bs;
    out.accept("Changing balloon size old_size=" + old + " new_size=" + want);
    LibC.Native c = LibC.get();
    if (want <= old) {
      if (want == old) {
        out.accept("Nothing to do: new_size == old_size");
        return new Change(old, old);
      }
      if (c.ftruncate(fd, want) != 0) {
        throw new MountException(
            MountException.Reason.BALLOON_TRUNCATE,
            "Can't truncate hidden balloon: " + LibC.describe(LibC.errno()));
      }
      fsync();
      out.accept("Successfully truncated balloon from " + old + " to " + want + " bytes");
      return new Change(old, want);
    }
    // from the old end, not from 0 as ploop does: xfs reserves free blocks for the whole range
    // of a fallocate, the part the balloon already holds included, and fails with ENOSPC where
    // the growth itself fits (an online shrink of xfs beyond a balloon already there)
    if (c.fallocate(fd, 0, old, want - old) != 0) {
      throw new MountException(
          MountException.Reason.BALLOON_FALLOCATE,
          "Can't fallocate balloon: " + LibC.describe(LibC.errno()));
    }
    long now = size();
    if (now < want) {
      c.ftruncate(fd, old);
      throw new MountException(
          MountException.Reason.BALLOON_FALLOCATE,
          "Error: after fallocate("
              + fd
              + ", 0, "
              + old
              + ", "
              + (want - old)
              + ") fstat reported size == "
              + now);
    }
    fsync();
    out.accept("Successfully inflated balloon from " + old + " to " + want + " bytes");
    return new Change(old, want);
  }

  private void fsync() throws MountException {
    if (LibC.get().fsync(fd) != 0) {
      throw new MountException(
          MountException.Reason.BALLOON_FSYNC,
          "Can't fsync balloon: " + LibC.describe(LibC.errno()));
    }
  }

  /**
   * Returns the unwritten extents of bytes {@code [from, to)} of the balloon, adjacent ones on the
   * device merged: the device ranges whose content is dead (they read as zeros through the
   * filesystem and nothing else may use them while the balloon holds them).
   */
  public List<FileExtents.Extent> unwrittenExtents(long from, long to) throws IOException {
    List<FileExtents.Extent> out = new ArrayList<>();
    for (FileExtents.Extent e : FileExtents.of(fd, path, from, to)) {
      if (!e.unwritten()) {
        continue;
      }
      long start = Math.max(e.logical(), from);
      long end = Math.min(e.logical() + e.length(), to);
      if (end <= start) {
        continue;
      }
      FileExtents.Extent cut =
          new FileExtents.Extent(start, e.physical() + start - e.logical(), end - start, e.flags());
      FileExtents.Extent prev = out.isEmpty() ? null : out.get(out.size() - 1);
      if (prev != null && prev.physical() + prev.length() == cut.physical()) {
        out.set(
            out.size() - 1,
            new FileExtents.Extent(
                prev.logical(), prev.physical(), prev.length() + cut.length(), prev.flags()));
      } else {
        out.add(cut);
      }
    }
    return out;
  }

  @Override
  public void close() {
    LibC.get().close(fd); // closing releases the flock
  }
}
