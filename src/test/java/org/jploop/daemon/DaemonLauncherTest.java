package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.jploop.format.ImageGeometry;
import org.jploop.format.descriptor.DiskDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tests for {@link DaemonLauncher}'s daemon JVM options. */
class DaemonLauncherTest {

  private static DiskDescriptor disk(long sizeSectors, int clusterSectors) {
    return DiskDescriptor.forNewImage(
        ImageGeometry.forSize(sizeSectors, clusterSectors), "root.hds", false);
  }

  @Test
  void testDaemonHeap_scalesWithClusterCount() {
    long oneTiB = 1L << 31; // sectors
    assertThat(DaemonLauncher.daemonHeapOptions(disk(oneTiB, 2048)))
        .containsExactly("-XX:+UseSerialGC", "-Xmx64m");
    assertThat(DaemonLauncher.daemonHeapOptions(disk(20971520, 2048))) // 10 GiB
        .containsExactly("-XX:+UseSerialGC", "-Xmx53m");
    // 1 TiB of 64 KiB clusters: 16 Mi clusters need their BAT in memory
    List<String> small = DaemonLauncher.daemonHeapOptions(disk(oneTiB, 128));
    assertThat(small).containsExactly("-XX:+UseSerialGC", "-Xmx241m");
  }

  @Test
  void testArchiveOptions_onlyForAnArchiveNotOlderThanTheJar(@TempDir Path dir) throws IOException {
    Path jar = Files.writeString(dir.resolve("jploop.jar"), "jar");
    Path jsa = dir.resolve("jploop.jsa");
    assertThat(DaemonLauncher.archiveOptions(jar)).as("no archive").isEmpty();
    Files.writeString(jsa, "archive");
    FileTime t = FileTime.fromMillis(1_700_000_000_000L);
    Files.setLastModifiedTime(jar, t);
    Files.setLastModifiedTime(jsa, t);
    assertThat(DaemonLauncher.archiveOptions(jar))
        .containsExactly(
            "-Xshare:auto",
            "-XX:SharedArchiveFile=" + jsa,
            "-Xlog:cds=off",
            "-Xlog:cds+dynamic=off");
    Files.setLastModifiedTime(jar, FileTime.fromMillis(t.toMillis() + 1000));
    assertThat(DaemonLauncher.archiveOptions(jar)).as("jar rebuilt after the archive").isEmpty();
  }
}
