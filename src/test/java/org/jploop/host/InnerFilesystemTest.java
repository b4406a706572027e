package org.jploop.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Parsing what the e2fsprogs tools print. */
class InnerFilesystemTest {
  @Test
  void testDumpe2fs_blockCountSizeAndFree() throws Exception {
    String out =
        "Filesystem volume name:   <none>\n"
            + "Block count:              130560\n"
            + "Reserved block count:     6528\n"
            + "Overhead clusters:        13577\n"
            + "Free blocks:              116911\n"
            + "Block size:               4096\n";
    InnerFilesystem.Geometry g = InnerFilesystem.parseDumpe2fs(out, "/dev/loop0p1");
    assertThat(g.blockCount()).isEqualTo(130560);
    assertThat(g.blockSize()).isEqualTo(4096);
    assertThat(g.freeBlocks()).isEqualTo(116911);
    assertThat(g.sectors()).isEqualTo(130560L * 8);
    assertThatThrownBy(() -> InnerFilesystem.parseDumpe2fs("Block size: 4096\n", "/dev/x"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("/dev/x");
  }

  @Test
  void testType() {
    assertThat(new InnerFilesystem("/dev/x", "ext4").ext()).isTrue();
    assertThat(new InnerFilesystem("/dev/x", "xfs").xfs()).isTrue();
    assertThat(new InnerFilesystem("/dev/x", "").ext()).isFalse();
  }
}
