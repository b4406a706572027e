package org.jploop.testing;

import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * Tries to connect to a Unix socket and prints {@code connected} or the error; exit 0 only if it
 * connected. JDK only, run as another user by the permission test ({@code setpriv ... java -cp
 * test-classes org.jploop.testing.SocketProbe PATH}).
 */
public final class SocketProbe {
  private SocketProbe() {}

  public static void main(String[] args) {
    try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(Path.of(args[0])))) {
      System.out.println("connected");
      System.exit(0);
    } catch (Exception e) {
      System.out.println("refused: " + e);
      System.exit(1);
    }
  }
}
