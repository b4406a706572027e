package org.jploop.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jploop.daemon.DiskMounter;
import org.jploop.daemon.MountStatus;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.image.DeltaFile;
import org.jploop.io.CbtStore;
import org.jploop.io.ImageWriter;

/**
 * The {@code ploop} side of the daemon's {@code cbt-*} verbs (daemon {@code OnlineCbt}): fetches
 * the live CBT of a mounted disk page by page, shapes it as {@code ploop-cbt show} prints it, and
 * dumps it into a new delta. Stateless.
 */
final class OnlineCbtClient {
  private static final Pattern GET = Pattern.compile("uuid=(\\S+) gran=(\\d+) bits=(\\d+)");
  private static final int PAGE = 256 * 1024;

  private OnlineCbtClient() {}

  static String ask(MountStatus st, String request) throws IOException {
    return DiskMounter.requestOk(st, request);
  }

  /** Returns the disk's live CBT, or null if none runs. */
  static DirtyBitmap get(MountStatus st) throws IOException {
    Matcher m = GET.matcher(ask(st, "cbt-get"));
    if (!m.find()) {
      return null;
    }
    long sectors = DiskDescriptor.read(Path.of(st.descriptor())).diskSizeSectors();
    long bits = Long.parseLong(m.group(3));
    DirtyBitmap.Builder b =
        new DirtyBitmap.Builder(
            UUID.fromString(m.group(1)),
            sectors,
            (int) (Long.parseLong(m.group(2)) / ImageGeometry.SECTOR));
    for (long from = 0; from < bits; from += PAGE) {
      int count = (int) Math.min(PAGE, bits - from);
      byte[] page =
          Base64.getDecoder().decode(ask(st, "cbt-bits from=" + from + " count=" + count));
      for (int i = 0; i < count; i++) {
        if ((page[i >>> 3] & (1 << (i & 7))) != 0) {
          b.set(from + i);
        }
      }
    }
    return b.build();
  }

  /** {@code b} as the L1 view {@code show} prints: per piece 0 (clean), 1 (all dirty) or data. */
  static CbtStore.Stored stored(DirtyBitmap b, long clusterBytes) {
    int pieces = (int) b.pieceCount(clusterBytes);
    long[] l1 = new long[pieces];
    for (int i = 0; i < pieces; i++) {
      byte[] p = b.piece(i, clusterBytes);
      int n = b.pieceBytes(i, clusterBytes);
      boolean zero = true;
      boolean ones = true;
      for (int j = 0; j < n; j++) {
        zero &= p[j] == 0;
        ones &= p[j] == (byte) 0xFF;
      }
      l1[i] = zero ? 0 : ones ? 1 : 2;
    }
    return new CbtStore.Stored(b, 0, new long[0], l1, (int) clusterBytes);
  }

  /**
   * {@code dump --dst FILE} of a mounted disk: FILE created (O_EXCL) as an empty delta of the
   * disk's size and block size, receiving {@code b} if there is one; removed again on failure.
   */
  static void dumpInto(Path dst, DiskDescriptor d, DirtyBitmap b) throws IOException {
    ImageWriter.createEmpty(
        dst,
        ImageHeader.create(
            FormatVersion.V2, ImageGeometry.forSize(d.diskSizeSectors(), d.blocksize())));
    try {
      if (b != null) {
        try (DeltaFile f = DeltaFile.open(dst, false)) {
          f.writeCbt(b);
        }
      }
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(dst);
      throw e;
    }
  }
}
