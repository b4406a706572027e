package org.jploop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Tests for {@link Commands}' registration of only the verb a command line names: each verb alone
 * has the same usage text, options and sub-verbs as within the full tree, and a missing or unknown
 * verb gets every verb.
 */
class CommandsTest {

  private static CommandLine build(String... args) {
    PrintWriter sink = new PrintWriter(new StringWriter());
    return args == null
        ? PloopCli.newCommandLine(sink, sink)
        : PloopCli.newCommandLine(sink, sink, args);
  }

  @Test
  void testEachVerbAlone_sameModelAsInTheFullTree() {
    Map<String, CommandLine> full = build((String[]) null).getSubcommands();
    assertThat(full.keySet()).containsExactlyElementsOf(Commands.verbNames());
    for (String verb : Commands.verbNames()) {
      Map<String, CommandLine> alone = build("-v", verb, "x").getSubcommands();
      assertThat(alone.keySet()).as(verb).containsExactly(verb);
      CommandLine a = alone.get(verb);
      CommandLine f = full.get(verb);
      assertThat(a.getUsageMessage()).as(verb).isEqualTo(f.getUsageMessage());
      assertThat(a.getSubcommands().keySet())
          .as(verb)
          .containsExactlyElementsOf(f.getSubcommands().keySet());
      assertThat(a.getCommandSpec().optionsMap().keySet())
          .as(verb)
          .containsExactlyInAnyOrderElementsOf(f.getCommandSpec().optionsMap().keySet());
    }
  }

  @Test
  void testNoOrUnknownVerb_everyVerbRegistered() {
    assertThat(build().getSubcommands().keySet()).containsExactlyElementsOf(Commands.verbNames());
    assertThat(build("--help").getSubcommands()).hasSize(Commands.verbNames().size());
    assertThat(build("frobnicate").getSubcommands()).hasSize(Commands.verbNames().size());
  }

  @Test
  void testVerbAlone_parseErrorsAsInTheFullTree() {
    StringWriter lazyErr = new StringWriter();
    StringWriter fullErr = new StringWriter();
    String[] args = {"info", "--no-such-option", "x.xml"};
    int lazy =
        PloopCli.newCommandLine(
                new PrintWriter(new StringWriter()), new PrintWriter(lazyErr, true), args)
            .execute(args);
    int full =
        PloopCli.newCommandLine(new PrintWriter(new StringWriter()), new PrintWriter(fullErr, true))
            .execute(args);
    assertThat(lazy).isEqualTo(full).isEqualTo(ExitCode.PARAM);
    assertThat(lazyErr.toString()).isEqualTo(fullErr.toString()).contains("--no-such-option");
  }

  @Test
  void testVerbOf_firstNonOption() {
    assertThat(Commands.verbOf(new String[] {"-v", "mount", "-m", "/mnt", "x"})).isEqualTo("mount");
    assertThat(Commands.verbOf(new String[] {"--verbose"})).isNull();
    assertThat(Commands.verbOf(new String[0])).isNull();
  }
}
