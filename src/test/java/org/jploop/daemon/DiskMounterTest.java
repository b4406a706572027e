package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.jploop.format.ImageGeometry;
import org.jploop.format.descriptor.DiskDescriptor;
import org.junit.jupiter.api.Test;

/** Tests for {@link DiskMounter}'s daemon JVM options. */
class DiskMounterTest {

  private static DiskDescriptor disk(long sizeSectors, int clusterSectors) {
    return DiskDescriptor.forNewImage(ImageGeometry.forSize(sizeSectors, clusterSectors),
        "root.hds", false);
  }

  @Test
  void testDaemonHeap_scalesWithClusterCount() {
    long oneTiB = 1L << 31; // sectors
    assertThat(DiskMounter.daemonHeapOptions(disk(oneTiB, 2048)))
        .containsExactly("-XX:+UseSerialGC", "-Xmx64m");
    assertThat(DiskMounter.daemonHeapOptions(disk(20971520, 2048))) // 10 GiB
        .containsExactly("-XX:+UseSerialGC", "-Xmx53m");
    // 1 TiB of 64 KiB clusters: 16 Mi clusters need their BAT in memory
    List<String> small = DiskMounter.daemonHeapOptions(disk(oneTiB, 128));
    assertThat(small).containsExactly("-XX:+UseSerialGC", "-Xmx241m");
  }
}
