package org.jploop.cli;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jploop.copy.CopyException;
import org.jploop.copy.CopyReceiver;
import org.jploop.copy.CopySender;
import org.jploop.daemon.MountStatus;
import org.jploop.host.RunPaths;
import org.jploop.io.InheritedFd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ploop copy}: {@code -s DEVICE|DiskDescriptor.xml [-F STOPCMD] {-d FILE | -o OFD}} sends a
 * disk (mounted: live, through its mount daemon; unmounted: from the files), {@code -d FILE [-i
 * IFD]} receives ploop 9's stream into FILE. A descriptor that is a socket carries the stream and
 * the replies both ways, as in ploop 9 ({@link InheritedFd}: read and written by number). Pipes,
 * FIFOs and files are reached through {@code /proc/self/fd}, and the replies travel the other way
 * on the other standard descriptor (the receiver answers on stdout, the sender reads answers on
 * stdin), so messages go to stderr. Failures print one line and exit with {@link
 * CopyException#exitCode()}.
 */
@Command(name = "copy", description = "Copy a (mounted) disk: send a live copy, or receive one.")
final class CopyCommand implements Callable<Integer> {
  static final String USAGE =
      "Usage: ploop copy -s DEVICE|DiskDescriptor.xml [-F STOPCMD]"
          + " { [-d FILE] | [-o OFD] }\n       ploop copy -d FILE [-i IFD]";

  @Spec CommandSpec spec;

  @Option(names = "-s", paramLabel = "DEVICE")
  String source;

  @Option(names = "-d", paramLabel = "FILE")
  Path file;

  @Option(names = "-o", paramLabel = "OFD")
  Integer ofd;

  @Option(names = "-i", paramLabel = "IFD")
  Integer ifd;

  @Option(names = "-F", paramLabel = "STOPCMD")
  String stopCommand;

  @Override
  public Integer call() throws IOException {
    if (source == null && file == null) {
      throw new PloopException(ExitCode.PARAM, "Either -s or -d is required\n" + USAGE);
    }
    try {
      if (source == null) {
        return receive();
      }
      return send();
    } catch (CopyException e) {
      throw new PloopException(e.exitCode(), e.getMessage(), e);
    } catch (org.jploop.image.ImageOperationException e) {
      throw new PloopException(ImageVerb.exitCodeFor(e.kind()), e.getMessage(), e);
    }
  }

  private int receive() throws IOException {
    int fd = ifd == null ? 0 : ifd;
    InputStream in;
    OutputStream replies;
    Optional<InheritedFd> socket = socket(fd);
    if (socket.isPresent()) {
      // a socket carries both ways, as ploop 9's receiver uses it: the replies go back on it
      in = socket.get().input();
      replies = socket.get().output();
    } else {
      in = (InputStream) open(fd, true);
      replies = new FileOutputStream(java.io.FileDescriptor.out);
    }
    long bytes = new CopyReceiver(file, in, replies).receive();
    spec.commandLine().getErr().println("Received " + bytes + " bytes into " + file);
    return ExitCode.OK;
  }

  private int send() throws IOException {
    if ((file == null) == (ofd == null)) {
      throw new PloopException(ExitCode.PARAM, "Give one of -d FILE and -o OFD\n" + USAGE);
    }
    Path xml = descriptorOf(source);
    PrintWriter log =
        ofd != null && ofd == 1 ? spec.commandLine().getErr() : spec.commandLine().getOut();
    Optional<InheritedFd> socket = ofd == null ? Optional.empty() : socket(ofd);
    CopySender.Target to;
    if (file != null) {
      to = CopySender.Target.file(file);
    } else if (socket.isPresent()) {
      // ploop 9 reads the receiver's replies from the socket it sends on
      to = CopySender.Target.stream(socket.get().input(), socket.get().output());
    } else {
      to =
          CopySender.Target.stream(
              new FileInputStream(java.io.FileDescriptor.in), (OutputStream) open(ofd, false));
    }
    Optional<MountStatus> st = MountStatus.forDescriptor(xml);
    if (st.isPresent() && MountStatus.READY.equals(st.get().state())) {
      log.println("Sending mounted disk " + xml + " (daemon pid " + st.get().pid() + ")");
      CopySender.sendMounted(
          RunPaths.of(xml).controlSocket(),
          Path.of(st.get().diskImage()),
          xml,
          to,
          stopCommand,
          log);
    } else {
      log.println("Sending unmounted disk " + xml);
      CopySender.sendOffline(xml, to, stopCommand, log);
    }
    return ExitCode.OK;
  }

  /** DiskDescriptor.xml as given, or the descriptor of the mount whose loop device is DEVICE. */
  private static Path descriptorOf(String s) throws IOException {
    if (s.endsWith(".xml")) {
      return Path.of(s).toAbsolutePath();
    }
    for (MountStatus m : MountStatus.all()) {
      if (s.equals(m.loopDevice())) {
        return Path.of(m.descriptor());
      }
    }
    throw new PloopException(ExitCode.DEV_NOT_MOUNTED, "Can't find a jploop disk on " + s);
  }

  /** Descriptor {@code fd} if it is a socket (Java cannot open one by number). */
  private static Optional<InheritedFd> socket(int fd) {
    return InheritedFd.of(fd).filter(InheritedFd::isSocket);
  }

  private static java.io.Closeable open(int fd, boolean input) throws IOException {
    Path p = Path.of("/proc/self/fd/" + fd);
    if (!Files.exists(p)) {
      throw new PloopException(
          ExitCode.PARAM,
          "Invalid "
              + (input ? "input" : "output")
              + " fd "
              + fd
              + ": must be a file, a pipe or a socket");
    }
    if (fd == 0 && input) {
      return new FileInputStream(java.io.FileDescriptor.in);
    }
    if (fd == 1 && !input) {
      return new FileOutputStream(java.io.FileDescriptor.out);
    }
    return input ? new FileInputStream(p.toFile()) : new FileOutputStream(p.toFile(), true);
  }
}
