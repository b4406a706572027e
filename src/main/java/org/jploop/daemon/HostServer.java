package org.jploop.daemon;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.jploop.host.EventLog;
import org.jploop.io.SuppressForbidden;

/**
 * The host daemon's control socket ({@code host.sock} in the run root, mode 0600): one request line
 * per connection, {@code <verb> [key=value ...]} with every value percent-encoded (paths may hold
 * blanks), answered by one line, {@code ok [text]} or {@code error <text>}. Unlike a disk's {@link
 * ControlServer}, each connection is served on a thread of its own ("host-request-N"), so a disk
 * whose start hangs on a stuck backing file never holds up the mount of another. A peer whose user
 * (SO_PEERCRED) is neither root nor the daemon's own is refused. The accept loop runs on
 * "host-control"; handlers must be thread-safe.
 */
final class HostServer implements AutoCloseable {
  private final Path socket;
  private final ServerSocketChannel server;
  private final Function<Map<String, String>, String> handler;
  private final EventLog log;
  private final Thread thread;
  private final AtomicLong requests = new AtomicLong();
  private volatile boolean closed;

  private HostServer(
      Path socket,
      ServerSocketChannel server,
      Function<Map<String, String>, String> handler,
      EventLog log) {
    this.socket = socket;
    this.server = server;
    this.handler = handler;
    this.log = log;
    this.thread = new Thread(this::serve, "host-control");
    this.thread.setDaemon(true);
  }

  /**
   * Binds {@code socket} (replacing a stale one; the caller holds the host lock) with mode 0600;
   * {@code handler} gets the verb under the key {@code ""} and the decoded arguments, and returns
   * the whole reply line. Call {@link #start} next.
   */
  static HostServer bind(Path socket, Function<Map<String, String>, String> handler, EventLog log)
      throws IOException {
    Files.deleteIfExists(socket);
    ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    Path tmp = socket.resolveSibling(socket.getFileName() + ".new");
    Files.deleteIfExists(tmp);
    // bound under another name and renamed once private: no moment at which another user could
    // connect to a socket with the umask's mode
    ch.bind(UnixDomainSocketAddress.of(tmp));
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    Files.move(tmp, socket, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return new HostServer(socket, ch, handler, log);
  }

  /** Starts accepting. */
  void start() {
    thread.start();
  }

  private void serve() {
    while (!closed) {
      SocketChannel c;
      try {
        c = server.accept();
      } catch (IOException e) {
        if (!closed) {
          log.error("host control socket failed", e);
        }
        return;
      }
      Thread t = new Thread(() -> answer(c), "host-request-" + requests.incrementAndGet());
      t.setDaemon(true);
      t.start();
    }
  }

  private void answer(SocketChannel c) {
    try (c) {
      String reply;
      if (!allowed(c)) {
        reply = "error permission denied: the host daemon takes requests from root only";
      } else {
        reply = handler.apply(parse(ControlServer.readLine(c)));
      }
      c.write(ByteBuffer.wrap((reply.replace('\n', ' ') + "\n").getBytes(StandardCharsets.UTF_8)));
    } catch (IOException | RuntimeException e) {
      log.error("host request failed", e);
    }
  }

  /** Whether the peer runs as root or as the daemon's own user. */
  @SuppressForbidden(
      "SO_PEERCRED is in the JDK's jdk.net module only; without it (not Linux) the"
          + " 0600 socket alone keeps other users out")
  private static boolean allowed(SocketChannel c) throws IOException {
    UnixDomainPrincipal p;
    try {
      p = c.getOption(ExtendedSocketOptions.SO_PEERCRED);
    } catch (UnsupportedOperationException e) {
      return true; // the 0600 socket alone keeps others out
    }
    String user = p.user().getName();
    return user.equals("root") || user.equals(System.getProperty("user.name"));
  }

  /** Splits a request line: the verb under {@code ""}, then each decoded key=value. */
  static Map<String, String> parse(String line) {
    Map<String, String> m = new LinkedHashMap<>();
    String[] words = line.strip().split("\\s+");
    m.put("", words[0]);
    for (int i = 1; i < words.length; i++) {
      int eq = words[i].indexOf('=');
      if (eq > 0) {
        m.put(
            words[i].substring(0, eq),
            URLDecoder.decode(words[i].substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return m;
  }

  /** Builds a request line that {@link #parse} reads back: null values are left out. */
  static String request(String verb, Map<String, String> args) {
    StringBuilder b = new StringBuilder(verb);
    args.forEach(
        (k, v) -> {
          if (v != null) {
            b.append(' ')
                .append(k)
                .append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8));
          }
        });
    return b.toString();
  }

  /** Sends {@code request} to the host daemon at {@code socket}; returns its reply line. */
  static String send(Path socket, String request) throws IOException {
    try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      c.connect(UnixDomainSocketAddress.of(socket));
      c.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
      return ControlServer.readLine(c).strip();
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    Files.deleteIfExists(socket);
  }
}
