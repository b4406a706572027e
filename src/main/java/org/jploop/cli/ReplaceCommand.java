package org.jploop.cli;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jploop.check.CheckOptions;
import org.jploop.check.CheckResult;
import org.jploop.check.ImageChecker;
import org.jploop.daemon.ComponentGuard;
import org.jploop.daemon.DiskMounter;
import org.jploop.daemon.MountStatus;
import org.jploop.format.CorruptImageException;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.image.DeltaReplacer;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop replace {-u UUID | -l LEVEL | -o CDELTA} [-f FORMAT] [-k] -i DELTA
 * [DiskDescriptor.xml]}: puts DELTA, a file with the same content (a copy), in place of one delta
 * of the disk's chain ({@link DeltaReplacer}). DELTA must pass {@code ploop check -c} read-only
 * (else 11). On a mounted disk the mount daemon does it with the disk suspended, as ploop 9 does
 * with a dm reload; the top delta, being written, is refused there. Unmounted, ploop 9 says "Can't
 * find running ploop device, doing offline replace" and then exits 38 without replacing (a bug);
 * jploop prints the same line and does the replace offline (README). {@code -o} without the
 * descriptor uses the {@code DiskDescriptor.xml} beside CDELTA, as ploop does.
 */
@Command(name = "replace", description = "Replace a delta of the disk by a copy of it.")
final class ReplaceCommand implements Callable<Integer> {
  static final String ONE_OF =
      "Error: either one of uuid (-u), level (-l) or current file (-o)" + " must be specified";

  @Spec CommandSpec spec;

  @Option(names = "-u", paramLabel = "UUID", description = "GUID of the delta to replace.")
  String uuid;

  @Option(names = "-l", paramLabel = "LEVEL", description = "Level of the delta (0: the base).")
  Integer level;

  @Option(names = "-o", paramLabel = "CDELTA", description = "Current file of the delta.")
  Path current;

  @Option(names = "-f", paramLabel = "FORMAT", description = "Format of the new image: ploop1.")
  String format;

  @Option(
      names = {"-k", "--keep-name"},
      description = "Rename the new file over the old one; the descriptor stays as it is.")
  boolean keepName;

  @Option(names = "-i", required = true, paramLabel = "DELTA", description = "The new file.")
  Path newDelta;

  @Parameters(index = "0", arity = "0..1", paramLabel = "DiskDescriptor.xml")
  Path descriptor;

  @Override
  public Integer call() throws Exception {
    var out = spec.commandLine().getOut();
    int given = (uuid == null ? 0 : 1) + (level == null ? 0 : 1) + (current == null ? 0 : 1);
    if (given != 1) {
      throw new PloopException(ExitCode.PARAM, ONE_OF);
    }
    if (format != null && !format.equals("ploop1")) {
      throw new PloopException(
          ExitCode.PARAM,
          format.equals("raw")
              ? "Replacing a raw image is not supported by jploop"
              : "Unknown format " + format);
    }
    Path xml = descriptor;
    if (xml == null) {
      if (current == null) {
        throw new PloopException(ExitCode.PARAM, "DiskDescriptor.xml is not specified");
      }
      xml = current.toAbsolutePath().resolveSibling(DiskDescriptor.FILE_NAME);
    }
    if (!Files.isRegularFile(newDelta)) {
      throw new PloopException(
          ExitCode.OPEN, "Can't open " + newDelta + ": No such file or directory");
    }
    checkNewImage();
    int lvl;
    try (OfflineDisk view = OfflineDisk.held(xml)) {
      lvl = new DeltaReplacer(view).levelOf(uuid, level, current);
    } catch (IllegalArgumentException e) {
      throw new PloopException(ExitCode.PARAM, e.getMessage());
    } catch (ImageOperationException e) {
      throw new PloopException(ImageVerb.exitCodeFor(e.kind()), e.getMessage(), e);
    }
    Optional<MountStatus> st = MountStatus.forDescriptor(xml);
    try {
      if (st.isPresent() && st.get().daemonAlive()) {
        String req =
            "replace level="
                + lvl
                + " file="
                + URLEncoder.encode(
                    newDelta.toAbsolutePath().normalize().toString(), StandardCharsets.UTF_8)
                + (keepName ? " keep=1" : "");
        out.println(DiskMounter.requestOk(st.get(), req));
      } else {
        out.println("Can't find running ploop device, doing offline replace");
        try (OfflineDisk disk = OfflineDisk.open(xml, "replace")) {
          List<DiskDescriptor.ImageEntry> chain = disk.descriptor().topChain(disk.xml());
          ComponentGuard.refuseIfServing(xml, List.of(chain.get(lvl).guid()));
          out.println(new DeltaReplacer(disk).replace(lvl, newDelta, keepName).describe());
        }
      }
    } catch (ImageOperationException e) {
      throw new PloopException(ImageVerb.exitCodeFor(e.kind()), e.getMessage(), e);
    }
    out.flush();
    return ExitCode.OK;
  }

  /** {@code ploop check -c -r DELTA}: a new image that does not pass is refused with 11. */
  private void checkNewImage() throws Exception {
    CheckResult r;
    try {
      r =
          ImageChecker.checkImage(
              newDelta, new CheckOptions(false, false, true, true, false), f -> {});
    } catch (CorruptImageException e) {
      throw new PloopException(ExitCode.PLOOPFMT, e.getMessage(), e);
    }
    if (!r.ok()) {
      throw new PloopException(
          ExitCode.PLOOPFMT,
          "Image "
              + newDelta
              + " does not pass ploop"
              + " check: "
              + (r.message() == null ? r.status() : r.message()));
    }
  }
}
