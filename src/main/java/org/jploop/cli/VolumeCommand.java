package org.jploop.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.image.ImageCreator;
import org.jploop.image.ImageFormat;
import org.jploop.image.ImageOperationException;
import org.jploop.image.Progress;
import org.jploop.volume.VolumeDelete;
import org.jploop.volume.VolumeLayout;
import org.jploop.volume.VolumeSnapshot;
import org.jploop.volume.VolumeSwitch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop volume ...}, also run as {@code ploop-volume ...} (a wrapper script beside {@code
 * ./ploop}): ploop 9's volume tool (tools/ploop-volume.c) over {@code org.jploop.volume}. Each
 * subcommand is a nested class; failures of the operations map to ploop's exit codes as in {@link
 * ImageVerb}. {@code info} and {@code tree} print json-c's pretty form (two-space indent, no blank
 * after the colon, {@code /} escaped).
 */
@Command(
    name = "volume",
    description =
        "ploop-volume: create, snapshot, clone, switch, delete,"
            + " info and tree of volume directories.",
    subcommands = {
      VolumeCommand.Create.class,
      VolumeCommand.Snapshot.class,
      VolumeCommand.Clone.class,
      VolumeCommand.Switch.class,
      VolumeCommand.Delete.class,
      VolumeCommand.Info.class,
      VolumeCommand.Tree.class
    })
final class VolumeCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new PloopException(
        ExitCode.PARAM, "Usage: ploop-volume {create|clone|snapshot|delete|switch} path");
  }

  /** Runs one volume operation, mapping its failure kinds to ploop's exit codes. */
  static Integer run(CommandSpec spec, VolumeOp op) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    try {
      op.run(out);
    } catch (ImageOperationException e) {
      throw new PloopException(ImageVerb.exitCodeFor(e.kind()), e.getMessage(), e);
    } finally {
      out.flush();
    }
    return ExitCode.OK;
  }

  /** One operation, writing its log lines to {@code out}. */
  interface VolumeOp {
    void run(PrintWriter out) throws Exception;
  }

  /** {@code create -s SIZE [--image PATH] [-b BS] [-f FMT] [-t ext4|ext3|none] [-L LABEL] VOL}. */
  @Command(
      name = "create",
      description =
          "Create a volume: VOL/DiskDescriptor.xml, VOL/children"
              + " and the image (VOL/image.hds or --image).")
  static final class Create implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = {"-s", "--size"},
        required = true,
        paramLabel = "SIZE",
        description = "Disk size: NUMBER[KMGT]; a plain number is in sectors.")
    String size;

    @Option(names = "--image", paramLabel = "PATH", description = "The image file to create.")
    Path image;

    @Option(names = "-b", paramLabel = "BLOCKSIZE", description = "Cluster size in sectors.")
    String blocksize;

    @Option(
        names = "-f",
        paramLabel = "FORMAT",
        defaultValue = "ploop1",
        description = "ploop1 (expanded), preallocated or raw.")
    String format;

    @Option(
        names = "-t",
        paramLabel = "FSTYPE",
        defaultValue = "ext4",
        description = "ext4 (default), ext3 or none.")
    String fstype;

    @Option(names = "-L", paramLabel = "LABEL", description = "Filesystem label.")
    String label;

    @Option(names = "-k", paramLabel = "KEYID", description = "Refused: no dm-crypt support.")
    String keyId;

    @Parameters(index = "0", paramLabel = "VOL")
    Path vol;

    @Override
    public Integer call() throws Exception {
      String fs = fstype.toLowerCase(Locale.ROOT);
      if (!List.of("ext4", "ext3", "none").contains(fs)) {
        throw new PloopException(ExitCode.PARAM, "Incorrect file system type specified: " + fstype);
      }
      if (keyId != null) {
        throw Encryption.unavailable("volume create -k " + keyId);
      }
      long sectors = SizeParser.parseSectors(size);
      int bs = ImageGeometry.DEFAULT_CLUSTER_SECTORS;
      if (blocksize != null) {
        try {
          bs = Integer.decode(blocksize);
        } catch (NumberFormatException e) {
          throw new PloopException(
              ExitCode.PARAM, "Usage: ploop-volume create -s SIZE" + " [--image <path>] <VOL>");
        }
      }
      ImageFormat f;
      try {
        f = ImageFormat.parse(format);
      } catch (IllegalArgumentException e) {
        throw new PloopException(ExitCode.PARAM, e.getMessage());
      }
      int clusterSectors = bs;
      return run(
          spec,
          out -> {
            VolumeLayout layout = VolumeLayout.of(vol);
            boolean existed = Files.exists(layout.xml());
            layout.create(out);
            Path img = image != null ? image : layout.dir().resolve("image.hds");
            ImageCreator.Request req =
                ImageCreator.Request.of(img, sectors)
                    .withClusterSectors(clusterSectors)
                    .withVersion(FormatVersion.V2)
                    .withFormat(f, false);
            ImageCreator.Created created;
            try {
              if (existed) {
                throw new PloopException(
                    ExitCode.EBUSY, "Can't create " + layout.xml() + ": File exists");
              }
              out.printf(
                  Locale.ROOT,
                  "Creating delta %s bs=%d size=%d sectors v2%n",
                  img.toAbsolutePath(),
                  clusterSectors,
                  ImageCreator.roundSize(sectors, clusterSectors, FormatVersion.V2));
              created = ImageCreator.createVolume(req, layout.dir(), bytes -> {});
              out.println("Storing " + created.descriptorFile());
              if (!fs.equals("none")) {
                try {
                  InitCommand.makeFilesystem(created, fs, label);
                } catch (IOException | RuntimeException e) {
                  ImageCreator.remove(created);
                  throw e;
                }
              }
            } catch (IOException | RuntimeException e) {
              if (!existed) {
                layout.destroy(out);
              }
              if (e instanceof IllegalArgumentException) {
                throw new PloopException(ExitCode.PARAM, e.getMessage(), e);
              }
              if (e instanceof java.nio.file.FileAlreadyExistsException fe) {
                throw new PloopException(
                    ExitCode.PARAM, "Can't create " + fe.getFile() + ": File exists", e);
              }
              throw e;
            }
          });
    }
  }

  /** {@code snapshot SRC DST}. */
  @Command(
      name = "snapshot",
      description = "Make DST a read-only snapshot of SRC; SRC goes on" + " on a new delta.")
  static final class Snapshot implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SRC")
    Path src;

    @Parameters(index = "1", paramLabel = "DST")
    Path dst;

    @Override
    public Integer call() throws Exception {
      return run(
          spec,
          out -> new VolumeSnapshot(out).snapshot(VolumeLayout.of(src), VolumeLayout.of(dst)));
    }
  }

  /** {@code clone SRC DST [--image DIR]}. */
  @Command(name = "clone", description = "Make DST a new read-write volume on SRC's content.")
  static final class Clone implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--image", paramLabel = "DIR", description = "Directory for DST's delta.")
    Path imageDir;

    @Parameters(index = "0", paramLabel = "SRC")
    Path src;

    @Parameters(index = "1", paramLabel = "DST")
    Path dst;

    @Override
    public Integer call() throws Exception {
      return run(
          spec,
          out ->
              new VolumeSnapshot(out).clone(VolumeLayout.of(src), VolumeLayout.of(dst), imageDir));
    }
  }

  /** {@code switch FROM TO}. */
  @Command(name = "switch", description = "Make the read-write volume FROM a clone of TO.")
  static final class Switch implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FROM")
    Path from;

    @Parameters(index = "1", paramLabel = "TO")
    Path to;

    @Override
    public Integer call() throws Exception {
      return run(
          spec, out -> new VolumeSwitch(out).switchTo(VolumeLayout.of(from), VolumeLayout.of(to)));
    }
  }

  /** {@code delete VOL}. */
  @Command(
      name = "delete",
      description =
          "Delete a volume (a snapshot with one child is merged"
              + " into it; with more children it is refused).")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "VOL")
    Path vol;

    @Override
    public Integer call() throws Exception {
      return run(
          spec,
          out ->
              new VolumeDelete(out, Progress.onTerminal("Merging")).delete(VolumeLayout.of(vol)));
    }
  }

  /** {@code info VOL}: the size in bytes of the top delta file. */
  @Command(name = "info", description = "Print {\"size\": bytes of the top delta file}.")
  static final class Info implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "VOL")
    Path vol;

    @Override
    public Integer call() throws Exception {
      return run(
          spec,
          out -> {
            Path xml = VolumeLayout.of(vol).xml();
            DiskDescriptor d = DiskDescriptor.read(xml);
            long size = Files.size(d.fileOf(xml, d.image(d.topGuid())));
            out.println("{\n  \"size\":" + size + "\n}");
          });
    }
  }

  /** {@code tree VOL}: the volume and its child volumes. */
  @Command(name = "tree", description = "Print {\"path\": VOL, \"children\": [{\"path\": ...}]}.")
  static final class Tree implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "VOL")
    Path vol;

    @Override
    public Integer call() throws Exception {
      return run(
          spec,
          out -> {
            VolumeLayout l = VolumeLayout.of(vol);
            DiskDescriptor.read(l.xml());
            StringBuilder sb =
                new StringBuilder("{\n  \"path\":")
                    .append(jsonString(vol.toString()))
                    .append(",\n  \"children\":[");
            List<Path> children = l.children();
            for (int i = 0; i < children.size(); i++) {
              sb.append(i == 0 ? "\n" : ",\n")
                  .append("    {\n      \"path\":")
                  .append(jsonString(children.get(i).toString()))
                  .append("\n    }");
            }
            sb.append("\n  ]\n}");
            out.println(sb);
          });
    }
  }

  /** A JSON string as json-c writes it: quotes, backslashes, controls and {@code /} escaped. */
  static String jsonString(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '/' -> sb.append("\\/");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
