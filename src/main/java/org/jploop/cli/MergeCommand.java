package org.jploop.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.jploop.image.BareDeltaMerger;
import org.jploop.image.ImageFormat;
import org.jploop.image.ImageOperationException;
import org.jploop.image.Progress;
import org.jploop.image.StepHook;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop merge [-f raw] [-n NEW_DELTA] DELTAS_TO_MERGE BASE_DELTA}: merges delta files given
 * by path, the first one topmost, into the last one (or into a new file) with {@link
 * BareDeltaMerger}; no descriptor is read or changed and the merged files stay, as in ploop. {@code
 * ploop merge DiskDescriptor.xml} says to use snapshot-merge, and {@code -d DEVICE} is refused
 * (jploop has no ploop devices), both with exit 38. {@code -u} and {@code -A} are accepted and
 * ignored, as ploop does.
 */
@Command(
    name = "merge",
    description =
        "Merge delta files offline: DELTA... (top first) into"
            + " BASE_DELTA or into -n NEW_DELTA.")
final class MergeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "-f", paramLabel = "FORMAT", description = "raw: BASE_DELTA is a raw image.")
  String format;

  @Option(names = "-n", paramLabel = "NEW_DELTA", description = "Merge into this new file.")
  Path newDelta;

  @Option(
      names = "-d",
      paramLabel = "DEVICE",
      description = "Refused: jploop has no ploop devices.")
  String device;

  @Option(names = "-l", paramLabel = "LEVEL[..TOP_LEVEL]", description = "With -d only.")
  String levels;

  @Option(names = "-u", paramLabel = "UUID", description = "Ignored, as in ploop.")
  String ignoredUuid;

  @Option(names = "-A", description = "Ignored, as in ploop.")
  boolean ignoredAll;

  @Parameters(paramLabel = "DELTA", arity = "0..*")
  List<Path> files = List.of();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    boolean raw = format != null && ImageFormat.parse(format) == ImageFormat.RAW;
    if (files.size() == 1 && files.get(0).getFileName().toString().endsWith(".xml")) {
      throw new PloopException(ExitCode.PARAM, "Please use ploop snapshot-merge command");
    }
    if (device != null || levels != null) {
      throw new PloopException(
          ExitCode.PARAM,
          "Error: -d/-l: jploop has no ploop devices;"
              + " merge a mounted disk with ploop snapshot-merge DiskDescriptor.xml");
    }
    if (files.size() < 2) {
      throw new PloopException(
          ExitCode.PARAM,
          "Usage: ploop merge [-f raw] [-n NEW_DELTA]" + " DELTAS_TO_MERGE BASE_DELTA");
    }
    List<Path> deltas = files.subList(0, files.size() - 1);
    Path base = files.get(files.size() - 1);
    try {
      new BareDeltaMerger(Progress.onTerminal("Merging"), out, StepHook.NONE)
          .merge(deltas, base, newDelta, raw);
    } catch (ImageOperationException e) {
      throw new PloopException(ImageVerb.exitCodeFor(e.kind()), e.getMessage(), e);
    }
    out.flush();
    return ExitCode.OK;
  }
}
