package org.jploop.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.jploop.image.DescriptorRestorer;
import org.jploop.image.ImageFormat;
import org.jploop.image.ImageOperationException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop restore-descriptor [-f FORMAT] [-b BLOCKSIZE] IMAGE_DIR BASE_DELTA}: writes the
 * DiskDescriptor.xml of a lone base image ({@link DescriptorRestorer}). Exactly two arguments, else
 * usage and exit 38; an existing descriptor exits 17 (ploop 9; 1.15 exits 38).
 */
@Command(
    name = "restore-descriptor",
    description = "Write IMAGE_DIR/DiskDescriptor.xml for a lone base image.")
final class RestoreDescriptorCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "-f", paramLabel = "FORMAT", description = "raw or ploop1 (default).")
  String format;

  @Option(
      names = "-b",
      paramLabel = "BLOCKSIZE",
      description =
          "Cluster size in sectors, for a raw image (default: the largest of 2048..64"
              + " dividing its size).")
  String blocksize;

  @Parameters(paramLabel = "IMAGE_DIR BASE_DELTA", arity = "0..*")
  List<Path> args = List.of();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    boolean raw = false;
    if (format != null) {
      ImageFormat f = ImageFormat.parse(format);
      if (f == ImageFormat.PREALLOCATED) {
        throw usage();
      }
      raw = f == ImageFormat.RAW;
    }
    int bs = 0;
    if (blocksize != null) {
      try {
        bs = Integer.decode(blocksize);
      } catch (NumberFormatException e) {
        throw usage();
      }
    }
    if (args.size() != 2) {
      throw usage();
    }
    try {
      new DescriptorRestorer(out).restore(args.get(0), args.get(1), raw, raw ? bs : 0);
    } catch (ImageOperationException e) {
      throw new PloopException(ImageVerb.exitCodeFor(e.kind()), e.getMessage(), e);
    }
    out.flush();
    return ExitCode.OK;
  }

  private static PloopException usage() {
    return new PloopException(
        ExitCode.PARAM,
        "Usage: ploop restore-descriptor [-f FORMAT]"
            + " [-b BLOCKSIZE] IMAGE_DIR BASE_DELTA\n       FORMAT := { raw | ploop1 }\n"
            + "       BLOCKSIZE := block size in sectors (for raw image format)\n"
            + "       *IMAGE_DIR := directory where to place DiskDescriptor.xml\n"
            + "       *BASE_DELTA := path to image file");
  }
}
