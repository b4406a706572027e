package org.jploop.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServingProcessTest {
  @TempDir Path dir;

  @AfterEach
  void tearDown() {
    ServingProcess.clearForTest();
  }

  @Test
  void testMarkedProcess_refusesBalloonPunchAndFitrim_beforeTouchingAnything() throws Exception {
    Path img = Files.write(dir.resolve("disk.img"), new byte[1 << 20]);
    Files.createFile(dir.resolve(BalloonFile.NAME));
    try (ClusterPuncher p = new ClusterPuncher(img, 4096)) {
      assertThat(p.punched()).as("unmarked: allowed").isZero();
    }
    ServingProcess.mark();
    assertThat(ServingProcess.serving()).isTrue();
    assertThatThrownBy(() -> new ClusterPuncher(img, 4096))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("mount daemon itself");
    assertThatThrownBy(() -> BalloonFile.open(dir, BalloonFile.Lock.EXCLUSIVE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("balloon");
    assertThatThrownBy(() -> new TrimLadder(l -> {}).run(dir, 4096, 0, 0, () -> false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("FITRIM");
  }
}
