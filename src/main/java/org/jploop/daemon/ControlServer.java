package org.jploop.daemon;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jploop.host.EventLog;
import org.jploop.host.MountException;
import org.jploop.image.ImageOperationException;

/**
 * The daemon's control channel: a Unix domain socket (mode 0600) that takes one request line per
 * connection, {@code <verb> [key=value ...]}, and answers one line, {@code ok [text]} or {@code
 * error [REASON] <text>} (REASON: a {@link MountException.Reason} or {@link
 * ImageOperationException.Kind} name). Verbs are registered as {@link Handler}s, so online
 * snapshot, resize or merge can be added later without touching the transport. Connections are
 * served one at a time on the thread "control"; handlers run on it.
 */
public final class ControlServer implements AutoCloseable {

  /** Serves one verb. */
  @FunctionalInterface
  public interface Handler {
    /** Returns the reply text after "ok", or throws to answer "error message". */
    String handle(Map<String, String> args) throws Exception;
  }

  private final Path socket;
  private final ServerSocketChannel server;
  private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
  private final EventLog log;
  private final Thread thread;
  private volatile boolean closed;

  /** Set by a handler via {@link #afterReply}; run once its reply is written. Control thread. */
  private Runnable afterReply;

  private ControlServer(Path socket, ServerSocketChannel server, EventLog log) {
    this.socket = socket;
    this.server = server;
    this.log = log;
    this.thread = new Thread(this::serve, "control");
    this.thread.setDaemon(true);
  }

  /** Binds {@code socket} (replacing a stale one) with mode 0600; call {@link #start} next. */
  public static ControlServer bind(Path socket, EventLog log) throws IOException {
    Files.deleteIfExists(socket);
    ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    ch.bind(UnixDomainSocketAddress.of(socket));
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    return new ControlServer(socket, ch, log);
  }

  /** Registers {@code verb}. */
  public ControlServer on(String verb, Handler handler) {
    handlers.put(verb, handler);
    return this;
  }

  /** Starts serving. */
  public void start() {
    thread.start();
  }

  private void serve() {
    while (!closed) {
      try (SocketChannel c = server.accept()) {
        String request = readLine(c);
        String reply = dispatch(request);
        c.write(ByteBuffer.wrap((reply + "\n").getBytes(StandardCharsets.UTF_8)));
      } catch (IOException e) {
        if (!closed) {
          log.error("control connection failed", e);
        }
      }
      Runnable r = afterReply;
      afterReply = null;
      if (r != null) {
        r.run();
      }
    }
  }

  /** From inside a handler: runs {@code action} after the reply has been sent (e.g. exit). */
  public void afterReply(Runnable action) {
    afterReply = action;
  }

  String dispatch(String request) {
    String[] words = request.strip().split("\\s+");
    Handler h = handlers.get(words[0]);
    if (h == null) {
      return "error unknown control verb '" + words[0] + "'";
    }
    Map<String, String> args = new java.util.LinkedHashMap<>();
    for (int i = 1; i < words.length; i++) {
      int eq = words[i].indexOf('=');
      if (eq > 0) {
        args.put(words[i].substring(0, eq), words[i].substring(eq + 1));
      }
    }
    try {
      String r = h.handle(args);
      return r == null || r.isEmpty() ? "ok" : "ok " + r;
    } catch (Exception e) {
      log.error("control " + words[0] + " failed", e);
      String reason =
          e instanceof MountException me
              ? me.reason().name() + " "
              : e instanceof ImageOperationException ie ? ie.kind().name() + " " : "";
      return "error "
          + reason
          + (e.getMessage() == null ? e.toString() : e.getMessage()).replace('\n', ' ');
    }
  }

  static String readLine(SocketChannel c) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
    while (b.hasRemaining()) {
      if (c.read(b) < 0) {
        break;
      }
      int end = b.position();
      for (int i = 0; i < end; i++) {
        if (b.get(i) == '\n') {
          return new String(b.array(), 0, i, StandardCharsets.UTF_8);
        }
      }
    }
    return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
  }

  /** Sends {@code request} to the daemon at {@code socket} and returns its reply line. */
  public static String send(Path socket, String request) throws IOException {
    try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      c.connect(UnixDomainSocketAddress.of(socket));
      c.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
      return readLine(c).strip();
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    Files.deleteIfExists(socket);
  }
}
