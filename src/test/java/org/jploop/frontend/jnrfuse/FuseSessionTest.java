package org.jploop.frontend.jnrfuse;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.jploop.host.MountException;
import org.junit.jupiter.api.Test;

/** Tests for {@link FuseSession}'s pre-flight check: each missing piece gets its own message. */
class FuseSessionTest {
  @Test
  void testCheckAvailable_missingDevice() {
    assertThatThrownBy(
            () -> FuseSession.checkAvailable(Path.of("/dev/no-such-fuse"), "libfuse.so.2"))
        .isInstanceOf(MountException.class)
        .hasMessageContaining("/dev/no-such-fuse is missing")
        .satisfies(
            e ->
                org.assertj.core.api.Assertions.assertThat(((MountException) e).reason())
                    .isEqualTo(MountException.Reason.NO_FUSE));
  }

  @Test
  void testCheckAvailable_missingLibrary() {
    assertThatThrownBy(
            () -> FuseSession.checkAvailable(Path.of("/dev/null"), "libno-such-fuse.so.2"))
        .isInstanceOf(MountException.class)
        .hasMessageContaining("libfuse2 is not installed");
  }

  @Test
  void testCheckAvailable_here() {
    assertThatCode(() -> FuseSession.checkAvailable(Path.of("/dev/null"), "libfuse.so.2"))
        .doesNotThrowAnyException();
  }
}
