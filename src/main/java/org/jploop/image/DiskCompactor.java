package org.jploop.image;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.descriptor.DiskDescriptor;

/**
 * {@code ploop compact} for a whole disk: runs the {@link Compactor} on every ploop1 delta of the
 * descriptor (a raw base is skipped), after refusing dirty images. Used offline by the CLI and
 * online by the mount daemon (with the disk closed under its suspend gate). A delta's CBT is kept
 * (ploop compacts a mounted device, where the kernel keeps tracking): cut off before, appended
 * again after; a bad one is dropped. Holds no state.
 */
public final class DiskCompactor {
  private final OfflineDisk disk;
  private final Function<Path, Progress> progress;
  private final StepHook hook;

  /** Compacts {@code disk}; {@code progress} gives the progress of one delta file. */
  public DiskCompactor(OfflineDisk disk, Function<Path, Progress> progress, StepHook hook) {
    this.disk = disk;
    this.progress = progress;
    this.hook = hook;
  }

  /**
   * What compaction did to one delta.
   *
   * @param file the delta file
   * @param result clusters moved and sizes before and after
   */
  public record DeltaResult(Path file, Compactor.Result result) {
    /** One line for the user. */
    public String describe() {
      return file
          + ": moved "
          + result.movedClusters()
          + " clusters, size "
          + result.sizeBefore()
          + " -> "
          + result.sizeAfter()
          + " bytes";
    }
  }

  /** Compacts every ploop1 delta, base first; returns what happened to each. */
  public List<DeltaResult> compactAll() throws IOException {
    disk.requireClean();
    DiskDescriptor d = disk.descriptor();
    List<DeltaResult> out = new ArrayList<>();
    Map<String, Path> shared = ChildVolumes.shared(disk.xml(), d);
    for (DiskDescriptor.ImageEntry e : d.images()) {
      if ((d.raw() && e == d.images().get(0))
          || e.alien()
          || shared.containsKey(e.guid().toLowerCase(Locale.ROOT))) {
        // a raw base has no BAT; a parent volume's image, or one a child volume grows from, is
        // read by other volumes, which may be mounted
        continue;
      }
      Path p = disk.fileOf(e);
      try (DeltaFile delta = DeltaFile.open(p, false)) {
        DirtyBitmap cbt = CbtCarrier.read(delta, new PrintWriter(Writer.nullWriter()));
        CbtCarrier.detach(delta);
        Compactor.Result r = new Compactor(progress.apply(p), hook).compact(delta);
        if (cbt != null) {
          CbtCarrier.attach(delta, cbt);
          r = new Compactor.Result(r.movedClusters(), r.sizeBefore(), delta.file().size());
        }
        out.add(new DeltaResult(p, r));
      }
    }
    return out;
  }
}
