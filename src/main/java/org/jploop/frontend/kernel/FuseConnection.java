package org.jploop.frontend.kernel;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * What the INIT exchange settled for one connection: the protocol minor both sides speak, the
 * capability flags accepted, the request size and the background (in flight) limit, and the open
 * flags that follow from them. Immutable; {@link #negotiate} computes it from the kernel's offer
 * and {@link #encodeInitOut} writes the matching reply.
 *
 * <p>Rules (fuse-protocol.md §2.2): the minor is the smaller of the kernel's and ours ({@link
 * FuseLayout#KERNEL_MINOR_VERSION}); the flags are those we want ANDed with those offered (the
 * kernel uses the reply's flags as given); flags2 is never used, so FUSE_INIT_EXT is never set;
 * {@code max_pages} is capped by {@code /proc/sys/fs/fuse/max_pages_limit}, and without
 * FUSE_MAX_PAGES requests stay at the kernel's 32 pages; {@code max_background} is twice the worker
 * threads, so that a worker finishing a request finds the next one queued, and {@code
 * congestion_threshold} three quarters of it; the reply is sized by the minor.
 *
 * @param kernelMinor the minor the kernel offered
 * @param offeredFlags flags | flags2 &lt;&lt; 32 as offered (flags2 only with FUSE_INIT_EXT)
 * @param minor the minor agreed on
 * @param flags the flags accepted (all below bit 32)
 * @param maxReadahead what the kernel offered (the reply can only lower it)
 * @param maxBackground background requests (async direct I/O) the kernel keeps in flight
 * @param congestionThreshold background requests above which the kernel holds back readahead
 * @param maxWrite bytes per READ or WRITE request
 * @param maxPages pages per request ({@code maxWrite / 4096})
 * @param openFlags FOPEN_* flags of every OPEN reply
 */
record FuseConnection(
    int kernelMinor,
    long offeredFlags,
    int minor,
    int flags,
    int maxReadahead,
    int maxBackground,
    int congestionThreshold,
    int maxWrite,
    int maxPages,
    int openFlags) {
  /** The flags asked for (fuse-protocol.md §2.2); none of the others. */
  static final int WANTED =
      FuseLayout.ASYNC_READ
          | FuseLayout.ATOMIC_O_TRUNC
          | FuseLayout.BIG_WRITES
          | FuseLayout.ASYNC_DIO
          | FuseLayout.MAX_PAGES
          | FuseLayout.ABORT_ERROR;

  /** Pages per request when FUSE_MAX_PAGES is not negotiated (the kernel's default). */
  static final int DEFAULT_MAX_PAGES = 32;

  /** The most pages per request we ask for: 1 MiB requests. */
  static final int WANTED_MAX_PAGES = 256;

  private static final int PAGE = 4096;

  /**
   * Settles the connection for a kernel offering protocol 7.{@code kernelMinor} with {@code
   * offered} flags and {@code maxReadahead}, served by {@code workers} threads, where the kernel
   * allows at most {@code maxPagesLimit} pages per request. The caller has checked the major
   * version and {@link FuseLayout#MIN_MINOR_VERSION}.
   */
  static FuseConnection negotiate(
      int kernelMinor, long offered, int maxReadahead, int workers, int maxPagesLimit) {
    int minor = Math.min(kernelMinor, FuseLayout.KERNEL_MINOR_VERSION);
    int flags = (int) (offered & WANTED);
    int pages =
        (flags & FuseLayout.MAX_PAGES) != 0
            ? Math.max(1, Math.min(WANTED_MAX_PAGES, maxPagesLimit))
            : DEFAULT_MAX_PAGES;
    int background = Math.min(0xffff, 2 * workers);
    int congestion = Math.max(1, background * 3 / 4);
    int open =
        FuseLayout.FOPEN_DIRECT_IO
            | (minor >= FuseLayout.PARALLEL_DIRECT_WRITES_MINOR
                ? FuseLayout.FOPEN_PARALLEL_DIRECT_WRITES
                : 0);
    return new FuseConnection(
        kernelMinor,
        offered,
        minor,
        flags,
        maxReadahead,
        background,
        congestion,
        pages * PAGE,
        pages,
        open);
  }

  /** Returns whether {@code flag} was accepted. */
  boolean has(int flag) {
    return (flags & flag) != 0;
  }

  /** Returns the size of the INIT reply's payload. */
  int initOutSize() {
    return FuseLayout.initOutSize(minor);
  }

  /**
   * Writes the INIT reply's payload, {@link #initOutSize} bytes, at index 0 of {@code out}
   * (little-endian, zeroed by the caller): fields the minor does not have are left out.
   */
  void encodeInitOut(ByteBuffer out) {
    out.putInt(FuseLayout.INIT_OUT_MAJOR, FuseLayout.KERNEL_VERSION);
    out.putInt(FuseLayout.INIT_OUT_MINOR, minor);
    int size = initOutSize();
    if (size <= FuseLayout.INIT_OUT_COMPAT_SIZE) {
      return;
    }
    out.putInt(FuseLayout.INIT_OUT_MAX_READAHEAD, maxReadahead);
    out.putInt(FuseLayout.INIT_OUT_FLAGS, flags);
    out.putShort(FuseLayout.INIT_OUT_MAX_BACKGROUND, (short) maxBackground);
    out.putShort(FuseLayout.INIT_OUT_CONGESTION_THRESHOLD, (short) congestionThreshold);
    out.putInt(FuseLayout.INIT_OUT_MAX_WRITE, maxWrite);
    if (size <= FuseLayout.INIT_OUT_COMPAT_22_SIZE) {
      return;
    }
    out.putInt(FuseLayout.INIT_OUT_TIME_GRAN, 1);
    if (minor >= 28) {
      out.putShort(FuseLayout.INIT_OUT_MAX_PAGES, (short) maxPages);
    }
  }

  /** One line for the daemon log: versions, flags offered and accepted, limits. */
  String describe() {
    return "FUSE protocol 7."
        + minor
        + " (kernel offers 7."
        + kernelMinor
        + ", flags 0x"
        + Long.toHexString(offeredFlags)
        + "); accepted 0x"
        + Integer.toHexString(flags)
        + " "
        + flagNames(flags)
        + ", max_write "
        + maxWrite
        + " ("
        + maxPages
        + " pages),"
        + " max_background "
        + maxBackground
        + ", congestion_threshold "
        + congestionThreshold
        + ", open flags "
        + (openFlags == FuseLayout.FOPEN_DIRECT_IO
            ? "DIRECT_IO"
            : "DIRECT_IO|PARALLEL_DIRECT_WRITES");
  }

  /** Returns the names of the INIT flags set in {@code flags} that this server knows. */
  static String flagNames(long flags) {
    String[][] names = {
      {"1", "ASYNC_READ"},
      {"8", "ATOMIC_O_TRUNC"},
      {"32", "BIG_WRITES"},
      {"32768", "ASYNC_DIO"},
      {"65536", "WRITEBACK_CACHE"},
      {"2097152", "ABORT_ERROR"},
      {"4194304", "MAX_PAGES"},
      {"1073741824", "INIT_EXT"}
    };
    List<String> out = new ArrayList<>();
    for (String[] n : names) {
      if ((flags & Long.parseLong(n[0])) != 0) {
        out.add(n[1]);
      }
    }
    return String.join("|", out);
  }
}
