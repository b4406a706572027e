package org.jploop.daemon;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jploop.engine.ChangedBlockTracker;
import org.jploop.engine.PloopDisk;
import org.jploop.format.DirtyBitmap;
import org.jploop.image.ImageOperationException;
import org.jploop.image.SnapshotCreator;

/**
 * The CBT of a mounted disk, what ploop asks the kernel for with {@code BLKCBTGET} / {@code
 * BLKCBTSTOP}: control verbs {@code cbt-get} (a copy of the running CBT, kept for paging; replies
 * {@code none} or {@code uuid=U gran=BYTES bits=N}), {@code cbt-bits from=B count=K} (base64 of
 * LSB-first bytes, at most {@link CopyTracking#MAX_PAGE} bits) and {@code cbt-drop} ({@code
 * BLKCBTSTOP}: replies {@code dropped} or {@code none}); and {@link #snapshot}, the online {@code
 * snapshot -b}. Verbs run on the control thread; {@link #copy} is only touched there.
 */
public final class OnlineCbt {
  private final SwappableDisk disk;
  private DirtyBitmap copy;

  public OnlineCbt(SwappableDisk disk) {
    this.disk = disk;
  }

  /** Registers the verbs on {@code control}. */
  public void register(ControlServer control) {
    control
        .on("cbt-get", a -> get())
        .on("cbt-bits", this::bits)
        .on(
            "cbt-drop",
            a -> cbt().flatMap(d -> d.tracking().stopCbt()).isPresent() ? "dropped" : "none");
  }

  private Optional<PloopDisk> cbt() throws IOException {
    PloopDisk d = disk.withDisk(v -> v instanceof PloopDisk p ? p : null);
    if (d == null) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED, "The disk has no CBT (a raw image)");
    }
    return Optional.of(d);
  }

  private String get() throws IOException {
    copy = cbt().flatMap(d -> d.tracking().cbt()).map(ChangedBlockTracker::snapshot).orElse(null);
    return copy == null
        ? "none"
        : "uuid=" + copy.id() + " gran=" + copy.granularityBytes() + " bits=" + copy.bits();
  }

  private String bits(Map<String, String> a) {
    if (copy == null) {
      throw new IllegalStateException("no CBT copy (cbt-get first)");
    }
    long from = Long.parseLong(a.getOrDefault("from", "0"));
    int count = Integer.parseInt(a.getOrDefault("count", "0"));
    if (from < 0 || count < 0 || count > CopyTracking.MAX_PAGE) {
      throw new IllegalArgumentException("page from=" + from + " count=" + count + " out of range");
    }
    byte[] b = new byte[(count + 7) / 8];
    for (int i = 0; i < count && from + i < copy.bits(); i++) {
      if (copy.get(from + i)) {
        b[i >>> 3] |= (byte) (1 << (i & 7));
      }
    }
    return Base64.getEncoder().encodeToString(b);
  }

  /**
   * Online {@code snapshot -b UUID}, on the closed disk's files ({@link OnlineOperations} closed
   * the engine, which saved the running CBT into the old top): the new top gets an empty CBT named
   * {@code cbt}, the old top, now a snapshot delta, keeps the bitmap of the epoch that ends under
   * its old name, and the reopened disk tracks the new epoch. This is ploop's {@code
   * create_cbt_snapshot} result (the kernel's bitmap taken and cleared, saved with the old UUID
   * into the previous top, renamed to the new one) reached through the offline steps; with no CBT
   * running the new one simply starts.
   */
  static String snapshot(SnapshotCreator c, String guid, UUID cbt, PrintWriter log)
      throws IOException {
    log.println("Create snapshot CBT uuid=" + cbt);
    return c.create(guid, cbt, log);
  }
}
