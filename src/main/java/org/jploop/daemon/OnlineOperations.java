package org.jploop.daemon;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jploop.engine.VirtualDisk;
import org.jploop.format.ImageGeometry;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.jploop.frontend.Frontend;
import org.jploop.host.EventLog;
import org.jploop.image.DeltaReplacer;
import org.jploop.image.DiskCompactor;
import org.jploop.image.DiskResizer;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import org.jploop.image.Progress;
import org.jploop.image.SnapshotCreator;
import org.jploop.image.SnapshotMerger;
import org.jploop.image.StepHook;

/**
 * The mount daemon's online image operations, the control verbs {@code snapshot [guid=G]
 * [temporary=1]}, {@code merge [guid=G | all=1]}, {@code replace level=N file=F [keep=1]}, {@code
 * resize sectors=N} and {@code compact}. Each runs the offline operation of {@code
 * org.jploop.image} on the files while the {@link SwappableDisk}'s gate is closed: the served disk
 * is closed (flushed, preallocated tail trimmed, in-use cleared), the operation runs under the
 * {@code DiskLock} the daemon already holds ({@link OfflineDisk#held}), and the chain the
 * descriptor now names is reopened and served. If the operation fails, the previous chain
 * (consistent, the operations being crash-safe) is reopened and the error goes back to the client;
 * if even that fails, the disk fails every request with EIO and the log says so.
 *
 * <p>Operations run on the daemon's "control" thread, one at a time. They touch only the image
 * files, never {@code disk.img} or the filesystem inside it ({@link
 * org.jploop.host.ServingProcess}): after an online grow the front end tells the kernel the new
 * size of {@code disk.img} ({@link Frontend#sizeChanged}) before the reply, then the {@code ploop}
 * process grows the loop device, partition and filesystem ({@link MountedResize}); it also does a
 * shrink's balloon work and asks for {@code compact} after.
 *
 * <p>A merge that would rewrite a delta a component mount serves, and any compact or resize while
 * one is mounted, is refused first ({@link ComponentGuard}, exit 17); a snapshot is allowed (it
 * changes no delta).
 */
public final class OnlineOperations {
  /** One operation on the closed disk's files; returns the reply text. */
  @FunctionalInterface
  private interface Operation {
    String run(OfflineDisk disk) throws IOException;
  }

  private final Path xml;
  private final SwappableDisk disk;
  private final boolean readOnly;
  private final EventLog log;
  private final Frontend frontend;

  /**
   * Operates on the disk of {@code xml} served through {@code disk}; {@code frontend} serves {@code
   * disk.img} and is told when its size changes.
   */
  public OnlineOperations(
      Path xml, SwappableDisk disk, boolean readOnly, EventLog log, Frontend frontend) {
    this.xml = xml;
    this.disk = disk;
    this.readOnly = readOnly;
    this.log = log;
    this.frontend = frontend;
  }

  /** Registers the verbs on {@code control}. */
  public void register(ControlServer control) {
    control
        .on("snapshot", this::snapshot)
        .on("merge", this::merge)
        .on("replace", this::replace)
        .on("resize", this::resize)
        .on("compact", a -> compact());
  }

  /**
   * {@code snapshot [guid=G] [temporary=1] [cbt=UUID]}: replies with the new snapshot's GUID;
   * {@code temporary=1} marks it {@code <Temporary/>} ({@code ploop tsnapshot}); {@code cbt=}
   * starts a new CBT epoch ({@code snapshot -b}, {@link OnlineCbt#snapshot}).
   */
  String snapshot(Map<String, String> args) throws IOException {
    String guid = args.get("guid");
    boolean temporary = "1".equals(args.get("temporary"));
    java.util.UUID cbt =
        args.containsKey("cbt") ? java.util.UUID.fromString(args.get("cbt")) : null;
    return underGate(
        "snapshot",
        true,
        d -> {
          SnapshotCreator c = new SnapshotCreator(d, StepHook.NONE);
          if (cbt != null) { // snapshot -b: see OnlineCbt
            return OnlineCbt.snapshot(
                c, guid, cbt, new PrintWriter(new LogLineWriter(log, "online snapshot: "), true));
          }
          return (temporary ? c.temporary() : c).create(guid);
        });
  }

  /** {@code merge [guid=G | all=1]}: merges the top (or G) into its parent, or everything. */
  String merge(Map<String, String> args) throws IOException {
    boolean all = "1".equals(args.get("all"));
    String guid = args.get("guid");
    if (all) {
      ComponentGuard.refuseIfAny(xml);
    } else {
      DiskDescriptor dd = DiskDescriptor.read(xml);
      String child = guid == null ? dd.topGuid() : Guid.parse(guid);
      DiskDescriptor.Shot shot = dd.shot(child);
      ComponentGuard.refuseIfServing(
          xml, shot == null ? List.of(child) : List.of(child, shot.parentGuid()));
    }
    return underGate(
        "merge",
        true,
        d -> {
          PrintWriter w = new PrintWriter(new LogLineWriter(log, "online merge: "), true);
          SnapshotMerger m = new SnapshotMerger(d, Progress.QUIET, w, StepHook.NONE);
          if (all) {
            m.mergeAll();
          } else {
            m.mergeIntoParent(guid == null ? d.descriptor().topGuid() : Guid.parse(guid));
          }
          w.flush();
          return "merged";
        });
  }

  /**
   * {@code replace level=N file=F [keep=1]} ({@code F} URL-encoded): puts file F in place of the
   * delta at level N ({@link DeltaReplacer}); replies with ploop's "Replacing ..." line. The top
   * delta, being written, and a delta a component mount serves are refused.
   */
  String replace(Map<String, String> args) throws IOException {
    int level = Integer.parseInt(args.get("level"));
    Path file = Path.of(URLDecoder.decode(args.get("file"), StandardCharsets.UTF_8));
    boolean keep = "1".equals(args.get("keep"));
    DiskDescriptor dd = DiskDescriptor.read(xml);
    List<DiskDescriptor.ImageEntry> chain = dd.topChain(xml);
    if (level < 0 || level >= chain.size()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Invalid level " + level + ": the disk has levels 0.." + (chain.size() - 1));
    }
    if (level == chain.size() - 1) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Unable to replace"
              + " the top delta "
              + dd.fileOf(xml, chain.get(level))
              + " of a running disk: it is"
              + " being written; replace a lower (read-only) delta or unmount the disk");
    }
    ComponentGuard.refuseIfServing(xml, List.of(chain.get(level).guid()));
    return underGate(
        "replace",
        true,
        d -> {
          DeltaReplacer.Result r = new DeltaReplacer(d).replace(level, file, keep);
          log.info("online replace: " + r.describe());
          return r.describe();
        });
  }

  /** {@code compact}: compacts every delta; replies with a summary. */
  String compact() throws IOException {
    ComponentGuard.refuseIfAny(xml);
    return underGate(
        "compact",
        false,
        d -> {
          StringBuilder sb = new StringBuilder();
          for (DiskCompactor.DeltaResult r :
              new DiskCompactor(d, p -> Progress.QUIET, StepHook.NONE).compactAll()) {
            log.info("online compact: " + r.describe());
            sb.append(sb.length() == 0 ? "" : "; ").append(r.describe());
          }
          return sb.toString();
        });
  }

  /**
   * {@code resize sectors=N}: grows the image; replies with its new size. A size not above the
   * current one is refused: that is a filesystem change only, which {@link MountedResize} does.
   */
  String resize(Map<String, String> args) throws IOException {
    String s = args.get("sectors");
    if (s == null) {
      throw new IllegalArgumentException("resize needs sectors=N");
    }
    long want = Long.parseLong(s);
    ComponentGuard.refuseIfAny(xml);
    DiskDescriptor d = DiskDescriptor.read(xml);
    long rounded = ImageGeometry.forSize(want, d.blocksize()).sizeSectors();
    if (rounded <= d.diskSizeSectors()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Online resize to "
              + rounded
              + " sectors does not grow the disk ("
              + d.diskSizeSectors()
              + " sectors):"
              + " only its filesystem changes, which ploop resize does itself");
    }
    String grown =
        underGate(
            "resize", false, od -> Long.toString(new DiskResizer(od, StepHook.NONE).resize(want)));
    frontend.sizeChanged();
    return grown;
  }

  /**
   * Returns what a compaction cut off the top delta {@code top}: from where its used clusters ended
   * before ({@code usedEndBefore}, the engine's preallocated-area start; clusters punched at the
   * tail are cut by the close that precedes the compaction, so the compact reply alone would not
   * count them) to its length in the {@code compact} reply.
   */
  public static long truncatedBytes(String compactReply, Path top, long usedEndBefore) {
    Matcher m =
        Pattern.compile(
                Pattern.quote(top.toString()) + ": moved \\d+ clusters, size \\d+ -> (\\d+) bytes")
            .matcher(compactReply);
    return m.find() ? Math.max(0, usedEndBefore - Long.parseLong(m.group(1))) : 0;
  }

  /**
   * Runs {@code op} with the disk suspended, closed and reopened as the class comment says. {@code
   * rawBaseAllowed}: whether {@code op} handles a disk with a raw (Plain) image; snapshot and merge
   * do (DiskOpener stacks deltas on a raw base), online resize and compact do not yet.
   */
  private String underGate(String what, boolean rawBaseAllowed, Operation op) throws IOException {
    if (readOnly) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "The disk is mounted read-only; online " + what + " needs a read-write mount");
    }
    if (!rawBaseAllowed && DiskDescriptor.read(xml).raw()) {
      throw new ImageOperationException(
          ImageOperationException.Kind.REFUSED,
          "Online "
              + what
              + " is not supported for a disk with a raw (Plain) image; unmount it first");
    }
    String[] reply = new String[1];
    IOException[] opFailure = new IOException[1];
    long t0 = System.nanoTime();
    log.info("online " + what + ": suspending the disk");
    disk.suspended(
        current -> {
          current.close();
          try (OfflineDisk od = OfflineDisk.held(xml)) {
            reply[0] = op.run(od);
          } catch (IOException | RuntimeException e) {
            opFailure[0] = e instanceof IOException io ? io : new IOException(e.toString(), e);
            log.error("online " + what + " failed; reopening the previous chain", e);
          }
          return reopen(what);
        });
    log.info(
        "online "
            + what
            + ": resumed after "
            + (System.nanoTime() - t0) / 1_000_000
            + " ms"
            + (opFailure[0] == null ? "" : " (operation failed)"));
    if (opFailure[0] != null) {
      throw opFailure[0];
    }
    return reply[0];
  }

  /** A Writer that sends each line to the event log as it is completed. */
  private static final class LogLineWriter extends Writer {
    private final EventLog log;
    private final String prefix;
    private final StringBuilder line = new StringBuilder();

    LogLineWriter(EventLog log, String prefix) {
      this.log = log;
      this.prefix = prefix;
    }

    @Override
    public void write(char[] buf, int off, int len) {
      for (int i = off; i < off + len; i++) {
        if (buf[i] == '\n') {
          log.info(prefix + line);
          line.setLength(0);
        } else if (buf[i] != '\r') {
          line.append(buf[i]);
        }
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
      if (line.length() > 0) {
        log.info(prefix + line);
        line.setLength(0);
      }
    }
  }

  private VirtualDisk reopen(String what) throws IOException {
    try {
      return DiskOpener.open(xml, DiskDescriptor.read(xml), false);
    } catch (IOException | RuntimeException e) {
      log.error(
          "FATAL: online "
              + what
              + ": cannot reopen the disk; every request now fails"
              + " with EIO until the disk is unmounted and checked (ploop umount, ploop check)",
          e);
      throw e;
    }
  }
}
