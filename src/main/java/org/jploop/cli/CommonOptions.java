package org.jploop.cli;

import picocli.CommandLine.Option;

/**
 * The options every verb has, added to each one as a picocli mixin by {@link Commands#register}:
 * {@code -h/--help} prints the verb's usage and exits 0, {@code --verbose} adds stack traces to
 * error messages. Written once by picocli while parsing; read by the error handler.
 */
final class CommonOptions {
  /** Name of the mixin in every verb's command spec. */
  static final String MIXIN = "common";

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help and exit.")
  boolean help;

  @Option(names = "--verbose", description = "Print stack traces with errors.")
  boolean verbose;
}
