package org.jploop.frontend.kernel;

import static org.jploop.frontend.kernel.FuseLayout.FILE_ID;
import static org.jploop.frontend.kernel.FuseLayout.IN_HEADER_SIZE;
import static org.jploop.frontend.kernel.FuseLayout.ROOT_ID;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.jploop.frontend.DiskImageFile;
import org.jploop.frontend.Errno;
import org.jploop.host.EventLog;

/**
 * Answers one request: checks its length, decodes the opcode's struct ({@link FuseLayout}), calls
 * {@link DiskImageFile} and encodes the reply through the worker's {@link FuseReplier}. Serves the
 * root directory (node 1, listing {@code .}, {@code ..}, {@code disk.img}) and {@code disk.img}
 * (node 2): INIT, LOOKUP, GETATTR, SETATTR (times ignored; owner, mode and size only as they are),
 * OPEN (FOPEN_DIRECT_IO, and FOPEN_PARALLEL_DIRECT_WRITES from 7.38), READ, WRITE, FALLOCATE,
 * FLUSH, FSYNC, RELEASE, STATFS, OPENDIR, READDIR, RELEASEDIR, DESTROY; INTERRUPT is answered
 * ENOSYS, which tells the kernel to send no more (it then waits for the request itself, which
 * always ends); FORGET and BATCH_FORGET get no reply; everything else ENOSYS. Every request that
 * gets a reply gets exactly one, also when something throws (EIO).
 *
 * <p>Thread-safe: workers call {@link #dispatch} concurrently. The negotiated {@link
 * FuseConnection} is published (volatile) by whichever worker answers INIT, before its reply, so
 * every later request sees it.
 */
final class FuseDispatcher {
  /** Seconds the kernel may cache names and attributes: size changes are pushed (INVAL_INODE). */
  static final long VALID_SECONDS = 3600;

  private static final String[] DIR_NAMES = {".", "..", DiskImageFile.NAME};
  private static final long[] DIR_INOS = {ROOT_ID, ROOT_ID, FILE_ID};
  private static final int[] DIR_TYPES = {FuseLayout.DT_DIR, FuseLayout.DT_DIR, FuseLayout.DT_REG};
  private static final byte[] FILE_NAME = DiskImageFile.NAME.getBytes(StandardCharsets.UTF_8);

  private final DiskImageFile file;
  private final int workers;
  private final int maxPagesLimit;
  private final FuseMetrics metrics;
  private final EventLog log;
  private volatile FuseConnection connection;
  private volatile String initFailure;

  /**
   * Serves {@code file} for {@code workers} threads on a kernel allowing {@code maxPagesLimit}
   * pages per request.
   */
  FuseDispatcher(
      DiskImageFile file, int workers, int maxPagesLimit, FuseMetrics metrics, EventLog log) {
    this.file = file;
    this.workers = workers;
    this.maxPagesLimit = maxPagesLimit;
    this.metrics = metrics;
    this.log = log;
  }

  /** Returns the negotiated connection, or null before INIT was answered. */
  FuseConnection connection() {
    return connection;
  }

  /** Returns why INIT was refused, or null. */
  String initFailure() {
    return initFailure;
  }

  /**
   * Answers the request of {@code length} bytes in {@code buffers}' request area through {@code
   * out}.
   */
  void dispatch(FuseBuffers buffers, int length, FuseReplier out) {
    ByteBuffer in = buffers.requestView;
    if (length < IN_HEADER_SIZE || in.getInt(FuseLayout.IN_LEN) != length) {
      long n = metrics.malformed();
      if (n <= 100) {
        log.info(
            "error: malformed FUSE request: read "
                + length
                + " bytes, header says "
                + (length >= 4 ? Integer.toUnsignedString(in.getInt(FuseLayout.IN_LEN)) : "?"));
      }
      if (length >= FuseLayout.IN_NODEID) {
        out.error(in.getLong(FuseLayout.IN_UNIQUE), Errno.EIO);
      }
      return;
    }
    int opcode = in.getInt(FuseLayout.IN_OPCODE);
    long unique = in.getLong(FuseLayout.IN_UNIQUE);
    metrics.opcode(opcode);
    if (opcode == FuseLayout.FORGET || opcode == FuseLayout.BATCH_FORGET) {
      return; // no reply: the kernel would answer it with ENOENT
    }
    metrics.meter.begin();
    try {
      answer(
          opcode, unique, in.getLong(FuseLayout.IN_NODEID), length - IN_HEADER_SIZE, buffers, out);
    } catch (Throwable t) {
      out.error(unique, -file.fail("request opcode " + opcode, 0, 0, t));
    } finally {
      metrics.meter.end();
    }
  }

  private void answer(
      int opcode, long unique, long node, int body, FuseBuffers b, FuseReplier out) {
    ByteBuffer in = b.requestView;
    if (opcode != FuseLayout.INIT && connection == null) {
      out.error(unique, Errno.EIO);
      return;
    }
    switch (opcode) {
      case FuseLayout.INIT -> init(unique, in, body, out);
      case FuseLayout.LOOKUP -> lookup(unique, node, in, body, out);
      case FuseLayout.GETATTR -> getattr(unique, node, out);
      case FuseLayout.SETATTR -> {
        if (need(body, FuseLayout.SETATTR_IN_SIZE, unique, out)) {
          setattr(unique, node, in, out);
        }
      }
      case FuseLayout.OPEN -> {
        if (need(body, FuseLayout.OPEN_IN_SIZE, unique, out) && onFile(node, unique, out)) {
          int r = file.open(in.getInt(IN_HEADER_SIZE + FuseLayout.OPEN_IN_FLAGS));
          opened(unique, r, connection.openFlags(), out);
        }
      }
      case FuseLayout.OPENDIR -> {
        if (node != ROOT_ID) {
          out.error(unique, Errno.ENOTDIR);
        } else {
          opened(unique, 0, 0, out);
        }
      }
      case FuseLayout.READ -> {
        if (need(body, FuseLayout.READ_IN_SIZE, unique, out) && onFile(node, unique, out)) {
          read(unique, in, b, out);
        }
      }
      case FuseLayout.WRITE -> {
        if (need(body, FuseLayout.WRITE_IN_SIZE, unique, out) && onFile(node, unique, out)) {
          write(unique, in, body, b, out);
        }
      }
      case FuseLayout.READDIR -> {
        if (need(body, FuseLayout.READ_IN_SIZE, unique, out)) {
          readdir(unique, node, in, out);
        }
      }
      case FuseLayout.FALLOCATE -> {
        if (need(body, FuseLayout.FALLOCATE_IN_SIZE, unique, out) && onFile(node, unique, out)) {
          int r =
              file.fallocate(
                  in.getInt(IN_HEADER_SIZE + FuseLayout.FALLOCATE_MODE),
                  in.getLong(IN_HEADER_SIZE + FuseLayout.FALLOCATE_OFFSET),
                  in.getLong(IN_HEADER_SIZE + FuseLayout.FALLOCATE_LENGTH));
          status(unique, r, out);
        }
      }
      case FuseLayout.FLUSH -> status(unique, file.barrier("flush"), out);
      case FuseLayout.FSYNC -> status(unique, file.barrier("fsync"), out);
      case FuseLayout.STATFS -> statfs(unique, out);
      case FuseLayout.RELEASE, FuseLayout.RELEASEDIR, FuseLayout.DESTROY -> out.ok(unique);
      case FuseLayout.INTERRUPT -> {
        if (metrics.interrupt() == 1) {
          log.info(
              "INTERRUPT received: answered ENOSYS, so the kernel waits for interrupted"
                  + " requests to finish (they always do) and sends no more");
        }
        out.error(unique, Errno.ENOSYS);
      }
      default -> out.error(unique, Errno.ENOSYS);
    }
  }

  /** Answers EINVAL and returns false if the body is shorter than the opcode's struct. */
  private boolean need(int body, int size, long unique, FuseReplier out) {
    if (body >= size) {
      return true;
    }
    out.error(unique, Errno.EINVAL);
    return false;
  }

  /** Answers EISDIR or ENOENT and returns false unless {@code node} is disk.img. */
  private static boolean onFile(long node, long unique, FuseReplier out) {
    if (node == FILE_ID) {
      return true;
    }
    out.error(unique, node == ROOT_ID ? Errno.EISDIR : Errno.ENOENT);
    return false;
  }

  private static void status(long unique, int result, FuseReplier out) {
    if (result < 0) {
      out.error(unique, -result);
    } else {
      out.ok(unique);
    }
  }

  private void init(long unique, ByteBuffer in, int body, FuseReplier out) {
    if (body < FuseLayout.INIT_IN_COMPAT_SIZE) {
      out.error(unique, Errno.EINVAL);
      return;
    }
    int major = in.getInt(IN_HEADER_SIZE + FuseLayout.INIT_IN_MAJOR);
    int minor = in.getInt(IN_HEADER_SIZE + FuseLayout.INIT_IN_MINOR);
    int readahead = in.getInt(IN_HEADER_SIZE + FuseLayout.INIT_IN_MAX_READAHEAD);
    long flags = Integer.toUnsignedLong(in.getInt(IN_HEADER_SIZE + FuseLayout.INIT_IN_FLAGS));
    if (body >= FuseLayout.INIT_IN_SIZE && (flags & FuseLayout.INIT_EXT) != 0) {
      flags |= Integer.toUnsignedLong(in.getInt(IN_HEADER_SIZE + FuseLayout.INIT_IN_FLAGS2)) << 32;
    }
    if (major > FuseLayout.KERNEL_VERSION) {
      // the kernel sends a second INIT with our major (fuse_kernel.h, version negotiation)
      log.info(
          "kernel offers FUSE protocol "
              + major
              + "."
              + minor
              + "; asking for "
              + FuseLayout.KERNEL_VERSION
              + "."
              + FuseLayout.KERNEL_MINOR_VERSION);
      ByteBuffer p = out.payload(FuseLayout.INIT_OUT_COMPAT_SIZE);
      p.putInt(FuseLayout.INIT_OUT_MAJOR, FuseLayout.KERNEL_VERSION);
      p.putInt(FuseLayout.INIT_OUT_MINOR, FuseLayout.KERNEL_MINOR_VERSION);
      out.ok(unique, FuseLayout.INIT_OUT_COMPAT_SIZE);
      return;
    }
    if (major < FuseLayout.KERNEL_VERSION || minor < FuseLayout.MIN_MINOR_VERSION) {
      initFailure =
          "the kernel speaks FUSE protocol "
              + major
              + "."
              + minor
              + "; jploop needs "
              + FuseLayout.KERNEL_VERSION
              + "."
              + FuseLayout.MIN_MINOR_VERSION
              + " or newer"
              + " (FUSE_ASYNC_DIO, Linux 3.13)";
      log.info("error: " + initFailure);
      out.error(unique, Errno.EPROTO);
      return;
    }
    FuseConnection c = FuseConnection.negotiate(minor, flags, readahead, workers, maxPagesLimit);
    ByteBuffer p = out.payload(c.initOutSize());
    c.encodeInitOut(p);
    connection = c;
    log.info(c.describe());
    if (!c.has(FuseLayout.ASYNC_DIO)) {
      log.info("warning: the kernel does not offer FUSE_ASYNC_DIO: one request in flight");
    }
    out.ok(unique, c.initOutSize());
  }

  private void lookup(long unique, long node, ByteBuffer in, int body, FuseReplier out) {
    if (node != ROOT_ID || !nameIs(in, body, FILE_NAME)) {
      out.error(unique, node == ROOT_ID ? Errno.ENOENT : Errno.ENOTDIR);
      return;
    }
    long size = file.size();
    if (size < 0) {
      out.error(unique, (int) -size);
      return;
    }
    ByteBuffer p = out.payload(FuseLayout.ENTRY_OUT_SIZE);
    p.putLong(FuseLayout.ENTRY_NODEID, FILE_ID);
    p.putLong(FuseLayout.ENTRY_VALID, VALID_SECONDS);
    p.putLong(FuseLayout.ENTRY_ATTR_VALID, VALID_SECONDS);
    attr(p, FuseLayout.ENTRY_ATTR, FILE_ID, size);
    out.ok(unique, FuseLayout.ENTRY_OUT_SIZE);
  }

  /** Returns whether the NUL-terminated name after the header is {@code name}. */
  private static boolean nameIs(ByteBuffer in, int body, byte[] name) {
    if (body < name.length + 1 || in.get(IN_HEADER_SIZE + name.length) != 0) {
      return false;
    }
    for (int i = 0; i < name.length; i++) {
      if (in.get(IN_HEADER_SIZE + i) != name[i]) {
        return false;
      }
    }
    return true;
  }

  private void getattr(long unique, long node, FuseReplier out) {
    if (node != ROOT_ID && node != FILE_ID) {
      out.error(unique, Errno.ENOENT);
      return;
    }
    attrOut(unique, node, out);
  }

  /** Answers with fuse_attr_out for {@code node}. */
  private void attrOut(long unique, long node, FuseReplier out) {
    long size = node == FILE_ID ? file.size() : 0;
    if (size < 0) {
      out.error(unique, (int) -size);
      return;
    }
    ByteBuffer p = out.payload(FuseLayout.ATTR_OUT_SIZE);
    p.putLong(FuseLayout.ATTR_OUT_VALID, VALID_SECONDS);
    attr(p, FuseLayout.ATTR_OUT_ATTR, node, size);
    out.ok(unique, FuseLayout.ATTR_OUT_SIZE);
  }

  /** Writes fuse_attr of {@code node} at {@code at}. */
  private void attr(ByteBuffer p, int at, long node, long size) {
    p.putLong(at + FuseLayout.ATTR_INO, node);
    if (node == FILE_ID) {
      p.putLong(at + FuseLayout.ATTR_SIZE_FIELD, size);
      p.putLong(at + FuseLayout.ATTR_BLOCKS, size / 512);
      p.putInt(at + FuseLayout.ATTR_MODE, DiskImageFile.FILE_MODE);
      p.putInt(at + FuseLayout.ATTR_NLINK, 1);
    } else {
      p.putInt(at + FuseLayout.ATTR_MODE, DiskImageFile.DIR_MODE);
      p.putInt(at + FuseLayout.ATTR_NLINK, 2);
    }
    long t = file.mountTime();
    p.putLong(at + FuseLayout.ATTR_ATIME, t);
    p.putLong(at + FuseLayout.ATTR_MTIME, t);
    p.putLong(at + FuseLayout.ATTR_CTIME, t);
    p.putInt(at + FuseLayout.ATTR_UID, (int) file.uid());
    p.putInt(at + FuseLayout.ATTR_GID, (int) file.gid());
    p.putInt(at + FuseLayout.ATTR_BLKSIZE, DiskImageFile.BLOCK);
  }

  /**
   * SETATTR: mode, owner and group only as they are (else EPERM), the size only as it is ({@link
   * DiskImageFile#truncate}), times and the rest ignored; answers the attributes.
   */
  private void setattr(long unique, long node, ByteBuffer in, FuseReplier out) {
    if (node != ROOT_ID && node != FILE_ID) {
      out.error(unique, Errno.ENOENT);
      return;
    }
    int valid = in.getInt(IN_HEADER_SIZE + FuseLayout.SETATTR_VALID);
    int mode = node == FILE_ID ? DiskImageFile.FILE_MODE : DiskImageFile.DIR_MODE;
    boolean modeChange =
        (valid & FuseLayout.FATTR_MODE) != 0
            && (in.getInt(IN_HEADER_SIZE + FuseLayout.SETATTR_MODE) & 07777) != (mode & 07777);
    boolean uidChange =
        (valid & FuseLayout.FATTR_UID) != 0
            && Integer.toUnsignedLong(in.getInt(IN_HEADER_SIZE + FuseLayout.SETATTR_UID))
                != file.uid();
    boolean gidChange =
        (valid & FuseLayout.FATTR_GID) != 0
            && Integer.toUnsignedLong(in.getInt(IN_HEADER_SIZE + FuseLayout.SETATTR_GID))
                != file.gid();
    if (modeChange || uidChange || gidChange) {
      out.error(unique, file.readOnly() ? Errno.EROFS : Errno.EPERM);
      return;
    }
    if ((valid & FuseLayout.FATTR_SIZE) != 0) {
      if (node == ROOT_ID) {
        out.error(unique, Errno.EISDIR);
        return;
      }
      int r = file.truncate(in.getLong(IN_HEADER_SIZE + FuseLayout.SETATTR_SIZE));
      if (r < 0) {
        out.error(unique, -r);
        return;
      }
    }
    attrOut(unique, node, out);
  }

  private static void opened(long unique, int result, int openFlags, FuseReplier out) {
    if (result < 0) {
      out.error(unique, -result);
      return;
    }
    ByteBuffer p = out.payload(FuseLayout.OPEN_OUT_SIZE);
    p.putLong(FuseLayout.OPEN_OUT_FH, 0);
    p.putInt(FuseLayout.OPEN_OUT_FLAGS, openFlags);
    out.ok(unique, FuseLayout.OPEN_OUT_SIZE);
  }

  private void read(long unique, ByteBuffer in, FuseBuffers b, FuseReplier out) {
    long offset = in.getLong(IN_HEADER_SIZE + FuseLayout.RW_OFFSET);
    long size = Integer.toUnsignedLong(in.getInt(IN_HEADER_SIZE + FuseLayout.RW_SIZE));
    if (offset < 0 || size > b.dataCapacity) {
      out.error(unique, Errno.EINVAL);
      return;
    }
    int n = file.read(FuseBuffers.view(b.data, (int) size), offset);
    if (n < 0) {
      out.error(unique, -n);
    } else {
      out.data(unique, b.data, n);
    }
  }

  private void write(long unique, ByteBuffer in, int body, FuseBuffers b, FuseReplier out) {
    long offset = in.getLong(IN_HEADER_SIZE + FuseLayout.RW_OFFSET);
    long size = Integer.toUnsignedLong(in.getInt(IN_HEADER_SIZE + FuseLayout.RW_SIZE));
    if (offset < 0 || FuseLayout.WRITE_IN_SIZE + size > body) {
      out.error(unique, Errno.EINVAL);
      return;
    }
    int n = file.write(FuseBuffers.view(b.request + FuseLayout.WRITE_DATA, (int) size), offset);
    if (n < 0) {
      out.error(unique, -n);
      return;
    }
    ByteBuffer p = out.payload(FuseLayout.WRITE_OUT_SIZE);
    p.putInt(0, n);
    out.ok(unique, FuseLayout.WRITE_OUT_SIZE);
  }

  /** READDIR of the root: the entries from index {@code offset} that fit into {@code size}. */
  private static void readdir(long unique, long node, ByteBuffer in, FuseReplier out) {
    if (node != ROOT_ID) {
      out.error(unique, Errno.ENOTDIR);
      return;
    }
    long offset = in.getLong(IN_HEADER_SIZE + FuseLayout.RW_OFFSET);
    int size =
        (int)
            Math.min(
                FuseReplier.PAYLOAD_CAPACITY,
                Integer.toUnsignedLong(in.getInt(IN_HEADER_SIZE + FuseLayout.RW_SIZE)));
    ByteBuffer p = out.payload(size);
    int at = 0;
    for (long i = Math.max(0, offset); i < DIR_NAMES.length; i++) {
      byte[] name = DIR_NAMES[(int) i].getBytes(StandardCharsets.UTF_8);
      int len = FuseLayout.direntSize(name.length);
      if (at + len > size) {
        break;
      }
      p.putLong(at + FuseLayout.DIRENT_INO, DIR_INOS[(int) i]);
      p.putLong(at + FuseLayout.DIRENT_OFF, i + 1);
      p.putInt(at + FuseLayout.DIRENT_NAMELEN, name.length);
      p.putInt(at + FuseLayout.DIRENT_TYPE, DIR_TYPES[(int) i]);
      p.put(at + FuseLayout.DIRENT_NAME, name);
      at += len;
    }
    out.ok(unique, at);
  }

  private void statfs(long unique, FuseReplier out) {
    long size = file.size();
    if (size < 0) {
      out.error(unique, (int) -size);
      return;
    }
    ByteBuffer p = out.payload(FuseLayout.STATFS_OUT_SIZE);
    p.putLong(FuseLayout.STATFS_BLOCKS, size / DiskImageFile.BLOCK);
    p.putLong(FuseLayout.STATFS_BFREE, 0);
    p.putLong(FuseLayout.STATFS_BAVAIL, 0);
    p.putLong(FuseLayout.STATFS_FILES, 2);
    p.putLong(FuseLayout.STATFS_FFREE, 0);
    p.putInt(FuseLayout.STATFS_BSIZE, DiskImageFile.BLOCK);
    p.putInt(FuseLayout.STATFS_NAMELEN, 255);
    p.putInt(FuseLayout.STATFS_FRSIZE, DiskImageFile.BLOCK);
    out.ok(unique, FuseLayout.STATFS_OUT_SIZE);
  }
}
