package org.jploop.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import org.jploop.image.Progress;
import org.jploop.image.StepHook;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Base of the verbs that run one offline image operation on a {@code DiskDescriptor.xml}: takes the
 * disk lock through {@link OfflineDisk}, runs {@link #run}, and turns an {@link
 * ImageOperationException} into ploop's exit code (BUSY 17, DIRTY 37, NO_SNAPSHOT 43, REFUSED 38,
 * CORRUPT 11).
 */
abstract class ImageVerb implements Callable<Integer>, Commands.VerboseAware {
  @Spec CommandSpec spec;

  @Option(names = "--verbose", description = "Print stack traces.")
  boolean verbose;

  @Parameters(index = "0", paramLabel = "DiskDescriptor.xml")
  Path descriptor;

  @Override
  public boolean verbose() {
    return verbose;
  }

  /** What the lock file says this verb is doing. */
  abstract String purpose();

  /** Runs the operation with the disk locked. */
  abstract void run(OfflineDisk disk) throws Exception;

  @Override
  public Integer call() throws Exception {
    try (OfflineDisk disk = OfflineDisk.open(descriptor, purpose())) {
      run(disk);
    } catch (ImageOperationException e) {
      throw new PloopException(exitCodeFor(e.kind()), e.getMessage(), e);
    }
    out().flush();
    return ExitCode.OK;
  }

  /** Returns the verb's standard output. */
  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  /** Returns progress on the terminal, quiet otherwise. */
  static Progress progress(String operation) {
    return Progress.onTerminal(operation);
  }

  /** The production hook: nothing. */
  static StepHook hook() {
    return StepHook.NONE;
  }

  /** Maps an operation failure kind to ploop's exit code. */
  static int exitCodeFor(ImageOperationException.Kind kind) {
    return switch (kind) {
      case BUSY -> ExitCode.EBUSY;
      case DIRTY -> ExitCode.PLOOPINUSE;
      case NO_SNAPSHOT -> ExitCode.NOSNAP;
      case REFUSED -> ExitCode.PARAM;
      case CORRUPT -> ExitCode.PLOOPFMT;
    };
  }
}
