package org.jploop.io;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link BlockFile} on a real file: data I/O through a {@link FileChannel} (positional, so
 * thread-safe without locking), {@code fallocate} and {@code posix_fadvise} through a second libc
 * descriptor of the same file, since FileChannel hides its own. Sequential reads are followed by
 * {@link ReadAhead}, sequential writes by {@link WriteBehind}.
 */
public final class FileBlockFile implements BlockFile {
  private final Path path;
  private final boolean readOnly;
  private final FileChannel channel;

  /** libc descriptor for fallocate and fadvise, opened on first use, else -1. Guarded by this. */
  @GuardedBy("this")
  private int fd = -1;

  /** Set by close: the libc descriptor is not reopened afterwards. Guarded by this. */
  @GuardedBy("this")
  private boolean closed;

  /** Null for a file opened to read its metadata only ({@link #openForMetadata}). */
  private final ReadAhead readAhead;

  private final WriteBehind writeBehind = new WriteBehind(this::startWriteback);

  /** Read-ahead requests the kernel accepted; for tests. */
  private final AtomicLong readAheadRequests = new AtomicLong();

  /** Early writeback requests the kernel accepted; for tests. */
  private final AtomicLong writebackRequests = new AtomicLong();

  private FileBlockFile(Path path, boolean readOnly, FileChannel channel) {
    this(path, readOnly, channel, true);
  }

  private FileBlockFile(Path path, boolean readOnly, FileChannel channel, boolean readAhead) {
    this.path = path;
    this.readOnly = readOnly;
    this.channel = channel;
    this.readAhead = readAhead ? new ReadAhead(this::willNeed) : null;
  }

  /** Opens an existing file, read-only or read-write. */
  public static FileBlockFile open(Path path, boolean readOnly) throws IOException {
    FileChannel ch =
        readOnly
            ? FileChannel.open(path, StandardOpenOption.READ)
            : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    return new FileBlockFile(path, readOnly, ch);
  }

  /**
   * Opens an existing file read-only to read its header and BAT, then close it ({@code ploop info},
   * {@code snapshot-list}): no read-ahead, since the header and the BAT cluster read back to back
   * look like the start of a stream, and the hint would read megabytes of data nobody reads and
   * load libc's binding (0.4 s of a short verb) for nothing.
   */
  public static FileBlockFile openForMetadata(Path path) throws IOException {
    return new FileBlockFile(path, true, FileChannel.open(path, StandardOpenOption.READ), false);
  }

  /**
   * Wraps a channel the caller opened on {@code path} (tests put a channel that returns short reads
   * and writes here); the FileBlockFile closes it.
   */
  public static FileBlockFile over(Path path, boolean readOnly, FileChannel channel) {
    return new FileBlockFile(path, readOnly, channel);
  }

  @Override
  public Path path() {
    return path;
  }

  @Override
  public boolean readOnly() {
    return readOnly;
  }

  @Override
  public long size() throws IOException {
    return channel.size();
  }

  @Override
  public void read(ByteBuffer dst, long pos) throws IOException {
    long p = pos;
    while (dst.hasRemaining()) {
      int n;
      try {
        n = channel.read(dst, p);
      } catch (IOException e) {
        throw new IOException(
            path
                + ": read at offset "
                + p
                + " length "
                + dst.remaining()
                + " failed: "
                + e.getMessage(),
            e);
      }
      if (n < 0) {
        while (dst.hasRemaining()) {
          dst.put((byte) 0);
        }
        return;
      }
      p += n;
    }
    if (readAhead != null) {
      readAhead.onRead(pos, p - pos);
    }
  }

  private void willNeed(long pos, long len) throws IOException {
    int rc = LibC.get().posix_fadvise(descriptor(), pos, len, LibC.POSIX_FADV_WILLNEED);
    if (rc != 0) {
      throw new IOException(
          path
              + ": posix_fadvise WILLNEED at offset "
              + pos
              + " length "
              + len
              + " failed: errno "
              + rc);
    }
    readAheadRequests.incrementAndGet();
  }

  /** Returns how many read-ahead requests the kernel accepted so far. */
  long readAheadRequests() {
    return readAheadRequests.get();
  }

  private void startWriteback(long pos, long len) throws IOException {
    if (LibC.get().sync_file_range(descriptor(), pos, len, LibC.SYNC_FILE_RANGE_WRITE) != 0) {
      throw new IOException(
          path
              + ": sync_file_range at offset "
              + pos
              + " length "
              + len
              + " failed: errno "
              + LibC.errno());
    }
    writebackRequests.incrementAndGet();
  }

  /** Returns how many early writeback requests the kernel accepted so far. */
  long writebackRequests() {
    return writebackRequests.get();
  }

  @Override
  public void write(ByteBuffer src, long pos) throws IOException {
    checkWritable("write", pos, src.remaining());
    long p = pos;
    while (src.hasRemaining()) {
      try {
        p += channel.write(src, p);
      } catch (IOException e) {
        throw translate(e, "write", p, src.remaining());
      }
    }
    writeBehind.onWrite(pos, p - pos);
  }

  @Override
  public void force() throws IOException {
    if (readOnly) {
      return;
    }
    try {
      channel.force(true);
    } catch (IOException e) {
      throw translate(e, "fsync", 0, 0);
    }
  }

  @Override
  public void truncate(long size) throws IOException {
    checkWritable("truncate", size, 0);
    try {
      long cur = channel.size();
      if (size < cur) {
        channel.truncate(size);
      } else if (size > cur) {
        // FileChannel cannot grow a file without writing; one zero byte at the end grows it
        // sparsely, exactly like ftruncate.
        channel.write(ByteBuffer.allocate(1), size - 1);
      }
    } catch (IOException e) {
      throw translate(e, "truncate", size, 0);
    }
  }

  @Override
  public void punchHole(long pos, long len) throws IOException {
    checkWritable("punch hole", pos, len);
    if (len <= 0) {
      return;
    }
    fallocate(LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, pos, len, "punch hole");
  }

  @Override
  public void allocate(long pos, long len) throws IOException {
    checkWritable("fallocate", pos, len);
    if (len <= 0) {
      return;
    }
    fallocate(0, pos, len, "fallocate");
  }

  private void fallocate(int mode, long pos, long len, String op) throws IOException {
    int rc = LibC.get().fallocate(descriptor(), mode, pos, len);
    if (rc != 0) {
      int errno = LibC.errno();
      if (errno == LibC.ENOSPC) {
        throw new NoSpaceException(path, op, pos, len);
      }
      throw new IOException(
          path + ": " + op + " at offset " + pos + " length " + len + " failed: errno " + errno);
    }
  }

  private synchronized int descriptor() throws IOException {
    if (closed) {
      throw new IOException(path + ": file is closed");
    }
    if (fd < 0) {
      int f =
          LibC.get()
              .open(path.toString(), (readOnly ? LibC.O_RDONLY : LibC.O_RDWR) | LibC.O_CLOEXEC, 0);
      if (f < 0) {
        throw new IOException(path + ": open for fallocate/fadvise failed: errno " + LibC.errno());
      }
      fd = f;
    }
    return fd;
  }

  private void checkWritable(String op, long pos, long len) throws IOException {
    if (readOnly) {
      throw new IOException(
          path + ": " + op + " at offset " + pos + " length " + len + ": file is open read-only");
    }
  }

  private IOException translate(IOException e, String op, long pos, long len) {
    String msg = String.valueOf(e.getMessage());
    if (msg.contains("No space left on device") || msg.contains("Disk quota exceeded")) {
      NoSpaceException ns = new NoSpaceException(path, op, pos, len);
      ns.initCause(e);
      return ns;
    }
    return new IOException(
        path + ": " + op + " at offset " + pos + " length " + len + " failed: " + msg, e);
  }

  @Override
  public void close() throws IOException {
    synchronized (this) {
      closed = true;
      if (fd >= 0) {
        LibC.get().close(fd);
        fd = -1;
      }
    }
    channel.close();
  }
}
