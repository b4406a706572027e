/**
 * The {@code ploop} command line: one picocli class per verb, registered in {@code Commands}.
 *
 * <p>{@link org.jploop.cli.PloopCli#newCommandLine} builds the tree; a verb does its work through
 * the lower packages and reports failure by throwing: {@link org.jploop.cli.PloopException} carries
 * ploop's exit code ({@link org.jploop.cli.ExitCode}), other exceptions are mapped by type. The
 * user sees one line on stderr; stack traces only with {@code -v/--verbose}.
 */
package org.jploop.cli;
