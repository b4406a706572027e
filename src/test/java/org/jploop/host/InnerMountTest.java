package org.jploop.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The mount(8) and fsck(8) command lines of {@code ploop mount -m [-t] [-o] [-F]}. */
class InnerMountTest {
  @Test
  void defaultMountsWithLazytimeAndProbesTheType() {
    assertThat(InnerMount.DEFAULT.mountCommand("/dev/loop3p1", "/mnt/x", false))
        .containsExactly("mount", "-o", "lazytime", "/dev/loop3p1", "/mnt/x");
    assertThat(InnerMount.DEFAULT.mountCommand("/dev/loop3", "/mnt/x", true))
        .containsExactly("mount", "-o", "lazytime,ro", "/dev/loop3", "/mnt/x");
  }

  @Test
  void typeAndOptionsAreAppended() {
    InnerMount m = new InnerMount("ext4", "noatime,nodev", true);
    assertThat(m.mountCommand("/dev/loop0", "/m", true))
        .containsExactly(
            "mount", "-t", "ext4", "-o", "lazytime,ro,noatime,nodev", "/dev/loop0", "/m");
    assertThat(m.fsckCommand("/dev/loop0", false))
        .containsExactly("fsck", "-t", "ext4", "-p", "-f", "/dev/loop0");
    assertThat(m.fsckCommand("/dev/loop0", true))
        .as("read-only: report, never repair")
        .containsExactly("fsck", "-t", "ext4", "-n", "-f", "/dev/loop0");
    assertThat(InnerMount.DEFAULT.fsckCommand("/dev/loop0", false))
        .containsExactly("fsck", "-p", "-f", "/dev/loop0");
  }

  @Test
  void optionInjectionIsRefused() {
    assertThatThrownBy(() -> new InnerMount("ext4 -o remount", null, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("filesystem type");
    assertThatThrownBy(() -> new InnerMount(null, "ro, exec", false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("mount options");
    assertThatThrownBy(() -> new InnerMount(null, "", false))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
