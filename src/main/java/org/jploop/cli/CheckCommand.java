package org.jploop.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.jploop.check.CheckOptions;
import org.jploop.check.CheckResult;
import org.jploop.check.DiskBusyException;
import org.jploop.check.ImageChecker;
import org.jploop.check.SparseRepair;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.jploop.image.ChildVolumes;
import org.jploop.image.Compactor;
import org.jploop.image.DeltaFile;
import org.jploop.image.Progress;
import org.jploop.image.StepHook;
import org.jploop.io.DiskLock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop check [-f] [-F] [-c] [-r] [-d] [-s] [-S] [-D] IMAGE} and {@code ploop check [-u
 * UUID] DiskDescriptor.xml}: runs {@link ImageChecker}, prints each finding on stdout (unless
 * {@code -s}) and exits as ploop does: 0 clean, 11 corrupted, 37 dirty or in use, 17 interrupted
 * version conversion.
 *
 * <p>After a check that passed: {@code -S} fills the holes ploop 1.15/7.x call "sparse" ({@link
 * SparseRepair}; ploop 9 accepts -S and does nothing), {@code -D} moves the data clusters from the
 * end of the file into unreferenced clusters and cuts the file ({@link Compactor}; what ploop 9's
 * unreachable defrag code would do). Both hold the disk's lock and do nothing with {@code -r}.
 */
@Command(name = "check", description = "Check a ploop image (or a disk's chain) and repair it.")
final class CheckCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = {"-f", "--force"},
      description = "Check a clean image too; apply soft fixes.")
  boolean force;

  @Option(
      names = {"-F", "--hard-force"},
      description = "Also zero entries past EOF/misaligned.")
  boolean hardForce;

  @Option(
      names = {"-c", "--check"},
      description = "Detailed: find clusters used twice.")
  boolean detailed;

  @Option(
      names = {"-r", "--ro"},
      description = "Read-only: repair nothing.")
  boolean readOnly;

  @Option(
      names = {"-d", "--drop-inuse"},
      description = "Clear the in-use flag if clean.")
  boolean dropInUse;

  @Option(
      names = {"-s", "--silent"},
      description = "Do not print findings.")
  boolean silent;

  @Option(
      names = {"-u", "--uuid"},
      paramLabel = "UUID",
      description = "DiskDescriptor.xml form: check the chain up to this snapshot.")
  String uuid;

  @Option(
      names = {"-R", "--raw"},
      description = "The image is raw: nothing to check but -b.")
  boolean raw;

  @Option(
      names = {"-b", "--blocksize"},
      paramLabel = "BLOCKSIZE",
      description = "Cluster size in sectors, required with -R (ignored for DiskDescriptor.xml).")
  Long blocksize;

  @Option(
      names = {"-S", "--repair-sparse"},
      description = "Fill holes inside the header and inside used clusters (ploop 7's check).")
  boolean repairSparse;

  @Option(
      names = {"-D", "--defrag"},
      description = "Move clusters from the end of the file into unused ones, then cut it.")
  boolean defrag;

  @Parameters(index = "0", paramLabel = "DiskDescriptor.xml|IMAGE")
  Path target;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    CheckOptions options = new CheckOptions(force, hardForce, detailed, readOnly, dropInUse);
    boolean xml = target.getFileName().toString().endsWith(".xml");
    if (uuid != null && !xml) {
      throw new PloopException(ExitCode.PARAM, "-u is only valid with DiskDescriptor.xml");
    }
    if (raw && !xml) {
      // ploop_check with CHECK_RAW: a raw image has no metadata; only -b is required.
      if (blocksize == null || blocksize <= 0) {
        throw new PloopException(ExitCode.PARAM, "Cluster blocksize required for raw image");
      }
      return ExitCode.OK;
    }
    if (blocksize != null && xml) {
      err.println("Warning: -b is ignored for DiskDescriptor.xml");
    }
    CheckResult r;
    try {
      r =
          xml
              ? ImageChecker.checkDisk(
                  target,
                  uuid == null ? null : Guid.parse(uuid),
                  options,
                  f -> finding(out, f.toString()))
              : ImageChecker.checkImage(target, options, f -> finding(out, f.toString()));
    } catch (DiskBusyException e) {
      throw new PloopException(ExitCode.PLOOPINUSE, e.getMessage(), e);
    }
    out.flush();
    switch (r.status()) {
      case CLEAN, SKIPPED_CLEAN, STOPPED_UNALIGNED -> {
        if (!r.message().isEmpty() && !silent) {
          out.println(r.message());
        }
        if ((repairSparse || defrag) && r.status() != CheckResult.Status.STOPPED_UNALIGNED) {
          afterCheck(xml, out);
        }
        out.flush();
        return ExitCode.OK;
      }
      case DIRTY -> {
        err.println(r.message());
        err.flush();
        return ExitCode.PLOOPINUSE;
      }
      case CONVERTING -> {
        err.println(r.message());
        err.flush();
        return ExitCode.EBUSY;
      }
      default -> {
        err.println(r.message());
        err.flush();
        return ExitCode.PLOOPFMT;
      }
    }
  }

  /** {@code -S} and {@code -D} on every ploop1 delta checked, under the disk's lock. */
  private void afterCheck(boolean xml, PrintWriter out) throws IOException {
    Path descriptor =
        xml ? target : target.toAbsolutePath().resolveSibling(DiskDescriptor.FILE_NAME);
    // the lock first: the descriptor and the chain it names are read under it, so a snapshot or
    // merge cannot change them between the read and the repair
    DiskLock lock = null;
    if (Files.exists(descriptor)) {
      lock =
          DiskLock.tryAcquire(descriptor, "check")
              .orElseThrow(
                  () ->
                      new PloopException(
                          ExitCode.PLOOPINUSE,
                          "Can't check, in use: " + DiskLock.holder(descriptor)));
    }
    try {
      afterCheckLocked(xml, descriptor, out);
    } finally {
      if (lock != null) {
        lock.close();
      }
    }
  }

  private void afterCheckLocked(boolean xml, Path descriptor, PrintWriter out) throws IOException {
    List<Path> deltas = new ArrayList<>();
    if (xml) {
      DiskDescriptor d = DiskDescriptor.read(target);
      List<DiskDescriptor.ImageEntry> chain =
          d.chain(target, uuid == null ? d.topGuid() : Guid.parse(uuid));
      for (int i = d.raw() ? 1 : 0; i < chain.size(); i++) {
        deltas.add(d.fileOf(target, chain.get(i)));
      }
    } else {
      deltas.add(target);
    }
    Set<Path> shared = new HashSet<>();
    if (defrag && Files.exists(descriptor)) {
      // -D moves clusters: not in an image a child volume grows from (it may be mounted)
      DiskDescriptor d = DiskDescriptor.read(descriptor);
      Map<String, Path> byGuid = ChildVolumes.shared(descriptor, d);
      for (DiskDescriptor.ImageEntry e : d.ownImages()) {
        if (byGuid.containsKey(e.guid().toLowerCase(Locale.ROOT))) {
          shared.add(d.fileOf(descriptor, e).toAbsolutePath().normalize());
        }
      }
    }
    for (Path delta : deltas) {
      if (repairSparse) {
        List<SparseRepair.Hole> holes = SparseRepair.find(delta);
        if (readOnly && !holes.isEmpty()) {
          out.println(
              "Warning: ploop image '"
                  + delta
                  + "' is sparse ("
                  + holes.size()
                  + " holes); not repaired (-r)");
        } else if (!readOnly) {
          SparseRepair.fill(delta, holes, this::note);
        }
      }
      if (defrag && !readOnly && shared.contains(delta.toAbsolutePath().normalize())) {
        note(delta + ": not defragmented: a child volume grows from it");
      } else if (defrag && !readOnly) {
        try (DeltaFile d = DeltaFile.open(delta, false)) {
          Compactor.Result c =
              new Compactor(Progress.onTerminal("Defragmenting"), StepHook.NONE).compact(d);
          note(
              delta
                  + ": defragmented, moved "
                  + c.movedClusters()
                  + " clusters, "
                  + c.sizeBefore()
                  + " -> "
                  + c.sizeAfter()
                  + " bytes");
        }
      }
    }
  }

  private void note(String line) {
    finding(spec.commandLine().getOut(), line);
  }

  private void finding(PrintWriter out, String line) {
    if (!silent) {
      out.println(line);
    }
  }
}
