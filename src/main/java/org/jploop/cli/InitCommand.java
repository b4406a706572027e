package org.jploop.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.LongConsumer;
import org.jploop.daemon.DiskMounter;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.host.EventLog;
import org.jploop.host.FilesystemMaker;
import org.jploop.image.ImageCreator;
import org.jploop.image.ImageFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop init -s SIZE [-b BLOCKSIZE] [-f FORMAT] [-v 1|2] [-t FSTYPE] [-S] DELTA}: creates
 * the image and DiskDescriptor.xml beside it ({@link ImageCreator}), then the filesystem unless
 * {@code -t none}. On a failure after the image exists, both files are removed again.
 */
@Command(name = "init", description = "Create a ploop image and its DiskDescriptor.xml.")
final class InitCommand implements Callable<Integer> {
  /** PLOOP_MAX_FS_SIZE: 50 TiB, the limit whenever a filesystem is created, in sectors. */
  static final long MAX_FS_SIZE_SECTORS = 50L << 31;

  @Spec CommandSpec spec;

  @Option(
      names = "-s",
      required = true,
      paramLabel = "SIZE",
      description = "Disk size: NUMBER[KMGT]; a plain number is in 512-byte sectors.")
  String size;

  @Option(
      names = "-b",
      paramLabel = "BLOCKSIZE",
      description = "Cluster size in sectors: a power of two in 64..131072 (default 2048 = 1 MiB).")
  String blocksize;

  @Option(
      names = "-f",
      paramLabel = "FORMAT",
      defaultValue = "ploop1",
      description = "Image format: ploop1 (= expanded), preallocated or raw.")
  String format;

  @Option(
      names = "-v",
      paramLabel = "VERSION",
      defaultValue = "2",
      description = "ploop1 format version: 1 (BAT in sectors) or 2 (BAT in clusters).")
  String version;

  @Option(
      names = "-t",
      paramLabel = "FSTYPE",
      defaultValue = "ext4",
      description = "Filesystem to create: ext4, ext3, xfs or none (default ext4).")
  String fstype;

  @Option(
      names = {"-S", "--sparse"},
      description = "Raw format: create a sparse file.")
  boolean sparse;

  @Option(
      names = "-k",
      paramLabel = "KEYID",
      description = "Encrypt with dm-crypt: refused, jploop has no dm-crypt support.")
  String keyId;

  @Parameters(index = "0", paramLabel = "DELTA", description = "The image file to create.")
  Path image;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    long sectors = SizeParser.parseSectors(size);
    int bs = parseBlocksize();
    FormatVersion v = parseVersion();
    ImageFormat f;
    try {
      f = ImageFormat.parse(format);
    } catch (IllegalArgumentException e) {
      throw new PloopException(ExitCode.PARAM, e.getMessage());
    }
    String fs = fstype.toLowerCase(Locale.ROOT);
    if (!fs.equals("none") && !fs.equals("ext4") && !fs.equals("ext3") && !fs.equals("xfs")) {
      throw new PloopException(
          ExitCode.PARAM, "Unknown filesystem type: " + fstype + " (use ext4, ext3, xfs or none)");
    }
    if (keyId != null) {
      throw Encryption.unavailable("init -k " + keyId);
    }
    long maxFs = MAX_FS_SIZE_SECTORS;
    if (!fs.equals("none") && ImageCreator.roundSize(sectors, bs, v) > maxFs) {
      throw new PloopException(
          ExitCode.PARAM,
          "An incorrect block device size is specified: "
              + sectors
              + " sectors. The maximum allowed size is "
              + maxFs
              + " sectors");
    }
    ImageCreator.Request req =
        ImageCreator.Request.of(image, sectors)
            .withClusterSectors(bs)
            .withVersion(v)
            .withFormat(f, sparse);
    Path xml = ImageCreator.descriptorFor(image);
    if (java.nio.file.Files.exists(xml)) {
      throw new PloopException(ExitCode.EBUSY, "Can't create " + xml + ": File exists");
    }
    out.printf(
        Locale.ROOT,
        "Creating delta %s bs=%d size=%d sectors v%d%n",
        image.toAbsolutePath(),
        bs,
        ImageCreator.roundSize(sectors, bs, v),
        v.number());
    ImageCreator.Created created;
    try {
      created = ImageCreator.create(req, progress(out));
    } catch (FileAlreadyExistsException e) {
      boolean descriptor = e.getFile().equals(xml.toString());
      throw new PloopException(
          descriptor ? ExitCode.EBUSY : ExitCode.PARAM,
          "Can't create " + e.getFile() + ": File exists",
          e);
    } catch (IllegalArgumentException e) {
      throw new PloopException(ExitCode.PARAM, e.getMessage(), e);
    }
    out.printf(Locale.ROOT, "Storing %s%n", created.descriptorFile());
    out.flush();
    if (!fs.equals("none")) {
      try {
        createFilesystem(created, fs);
      } catch (IOException | RuntimeException e) {
        ImageCreator.remove(created);
        throw e;
      }
    }
    return ExitCode.OK;
  }

  /**
   * Step 8 of ploop init: partition and mkfs the new disk through a temporary mount ({@link
   * FilesystemMaker}), which leaves the image closed cleanly.
   */
  void createFilesystem(ImageCreator.Created created, String fs) throws IOException {
    makeFilesystem(created, fs, null);
  }

  /** Partitions and formats a freshly created disk ({@code ploop init}, {@code volume create}). */
  static void makeFilesystem(ImageCreator.Created created, String fs, String label)
      throws IOException {
    EventLog quiet =
        new EventLog(
            new java.io.PrintStream(
                java.io.OutputStream.nullOutputStream(),
                false,
                java.nio.charset.StandardCharsets.UTF_8));
    DiskDescriptor d = created.descriptor();
    new DiskMounter(DiskMounter.ownJar(), quiet)
        .withDiskImage(
            created.descriptorFile(),
            img ->
                new FilesystemMaker(quiet)
                    .make(img, fs, d.diskSizeSectors(), d.blocksize(), label));
  }

  private int parseBlocksize() {
    if (blocksize == null) {
      return ImageGeometry.DEFAULT_CLUSTER_SECTORS;
    }
    try {
      long b = Long.parseLong(blocksize.trim());
      if (ImageGeometry.isValidClusterSectors(b)) {
        return (int) b;
      }
    } catch (NumberFormatException e) {
      // falls through to the message below
    }
    throw new PloopException(ExitCode.PARAM, "Incorrect blocksize specified: " + blocksize);
  }

  private FormatVersion parseVersion() {
    try {
      return FormatVersion.ofNumber(Integer.parseInt(version.trim()));
    } catch (IllegalArgumentException e) {
      throw new PloopException(ExitCode.PARAM, "Invalid -v argument: " + version);
    }
  }

  /** Percent progress for the zero-fill of raw images, only when stdout is a terminal. */
  // JDK 17: System.console() is null exactly when the JVM has no terminal; on JDK 22+ this needs
  // Console.isTerminal()
  @SuppressWarnings("SystemConsoleNull")
  private LongConsumer progress(PrintWriter out) {
    if (System.console() == null) {
      return bytes -> {};
    }
    long total =
        ImageCreator.roundSize(SizeParser.parseSectors(size), parseBlocksize(), FormatVersion.V2)
            * 512;
    int[] last = {-1};
    return bytes -> {
      int pct = (int) (bytes * 100 / Math.max(1, total));
      if (pct != last[0]) {
        last[0] = pct;
        out.printf(Locale.ROOT, "\rWriting zeros: %3d%%%s", pct, pct == 100 ? "\n" : "");
        out.flush();
      }
    };
  }
}
