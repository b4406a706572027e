package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The texts of a resize's last line and of the daemon's compact reply. */
class OnlineReplyTest {
  @Test
  void testResizeSummary_diskOrFilesystemLine() {
    assertThat(new OfflineResizer.Result(2097152, 2088960, true, "xfs on /m grown").summary())
        .isEqualTo("Resized to 2097152 sectors; xfs on /m grown");
    assertThat(new OfflineResizer.Result(262144, -1, true).summary())
        .isEqualTo("Resized to 262144 sectors");
    assertThat(new OfflineResizer.Result(1048576, 516096, false).summary())
        .isEqualTo("Resized the filesystem to 516096 sectors; the disk keeps 1048576 sectors");
  }

  @Test
  void testTruncatedBytes_fromTheTopDeltaUsedEnd() {
    String reply =
        "/d/root.hds.{x}: moved 0 clusters, size 1048576 -> 1048576 bytes; /d/root.hds:"
            + " moved 5 clusters, size 140509184 -> 132120576 bytes";
    assertThat(OnlineOperations.truncatedBytes(reply, Path.of("/d/root.hds"), 150L << 20))
        .isEqualTo((150L << 20) - 132120576);
    assertThat(OnlineOperations.truncatedBytes(reply, Path.of("/d/other.hds"), 150L << 20))
        .isZero();
    assertThat(OnlineOperations.truncatedBytes(reply, Path.of("/d/root.hds"), 1 << 20))
        .as("never negative")
        .isZero();
  }
}
