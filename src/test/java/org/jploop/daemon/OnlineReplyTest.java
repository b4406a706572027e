package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The texts the CLI reads from online resize and compact replies. */
class OnlineReplyTest {
  @Test
  void testResizeReplyLines_splitAfterTheSize() {
    assertThat(OnlineOperations.resizeReplyLines("1048576 Changing balloon size old_size=0"
        + " new_size=4096" + OnlineOperations.LINE + "TRUNCATED: 3 cluster-blocks (3145728 bytes)"))
        .containsExactly("Changing balloon size old_size=0 new_size=4096",
            "TRUNCATED: 3 cluster-blocks (3145728 bytes)");
    assertThat(OnlineOperations.resizeReplyLines("2097152 Resized to 2097152 sectors; xfs on /m"
        + " grown")).containsExactly("Resized to 2097152 sectors; xfs on /m grown");
    assertThat(OnlineOperations.resizeReplyLines("2097152")).isEmpty();
  }

  @Test
  void testTruncatedBytes_fromTheTopDeltaUsedEnd() {
    String reply = "/d/root.hds.{x}: moved 0 clusters, size 1048576 -> 1048576 bytes; /d/root.hds:"
        + " moved 5 clusters, size 140509184 -> 132120576 bytes";
    assertThat(OnlineOperations.truncatedBytes(reply, Path.of("/d/root.hds"), 150L << 20))
        .isEqualTo((150L << 20) - 132120576);
    assertThat(OnlineOperations.truncatedBytes(reply, Path.of("/d/other.hds"), 150L << 20))
        .isZero();
    assertThat(OnlineOperations.truncatedBytes(reply, Path.of("/d/root.hds"), 1 << 20))
        .as("never negative").isZero();
  }
}
