package org.jploop.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ploop device names as links to loop devices, in a private /dev ({@code jploop.dev.dir}). */
class DeviceNameTest {
  @TempDir Path dev;

  @BeforeEach
  void privateDev() {
    System.setProperty("jploop.dev.dir", dev.toString());
  }

  @AfterEach
  void realDev() {
    System.clearProperty("jploop.dev.dir");
  }

  @Test
  void testParse_ploopAndMapperNames_partitionStripped() {
    DeviceName d = new DeviceName("/dev/ploop0");
    assertThat(d.name()).isEqualTo("ploop0");
    assertThat(d.minor()).isZero();
    assertThat(d.partition()).isEqualTo("/dev/ploop0p1");
    assertThat(new DeviceName("/dev/mapper/ploop12345").partition())
        .isEqualTo("/dev/mapper/ploop12345p1");
    assertThat(DeviceName.parseDevice("/dev/ploop7p1")).isEqualTo(new DeviceName("/dev/ploop7"));
    assertThat(DeviceName.parseDevice("/dev/mapper/ploop1001p1").name()).isEqualTo("ploop1001");
    for (String bad :
        new String[] {
          "/dev/loop0",
          "ploop0",
          "/dev/ploop",
          "/dev/ploopx",
          "/dev/ploop0p1",
          "/dev/../etc/ploop1",
          "/dev/mapper/ploop1/../x"
        }) {
      assertThatThrownBy(() -> new DeviceName(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(bad);
    }
  }

  @Test
  void testLink_namesFoundByLoop_takenNameRefused_unlinkRemovesOnlyOurs() throws Exception {
    LoopDevice loop = new LoopDevice("/dev/loop42");
    DeviceName d = new DeviceName("/dev/ploop3");
    d.link(loop, "/dev/loop42p1");
    assertThat(Files.readSymbolicLink(dev.resolve("ploop3"))).isEqualTo(Path.of("/dev/loop42"));
    assertThat(Files.readSymbolicLink(dev.resolve("ploop3p1"))).isEqualTo(Path.of("/dev/loop42p1"));
    assertThat(d.loop()).contains(loop);
    assertThat(DeviceName.of(loop)).containsExactly(d);
    assertThat(DeviceName.of(new LoopDevice("/dev/loop43"))).isEmpty();

    MountException taken =
        org.junit.jupiter.api.Assertions.assertThrows(
            MountException.class, () -> d.link(new LoopDevice("/dev/loop43"), null));
    assertThat(taken.reason()).isEqualTo(MountException.Reason.DEVICE);
    assertThat(taken.getMessage()).contains("/dev/ploop3", "File exists", "/dev/loop42");

    Files.createSymbolicLink(dev.resolve("ploop9"), Path.of("/dev/sda")); // not ours
    DeviceName free = DeviceName.linkFree(loop, null);
    assertThat(free.path()).startsWith("/dev/mapper/ploop");
    assertThat(free.minor()).isBetween(1000, 1000 + 0xffff);
    assertThat(DeviceName.of(loop)).containsExactlyInAnyOrder(d, free);

    assertThat(DeviceName.unlinkAll(loop)).containsExactlyInAnyOrder(d, free);
    assertThat(dev.resolve("ploop3")).doesNotExist();
    assertThat(dev.resolve("ploop3p1")).doesNotExist();
    assertThat(Files.isSymbolicLink(dev.resolve("ploop9"))).as("a name not ours stays").isTrue();
    assertThat(new DeviceName("/dev/ploop9").loop()).as("not a loop device").isEmpty();
  }
}
