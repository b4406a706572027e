package org.jploop.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jploop.daemon.MountStatus;
import org.jploop.format.BadExtensionException;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.image.CbtOperations;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import org.jploop.io.CbtStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop cbt} (the {@code ploop-cbt} tool of ploop 9, tools/ploop-cbt.c): {@code show},
 * {@code dump} and {@code drop} of a disk's changed-block-tracking bitmap, offline. A bitmap is
 * read from the top delta's Format Extension; {@code show} prints it in ploop's format, {@code dump
 * --src A --dst B} copies A's into B, {@code drop} removes the top's. On a mounted disk they act on
 * the live bitmap in the mount daemon ({@link OnlineCbtClient}): {@code show} prints it (none: exit
 * 44, no output, as ploop), {@code dump --dst FILE} writes it into a new empty delta, {@code drop}
 * stops it. Errors: a bad or not cleanly closed extension exits 13 ({@code SYSEXIT_PROTOCOL}) with
 * ploop's message and the file named.
 */
@Command(
    name = "cbt",
    description = "Changed-block tracking (ploop-cbt): show, dump, drop.",
    subcommands = {CbtCommand.Show.class, CbtCommand.Dump.class, CbtCommand.Drop.class})
final class CbtCommand implements Callable<Integer> {
  static final String USAGE = "Usage: ploop-cbt { dump | drop | show } DiskDescriptor.xml";
  static final String USAGE_DUMP =
      "Usage: ploop-cbt dump --dst <to> DiskDescriptor.xml\n" + "\t\tdump --src <from> --dst <to>";

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getErr().println(USAGE);
    return ExitCode.PARAM;
  }

  /** ploop's {@code is_xml_fname}. */
  static boolean isXml(Path p) {
    return p != null && p.getFileName() != null && p.getFileName().toString().endsWith(".xml");
  }

  /** The mount of {@code xml} whose daemon answers, if any: the CBT is then the daemon's. */
  static Optional<MountStatus> mounted(Path xml) throws IOException {
    return MountStatus.forDescriptor(xml.toAbsolutePath()).filter(MountStatus::daemonAlive);
  }

  /** Locks the disk of {@code xml} for {@code purpose}; a mounted (locked) disk is refused. */
  static OfflineDisk lock(Path xml, String purpose) throws IOException {
    try {
      return OfflineDisk.open(xml, purpose);
    } catch (ImageOperationException e) {
      if (e.kind() == ImageOperationException.Kind.BUSY) {
        throw new PloopException(ExitCode.EBUSY, e.getMessage(), e);
      }
      throw e;
    }
  }

  /** Runs an offline CBT step, turning a bad extension into ploop's exit code 13. */
  static <T> T protocol(IoCall<T> call) throws IOException {
    try {
      return call.run();
    } catch (BadExtensionException e) {
      throw new PloopException(ExitCode.PROTOCOL, e.getMessage(), e);
    } catch (ImageOperationException e) {
      throw new PloopException(ImageVerb.exitCodeFor(e.kind()), e.getMessage(), e);
    }
  }

  /** An I/O step with a result. */
  @FunctionalInterface
  interface IoCall<T> {
    T run() throws IOException;
  }

  /**
   * Prints {@code s} as ploop's {@code dump_cbt_from_raw}: the four header lines, then for every
   * non-zero L1 entry {@code <i>\t} followed by {@code 1} (all dirty) or a hex dump of the piece,
   * 16 words a line, each line led by ploop's "offset" {@code i + 4 * word} ({@code %.8lx}). jploop
   * sizes a piece by the image's cluster (ploop assumes 1 MiB) and prints a last partial word
   * (ploop drops it).
   */
  static void print(PrintWriter out, CbtStore.Stored s) {
    DirtyBitmap b = s.bitmap();
    StringBuilder sb = new StringBuilder();
    sb.append("Size: ").append(b.sizeSectors()).append('\n');
    sb.append("L1Size: ").append(s.l1().length).append('\n');
    sb.append("uuid: ").append(b.id()).append('\n');
    sb.append("Granularity: ").append(b.granularitySectors()).append('\n');
    long wordsPerPiece = s.clusterBytes() / 8;
    for (int i = 0; i < s.l1().length; i++) {
      long entry = s.l1()[i];
      if (entry == 0) {
        continue;
      }
      sb.append('<').append(i).append(">\t");
      if (entry == 1) {
        sb.append("1\n");
        continue;
      }
      long words = (b.pieceBytes(i, s.clusterBytes()) + 7L) / 8;
      for (long j = 0; j < words; j++) {
        if (j % 16 == 0) {
          sb.append('\n').append(String.format(Locale.ROOT, "%08x", i + j * 4));
        }
        sb.append(' ').append(Long.toHexString(b.word(i * wordsPerPiece + j)));
      }
      sb.append('\n');
    }
    out.print(sb);
    out.flush();
  }

  /** {@code show DiskDescriptor.xml | show IMAGE | show --image IMAGE}. */
  @Command(name = "show", description = "Print the CBT of a disk's top delta or of an image.")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--image", paramLabel = "IMAGE", description = "Read this image file.")
    Path image;

    @Parameters(index = "0", arity = "0..1", paramLabel = "DiskDescriptor.xml|IMAGE")
    Path target;

    @Override
    public Integer call() throws IOException {
      CbtStore.Stored s;
      Optional<MountStatus> online = isXml(target) ? mounted(target) : Optional.empty();
      if (online.isPresent()) {
        DirtyBitmap b = OnlineCbtClient.get(online.get());
        if (b == null) {
          return ExitCode.NOCBT; // ploop's online show: exit 44, no output
        }
        s = OnlineCbtClient.stored(b, DiskDescriptor.read(target).blocksize() * 512L);
      } else if (isXml(target)) {
        try (OfflineDisk disk = lock(target, "cbt show")) {
          Path top = CbtOperations.topImage(disk);
          s = top == null ? null : protocol(() -> CbtOperations.read(top));
        }
      } else {
        Path p = image != null ? image : target;
        if (p == null) {
          spec.commandLine().getErr().println(USAGE);
          return ExitCode.PARAM;
        }
        s = protocol(() -> CbtOperations.read(p));
      }
      if (s != null) {
        print(spec.commandLine().getOut(), s);
      }
      return ExitCode.OK;
    }
  }

  /** {@code dump --dst FILE DiskDescriptor.xml} and {@code dump --src A --dst B}. */
  @Command(name = "dump", description = "Copy a CBT into another image (--src A --dst B).")
  static final class Dump implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--src", paramLabel = "FROM", description = "Image whose CBT is copied.")
    Path src;

    @Option(names = "--dst", paramLabel = "TO", description = "Image that receives it.")
    Path dst;

    @Parameters(index = "0", arity = "0..1", paramLabel = "DiskDescriptor.xml")
    Path xml;

    @Override
    public Integer call() throws IOException {
      PrintWriter out = spec.commandLine().getOut();
      if (xml == null && src != null && dst != null) {
        protocol(() -> CbtOperations.move(src, dst, out));
        out.flush();
        return ExitCode.OK;
      }
      if (!isXml(xml) || dst == null) {
        spec.commandLine().getErr().println(USAGE_DUMP);
        return ExitCode.PARAM;
      }
      if (Files.exists(dst)) {
        throw new PloopException(ExitCode.CREAT, "Can't create " + dst + ": File exists");
      }
      Optional<MountStatus> online = mounted(xml);
      if (online.isPresent()) {
        DirtyBitmap b = OnlineCbtClient.get(online.get());
        DiskDescriptor d = DiskDescriptor.read(xml);
        out.println("Dump CBT to " + dst);
        OnlineCbtClient.dumpInto(dst, d, b);
        out.flush();
        return ExitCode.OK;
      }
      try (OfflineDisk disk = lock(xml, "cbt dump")) {
        // ploop dumps the kernel's bitmap of a mounted disk; unmounted there is nothing to dump
        throw new PloopException(ExitCode.DEV_NOT_MOUNTED, "Image is not mounted");
      }
    }
  }

  /** {@code drop DiskDescriptor.xml}: removes the CBT of the disk's top delta. */
  @Command(name = "drop", description = "Remove the CBT of a disk's top delta.")
  static final class Drop implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "DiskDescriptor.xml")
    Path xml;

    @Override
    public Integer call() throws IOException {
      if (!isXml(xml)) {
        spec.commandLine().getErr().println(USAGE);
        return ExitCode.PARAM;
      }
      PrintWriter out = spec.commandLine().getOut();
      Optional<MountStatus> online = mounted(xml);
      if (online.isPresent()) {
        out.println(
            "Drop CBT dev="
                + (online.get().loopDevice() != null
                    ? online.get().loopDevice()
                    : online.get().diskImage()));
        out.flush();
        String r = OnlineCbtClient.ask(online.get(), "cbt-drop");
        return r.equals("dropped") ? ExitCode.OK : ExitCode.NOCBT;
      }
      try (OfflineDisk disk = lock(xml, "cbt drop")) {
        protocol(() -> CbtOperations.drop(disk, out));
      }
      out.flush();
      return ExitCode.OK;
    }
  }
}
