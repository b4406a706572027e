package org.jploop.daemon;

import java.io.IOException;
import java.util.Base64;
import java.util.Map;
import java.util.function.LongPredicate;
import org.jploop.engine.ChangedBlockTracker;
import org.jploop.engine.PloopDisk;
import org.jploop.engine.VirtualDisk;
import org.jploop.format.DirtyBitmap;
import org.jploop.image.ImageOperationException;

/**
 * The daemon's side of {@code ploop copy -s} on a mounted disk, dm-tracking's messages as control
 * verbs: {@code copy-start} (a tracker with one bit per virtual cluster, set when a write, punch or
 * zero-range completes; {@code pid=} the sender's, so that a session whose sender died is replaced
 * by the next; replies {@code size=BYTES cluster=BYTES}), {@code copy-mapped from=C count=K} (which
 * clusters the top delta maps, from the BAT in memory), {@code copy-take} (takes and clears the
 * changed set: {@code tracking_get_next} in one go; replies {@code count=N}), {@code copy-changed
 * from=C count=K} (pages through the set taken), {@code copy-freeze [lease=MS]} (writes wait, those
 * in flight drain, metadata is flushed; replies {@code ms=N}), {@code copy-thaw}, {@code copy-cbt}
 * and {@code copy-cbt-bits from=B count=K} (the disk's CBT, if one runs), {@code copy-stop}. Bit
 * pages are base64 of LSB-first bytes, at most {@link #MAX_PAGE} bits, so a reply stays one short
 * line.
 *
 * <p>The data is not sent through the daemon: the {@code ploop} process reads {@code disk.img} (the
 * engine here, so a cluster whose BAT entry is still in a delayed md page reads right). One copy at
 * a time; verbs run on the control thread, so the fields need no lock. An online operation reopens
 * the engine and with it loses the tracker: the next verb then fails and the sender stops.
 */
public final class CopyTracking {
  /** The most bits one page reply carries. */
  public static final int MAX_PAGE = 256 * 1024;

  /** Default freeze lease: a sender that dies frozen stalls writes this long at most. */
  private static final long DEFAULT_LEASE_MS = 30_000;

  private final SwappableDisk disk;
  private PloopDisk tracked;
  private ChangedBlockTracker tracker;
  private DirtyBitmap taken;
  private DirtyBitmap cbt;

  /** The sender's pid: a session whose sender is dead is replaced by the next copy-start. */
  private long senderPid;

  public CopyTracking(SwappableDisk disk) {
    this.disk = disk;
  }

  /** Registers the verbs on {@code control}. */
  public void register(ControlServer control) {
    control
        .on("copy-start", this::start)
        .on("copy-mapped", a -> page(a, current()::mappedInTop))
        .on("copy-take", a -> take())
        .on("copy-changed", a -> page(a, c -> taken != null && c < taken.bits() && taken.get(c)))
        .on("copy-freeze", this::freeze)
        .on("copy-thaw", a -> disk.writeFreeze().thaw() ? "thawed" : "lease expired")
        .on("copy-cbt", a -> cbt())
        .on("copy-cbt-bits", a -> page(a, c -> cbt != null && c < cbt.bits() && cbt.get(c)))
        .on("copy-stop", a -> stop());
  }

  private String start(Map<String, String> a) throws IOException {
    if (tracker != null) {
      if (senderPid > 0 && ProcessHandle.of(senderPid).map(ProcessHandle::isAlive).orElse(false)) {
        throw new ImageOperationException(
            ImageOperationException.Kind.BUSY,
            "A copy of this disk is already running (sender pid " + senderPid + ")");
      }
      stop(); // its sender died without copy-stop
    }
    senderPid = Long.parseLong(a.getOrDefault("pid", "0"));
    PloopDisk d = disk.withDisk(v -> v instanceof PloopDisk p ? p : null);
    if (d == null || d.readOnly()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Live copy needs a read-write ploop1 disk (not a raw image, not read-only)");
    }
    tracked = d;
    tracker = d.tracking().startTracking(d.clusterBytes());
    taken = null;
    return "size=" + d.size() + " cluster=" + d.clusterBytes();
  }

  private PloopDisk current() throws IOException {
    if (tracker == null) {
      throw new IllegalStateException("no copy is running (copy-start first)");
    }
    VirtualDisk now = disk.withDisk(v -> v);
    if (now != tracked) {
      throw new ImageOperationException(
          ImageOperationException.Kind.BUSY,
          "The disk was"
              + " reopened by an online operation during the copy; its writes were not tracked");
    }
    return tracked;
  }

  private String take() throws IOException {
    current();
    taken = tracker.takeAndClear();
    return "count=" + taken.cardinality();
  }

  private String freeze(Map<String, String> a) throws IOException {
    PloopDisk d = current();
    long t0 = System.nanoTime();
    long lease = a.containsKey("lease") ? Long.parseLong(a.get("lease")) : DEFAULT_LEASE_MS;
    disk.writeFreeze().freeze(lease);
    try {
      d.flush();
    } catch (IOException | RuntimeException e) {
      disk.writeFreeze().thaw();
      throw e;
    }
    return "ms=" + (System.nanoTime() - t0) / 1_000_000;
  }

  private String cbt() throws IOException {
    cbt = current().tracking().cbt().map(ChangedBlockTracker::snapshot).orElse(null);
    return cbt == null
        ? "none"
        : "uuid=" + cbt.id() + " gran=" + cbt.granularityBytes() + " bits=" + cbt.bits();
  }

  private String stop() {
    if (tracker != null) {
      tracked.tracking().stopTracking(tracker);
    }
    tracker = null;
    tracked = null;
    taken = null;
    cbt = null;
    disk.writeFreeze().thaw();
    return "stopped";
  }

  /** A page of bits {@code [from, from+count)} of {@code bit}, base64 of LSB-first bytes. */
  private String page(Map<String, String> a, LongPredicate bit) throws IOException {
    current();
    long from = Long.parseLong(a.getOrDefault("from", "0"));
    int count = Integer.parseInt(a.getOrDefault("count", "0"));
    if (from < 0 || count < 0 || count > MAX_PAGE) {
      throw new IllegalArgumentException(
          "page from="
              + from
              + " count="
              + count
              + " out of range (at most "
              + MAX_PAGE
              + " bits)");
    }
    byte[] b = new byte[(count + 7) / 8];
    for (int i = 0; i < count; i++) {
      if (bit.test(from + i)) {
        b[i >>> 3] |= (byte) (1 << (i & 7));
      }
    }
    return Base64.getEncoder().encodeToString(b);
  }
}
