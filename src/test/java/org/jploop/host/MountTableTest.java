package org.jploop.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Tests for {@link MountTable}'s mountinfo parsing. */
class MountTableTest {
  @Test
  void testParse_fuseAndEscapedPaths() {
    List<MountTable.Entry> e =
        MountTable.parse(
            List.of(
                "36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
                "120 29 0:52 / /run/jploop/abc/fuse rw,nosuid,nodev,relatime shared:300 - fuse.jploop jploop"
                    + " rw,user_id=0,group_id=0",
                "121 29 7:1 / /tmp/m rw,relatime - ext4 /dev/loop0p1 rw"));
    assertThat(e)
        .containsExactly(
            new MountTable.Entry("/mnt/with space", "ext3", "/dev/root"),
            new MountTable.Entry("/run/jploop/abc/fuse", "fuse.jploop", "jploop"),
            new MountTable.Entry("/tmp/m", "ext4", "/dev/loop0p1"));
  }

  @Test
  void testParse_noOptionalFields() {
    assertThat(MountTable.parse(List.of("1 2 3:4 / /x rw - tmpfs tmpfs rw")))
        .containsExactly(new MountTable.Entry("/x", "tmpfs", "tmpfs"));
  }

  @Test
  void testUnescape_backslashAtEnd() {
    assertThat(MountTable.unescape("a\\")).isEqualTo("a\\");
    assertThat(MountTable.unescape("a\\134b")).isEqualTo("a\\b");
  }
}
