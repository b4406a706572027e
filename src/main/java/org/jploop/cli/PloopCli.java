package org.jploop.cli;

/** Placeholder entry point; replaced by the picocli command tree. */
public final class PloopCli {
  private PloopCli() {}

  public static void main(String[] args) {
    System.exit(38);
  }
}
