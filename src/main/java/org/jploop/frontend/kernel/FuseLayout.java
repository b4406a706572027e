package org.jploop.frontend.kernel;

/**
 * The byte layout of the kernel's FUSE protocol as far as a one-file disk uses it: opcodes, flag
 * bits and the offset of every field (include/uapi/linux/fuse.h, protocol 7.45; offsets as {@code
 * offsetof} gives them on x86-64, little-endian, every struct padded to 8 bytes). Offsets are
 * relative to the start of their struct; a request's struct starts at {@link #IN_HEADER_SIZE}, a
 * reply's payload after the {@link #OUT_HEADER_SIZE}-byte header. Constants only.
 */
final class FuseLayout {
  private FuseLayout() {}

  /** The protocol major version this server speaks. */
  static final int KERNEL_VERSION = 7;

  /** The newest minor version whose layout this server knows (Linux 6.18). */
  static final int KERNEL_MINOR_VERSION = 45;

  /** The oldest minor version accepted: 7.22 brought FUSE_ASYNC_DIO (Linux 3.13). */
  static final int MIN_MINOR_VERSION = 22;

  /** The root directory's node id. */
  static final long ROOT_ID = 1;

  /** disk.img's node id. */
  static final long FILE_ID = 2;

  // opcodes (enum fuse_opcode)
  static final int LOOKUP = 1;
  static final int FORGET = 2;
  static final int GETATTR = 3;
  static final int SETATTR = 4;
  static final int OPEN = 14;
  static final int READ = 15;
  static final int WRITE = 16;
  static final int STATFS = 17;
  static final int RELEASE = 18;
  static final int FSYNC = 20;
  static final int FLUSH = 25;
  static final int INIT = 26;
  static final int OPENDIR = 27;
  static final int READDIR = 28;
  static final int RELEASEDIR = 29;
  static final int INTERRUPT = 36;
  static final int DESTROY = 38;
  static final int BATCH_FORGET = 42;
  static final int FALLOCATE = 43;

  // notification codes (enum fuse_notify_code), sent in out_header.error with unique 0
  static final int NOTIFY_INVAL_INODE = 2;

  // INIT flags (fuse_init_in/out.flags; bit 32 and up are flags2)
  static final int ASYNC_READ = 1;
  static final int ATOMIC_O_TRUNC = 1 << 3;
  static final int BIG_WRITES = 1 << 5;
  static final int ASYNC_DIO = 1 << 15;
  static final int WRITEBACK_CACHE = 1 << 16;
  static final int ABORT_ERROR = 1 << 21;
  static final int MAX_PAGES = 1 << 22;
  static final int INIT_EXT = 1 << 30;

  // FOPEN flags (fuse_open_out.open_flags)
  static final int FOPEN_DIRECT_IO = 1;
  static final int FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;

  /** The minor version that brought FOPEN_PARALLEL_DIRECT_WRITES (Linux 6.2, 6.1.107). */
  static final int PARALLEL_DIRECT_WRITES_MINOR = 38;

  // SETATTR valid bits (FATTR_*)
  static final int FATTR_MODE = 1;
  static final int FATTR_UID = 1 << 1;
  static final int FATTR_GID = 1 << 2;
  static final int FATTR_SIZE = 1 << 3;

  // fuse_in_header (40 bytes)
  static final int IN_HEADER_SIZE = 40;
  static final int IN_LEN = 0;
  static final int IN_OPCODE = 4;
  static final int IN_UNIQUE = 8;
  static final int IN_NODEID = 16;
  static final int IN_UID = 24;
  static final int IN_GID = 28;
  static final int IN_PID = 32;

  // fuse_out_header (16 bytes)
  static final int OUT_HEADER_SIZE = 16;
  static final int OUT_LEN = 0;
  static final int OUT_ERROR = 4;
  static final int OUT_UNIQUE = 8;

  // fuse_init_in: 16 bytes before 7.36, 64 bytes (flags2 and unused[11]) since
  static final int INIT_IN_COMPAT_SIZE = 16;
  static final int INIT_IN_SIZE = 64;
  static final int INIT_IN_MAJOR = 0;
  static final int INIT_IN_MINOR = 4;
  static final int INIT_IN_MAX_READAHEAD = 8;
  static final int INIT_IN_FLAGS = 12;
  static final int INIT_IN_FLAGS2 = 16;

  // fuse_init_out: 8 bytes before 7.5, 24 bytes for 7.5..7.22, 64 bytes since 7.23
  static final int INIT_OUT_COMPAT_SIZE = 8;
  static final int INIT_OUT_COMPAT_22_SIZE = 24;
  static final int INIT_OUT_SIZE = 64;
  static final int INIT_OUT_MAJOR = 0;
  static final int INIT_OUT_MINOR = 4;
  static final int INIT_OUT_MAX_READAHEAD = 8;
  static final int INIT_OUT_FLAGS = 12;
  static final int INIT_OUT_MAX_BACKGROUND = 16;
  static final int INIT_OUT_CONGESTION_THRESHOLD = 18;
  static final int INIT_OUT_MAX_WRITE = 20;
  static final int INIT_OUT_TIME_GRAN = 24;
  static final int INIT_OUT_MAX_PAGES = 28;
  static final int INIT_OUT_FLAGS2 = 32;

  // fuse_attr (88 bytes)
  static final int ATTR_SIZE = 88;
  static final int ATTR_INO = 0;
  static final int ATTR_SIZE_FIELD = 8;
  static final int ATTR_BLOCKS = 16;
  static final int ATTR_ATIME = 24;
  static final int ATTR_MTIME = 32;
  static final int ATTR_CTIME = 40;
  static final int ATTR_MODE = 60;
  static final int ATTR_NLINK = 64;
  static final int ATTR_UID = 68;
  static final int ATTR_GID = 72;
  static final int ATTR_BLKSIZE = 80;

  // fuse_entry_out (128 bytes)
  static final int ENTRY_OUT_SIZE = 128;
  static final int ENTRY_NODEID = 0;
  static final int ENTRY_GENERATION = 8;
  static final int ENTRY_VALID = 16;
  static final int ENTRY_ATTR_VALID = 24;
  static final int ENTRY_ATTR = 40;

  // fuse_attr_out (104 bytes)
  static final int ATTR_OUT_SIZE = 104;
  static final int ATTR_OUT_VALID = 0;
  static final int ATTR_OUT_ATTR = 16;

  // fuse_setattr_in (88 bytes)
  static final int SETATTR_IN_SIZE = 88;
  static final int SETATTR_VALID = 0;
  static final int SETATTR_SIZE = 16;
  static final int SETATTR_MODE = 68;
  static final int SETATTR_UID = 76;
  static final int SETATTR_GID = 80;

  // fuse_open_in (8 bytes) and fuse_open_out (16 bytes)
  static final int OPEN_IN_SIZE = 8;
  static final int OPEN_IN_FLAGS = 0;
  static final int OPEN_OUT_SIZE = 16;
  static final int OPEN_OUT_FH = 0;
  static final int OPEN_OUT_FLAGS = 8;

  // fuse_read_in and fuse_write_in (40 bytes each); a WRITE's data follows at 80
  static final int READ_IN_SIZE = 40;
  static final int WRITE_IN_SIZE = 40;
  static final int RW_OFFSET = 8;
  static final int RW_SIZE = 16;
  static final int WRITE_DATA = IN_HEADER_SIZE + WRITE_IN_SIZE;

  // fuse_write_out (8 bytes)
  static final int WRITE_OUT_SIZE = 8;

  // fuse_kstatfs (80 bytes)
  static final int STATFS_OUT_SIZE = 80;
  static final int STATFS_BLOCKS = 0;
  static final int STATFS_BFREE = 8;
  static final int STATFS_BAVAIL = 16;
  static final int STATFS_FILES = 24;
  static final int STATFS_FFREE = 32;
  static final int STATFS_BSIZE = 40;
  static final int STATFS_NAMELEN = 44;
  static final int STATFS_FRSIZE = 48;

  // fuse_fsync_in (16 bytes), fuse_flush_in and fuse_release_in (24 bytes)
  static final int FSYNC_IN_SIZE = 16;
  static final int FLUSH_IN_SIZE = 24;
  static final int RELEASE_IN_SIZE = 24;

  // fuse_fallocate_in (32 bytes)
  static final int FALLOCATE_IN_SIZE = 32;
  static final int FALLOCATE_OFFSET = 8;
  static final int FALLOCATE_LENGTH = 16;
  static final int FALLOCATE_MODE = 24;

  // fuse_interrupt_in (8 bytes)
  static final int INTERRUPT_IN_SIZE = 8;
  static final int INTERRUPT_UNIQUE = 0;

  // fuse_dirent: 24 bytes plus the name, padded to 8
  static final int DIRENT_INO = 0;
  static final int DIRENT_OFF = 8;
  static final int DIRENT_NAMELEN = 16;
  static final int DIRENT_TYPE = 20;
  static final int DIRENT_NAME = 24;
  static final int DT_DIR = 4;
  static final int DT_REG = 8;

  // fuse_notify_inval_inode_out (24 bytes)
  static final int INVAL_INODE_SIZE = 24;
  static final int INVAL_INODE_INO = 0;
  static final int INVAL_INODE_OFF = 8;
  static final int INVAL_INODE_LEN = 16;

  /** Returns the size of fuse_init_out a kernel speaking minor {@code minor} expects. */
  static int initOutSize(int minor) {
    if (minor < 5) {
      return INIT_OUT_COMPAT_SIZE;
    }
    return minor < 23 ? INIT_OUT_COMPAT_22_SIZE : INIT_OUT_SIZE;
  }

  /** Returns a fuse_dirent's size with a name of {@code nameLength} bytes: padded to 8. */
  static int direntSize(int nameLength) {
    return (DIRENT_NAME + nameLength + 7) & ~7;
  }
}
