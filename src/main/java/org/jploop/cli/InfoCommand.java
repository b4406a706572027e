package org.jploop.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jploop.check.CheckOptions;
import org.jploop.check.CheckResult;
import org.jploop.check.Finding;
import org.jploop.check.ImageChecker;
import org.jploop.check.Severity;
import org.jploop.daemon.MountStatus;
import org.jploop.format.CorruptImageException;
import org.jploop.image.DeltaInfo;
import org.jploop.image.DiskInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop info [-s] [--json] DiskDescriptor.xml|IMAGE}: size, cluster size, version, every
 * delta (GUID, clusters allocated, bytes on disk, in-use state) and whether the disk is mounted.
 * {@code -s} prints ploop's three-line form. The BAT of each delta is verified read-only first; a
 * corrupted delta fails with the checker's message (file, offset) and exit 11.
 */
@Command(name = "info", description = "Show size, cluster size, version and deltas of a disk.")
final class InfoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "-s", description = "Print size, blocksize and fmt_version only (ploop's form).")
  boolean sizeOnly;

  @Option(names = "--json", description = "Print JSON for scripts.")
  boolean json;

  @Parameters(index = "0", paramLabel = "DiskDescriptor.xml|IMAGE")
  Path target;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    boolean xml = target.getFileName().toString().endsWith(".xml");
    DiskInfo info = xml ? DiskInfo.ofDescriptor(target) : DiskInfo.ofImage(target);
    List<Finding> warnings = verifyDeltas(info);
    if (sizeOnly) {
      out.printf(
          Locale.ROOT,
          "size:\t\t%d%nblocksize:\t%d%nfmt_version:\t%d%n",
          info.sizeSectors(),
          info.clusterSectors(),
          info.version() == null ? 0 : info.version().number());
    } else if (json) {
      out.println(toJson(info, warnings));
    } else {
      printText(out, info, warnings);
    }
    out.flush();
    return ExitCode.OK;
  }

  /**
   * Runs a read-only detailed check of every ploop1 delta. Hard findings and soft ones (slots past
   * the disk size) make the image corrupted (exit 11); a leaked tail or an unaligned file size is
   * returned as a warning (not the tail of a mounted top delta: the daemon preallocates there).
   */
  private static List<Finding> verifyDeltas(DiskInfo info) throws IOException {
    List<Finding> warnings = new ArrayList<>();
    CheckOptions readOnly = new CheckOptions(false, false, true, true, false);
    for (DeltaInfo d : info.deltas()) {
      if (d.raw()) {
        continue;
      }
      List<Finding> found = new ArrayList<>();
      CheckResult r = ImageChecker.checkImage(d.file(), readOnly, found::add);
      for (Finding f : found) {
        boolean corrupt =
            f.severity() != Severity.NOTICE && f.kind() != Finding.Kind.UNALIGNED_SIZE;
        if (corrupt) {
          throw new CorruptImageException(f.file(), f.offset(), f.message());
        }
        boolean daemonTail =
            info.locked() && d == info.top() && f.kind() == Finding.Kind.LEAKED_TAIL;
        if (!daemonTail) { // a mounted top carries the daemon's preallocated tail by design
          warnings.add(f);
        }
      }
      if (r.status() == CheckResult.Status.CORRUPT) {
        throw new CorruptImageException(d.file(), -1, r.message());
      }
    }
    return warnings;
  }

  /**
   * What the mount daemon can tell about a mounted disk: whether the DiskLock is held and by whom,
   * and from its status file the FUSE front end serving {@code disk.img} and where that is.
   */
  static Map<String, Object> mountDaemonStatus(DiskInfo info) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("mounted", info.locked());
    if (info.locked()) {
      m.put("holder", info.lockHolder());
    }
    if (info.descriptor() != null) {
      try {
        MountStatus.forDescriptor(info.descriptor())
            .ifPresent(
                st -> {
                  m.put("frontend", st.frontendName());
                  m.put("disk_image", st.diskImage());
                });
      } catch (IOException e) {
        m.put("status_error", e.getMessage());
      }
    }
    return m;
  }

  private static void printText(PrintWriter out, DiskInfo info, List<Finding> warnings) {
    if (info.descriptor() != null) {
      out.printf(Locale.ROOT, "disk:\t\t%s%n", info.descriptor().toAbsolutePath());
    }
    out.printf(
        Locale.ROOT,
        "size:\t\t%d sectors (%s)%n",
        info.sizeSectors(),
        human(info.sizeSectors() * 512));
    out.printf(
        Locale.ROOT,
        "blocksize:\t%d sectors (%s)%n",
        info.clusterSectors(),
        human(info.clusterSectors() * 512L));
    out.printf(
        Locale.ROOT,
        "fmt_version:\t%s%n",
        info.version() == null
            ? "raw"
            : info.version().number() + " (" + info.version().signatureText() + ")");
    if (info.descriptor() != null) {
      out.printf(
          Locale.ROOT,
          "mounted:\t%s%n",
          info.locked() ? "yes, in use by pid " + info.lockHolder() : "no");
      printMount(out, info.descriptor());
    }
    out.printf(Locale.ROOT, "deltas:\t\t%d%n", info.deltas().size());
    int level = 0;
    for (DeltaInfo d : info.deltas()) {
      out.printf(
          Locale.ROOT, "  %d %s%s%n", level++, d.file(), d.guid() == null ? "" : " " + d.guid());
      if (d.raw()) {
        out.printf(
            Locale.ROOT,
            "      raw, file %d bytes, %d bytes on disk%n",
            d.fileBytes(),
            d.bytesOnDisk());
      } else {
        out.printf(
            Locale.ROOT,
            "      %d clusters allocated (%s), file %d bytes, %d bytes on disk, %s%n",
            d.clustersAllocated(),
            human(d.clustersAllocated() * d.clusterSectors() * 512L),
            d.fileBytes(),
            d.bytesOnDisk(),
            d.state());
      }
    }
    for (Finding f : warnings) {
      out.println("warning: " + f);
    }
  }

  /** Prints what the mount daemon publishes (disk.img, loop, mount point, ENOSPC events). */
  private static void printMount(PrintWriter out, java.nio.file.Path xml) {
    try {
      MountStatus st = MountStatus.forDescriptor(xml).orElse(null);
      if (st == null) {
        return;
      }
      out.printf(
          Locale.ROOT,
          "daemon:\t\tpid %d, %s, log %s%n",
          st.pid(),
          st.daemonAlive() ? st.state() : "dead (run ploop umount)",
          st.logFile());
      out.printf(Locale.ROOT, "disk.img:\t%s%n", st.diskImage());
      out.printf(
          Locale.ROOT,
          "front end:\t%s%s%n",
          st.frontendName(),
          st.frontend() == null
              ? ""
              : String.format(
                  Locale.ROOT,
                  " (%d requests, %d in flight at most, %d workers)",
                  st.frontend().requests(),
                  st.frontend().maxInFlight(),
                  st.frontend().workers()));
      if (st.loopDevice() != null) {
        out.printf(
            Locale.ROOT, "device:\t\t%s%nmount point:\t%s%n", st.loopDevice(), st.mountPoint());
      }
      out.printf(
          Locale.ROOT,
          "ENOSPC events:\t%d%s%n",
          st.enospcEvents(),
          st.lastEnospcAt() == null ? "" : " (last " + st.lastEnospcAt() + ")");
    } catch (IOException e) {
      out.println("warning: cannot read the mount status: " + e.getMessage());
    }
  }

  private static String toJson(DiskInfo info, List<Finding> warnings)
      throws JsonProcessingException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(
        "descriptor",
        info.descriptor() == null ? null : info.descriptor().toAbsolutePath().toString());
    m.put("size_sectors", info.sizeSectors());
    m.put("size_bytes", info.sizeSectors() * 512);
    m.put("blocksize_sectors", info.clusterSectors());
    m.put("cluster_bytes", info.clusterSectors() * 512L);
    m.put("fmt_version", info.version() == null ? null : info.version().number());
    m.put("mount", mountDaemonStatus(info));
    List<Map<String, Object>> deltas = new ArrayList<>();
    for (DeltaInfo d : info.deltas()) {
      Map<String, Object> dm = new LinkedHashMap<>();
      dm.put("file", d.file().toAbsolutePath().toString());
      dm.put("guid", d.guid());
      dm.put("type", d.raw() ? "Plain" : "Compressed");
      dm.put("fmt_version", d.version() == null ? null : d.version().number());
      dm.put("size_sectors", d.sizeSectors());
      dm.put("clusters_allocated", d.clustersAllocated());
      dm.put("file_bytes", d.fileBytes());
      dm.put("bytes_on_disk", d.bytesOnDisk());
      dm.put("in_use", d.inUse());
      dm.put("flags", d.flags());
      deltas.add(dm);
    }
    m.put("deltas", deltas);
    m.put("warnings", warnings.stream().map(Finding::toString).toList());
    return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m);
  }

  private static String human(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
