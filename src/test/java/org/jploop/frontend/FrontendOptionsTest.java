package org.jploop.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.jploop.host.EventLog;
import org.junit.jupiter.api.Test;

/** Tests for {@link FrontendOptions}: defaults, refusals, daemon arguments, the factory. */
class FrontendOptionsTest {
  @Test
  void testDefaults() {
    assertThat(FrontendOptions.of(null, null)).isEqualTo(FrontendOptions.DEFAULT);
    assertThat(FrontendOptions.DEFAULT.name()).isEqualTo("kernel");
    assertThat(FrontendOptions.of("jnr-fuse", null).workers()).isEqualTo(1);
    assertThat(FrontendOptions.of("kernel", 4).daemonArgs())
        .containsExactly("--frontend", "kernel", "--fuse-threads", "4");
    assertThat(FrontendOptions.of("jnr-fuse", null).daemonArgs())
        .containsExactly("--frontend", "jnr-fuse");
  }

  @Test
  void testRefusals_sayWhatIsWrong() {
    assertThatThrownBy(() -> FrontendOptions.of("fuse3", null))
        .hasMessageContaining("Unknown front end 'fuse3'")
        .hasMessageContaining("kernel, jnr-fuse");
    assertThatThrownBy(() -> FrontendOptions.of("jnr-fuse", 4))
        .hasMessageContaining("kernel front end only");
    assertThatThrownBy(() -> FrontendOptions.of("kernel", 0)).hasMessageContaining("1..256");
    assertThatThrownBy(() -> FrontendOptions.of("kernel", 257)).hasMessageContaining("1..256");
  }

  @Test
  void testCreate_namesMatch() {
    EventLog log =
        new EventLog(
            new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8));
    for (String n : FrontendOptions.NAMES) {
      Frontend f = FrontendOptions.of(n, null).create(log);
      assertThat(f.name()).isEqualTo(n);
      assertThat(f.stats().name()).isEqualTo(n);
    }
  }
}
