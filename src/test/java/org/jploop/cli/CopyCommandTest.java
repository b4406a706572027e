package org.jploop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.jploop.engine.EngineOptions;
import org.jploop.engine.PloopDisk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ploop copy} in-process: usage errors, and the copy of an unmounted disk to a file. */
class CopyCommandTest {
  @TempDir Path dir;

  @Test
  void neitherSourceNorDestinationIsAParamError() {
    Cli.Run r = Cli.ploop("copy");
    assertThat(r.exitCode()).isEqualTo(ExitCode.PARAM);
    assertThat(r.err()).contains("Either -s or -d is required");
  }

  @Test
  void copiesAnUnmountedDiskIntoAPloopImage() throws Exception {
    Cli.ok("init", "-s", "64M", "-t", "none", dir.resolve("root.hds").toString());
    long seed = System.nanoTime();
    Random r = new Random(seed);
    byte[][] data = new byte[5][];
    long[] at = {0, 3 << 20, (17L << 20) + 4096, 40L << 20, (64L << 20) - 8192};
    try (PloopDisk d =
        PloopDisk.openPaths(List.of(dir.resolve("root.hds")), EngineOptions.defaults())) {
      for (int i = 0; i < at.length; i++) {
        data[i] = new byte[8192];
        r.nextBytes(data[i]);
        d.write(ByteBuffer.wrap(data[i]), at[i]);
      }
    }
    Path copy = dir.resolve("copy.hdd");
    Cli.Run run =
        Cli.ok("copy", "-s", dir.resolve("DiskDescriptor.xml").toString(), "-d", copy.toString());
    assertThat(run.out()).contains("first pass: 5 clusters", "Copy done: 5 clusters");
    try (PloopDisk c =
        PloopDisk.openPaths(List.of(copy), EngineOptions.defaults().readOnly(true))) {
      assertThat(c.size()).isEqualTo(64L << 20);
      for (int i = 0; i < at.length; i++) {
        ByteBuffer b = ByteBuffer.allocate(8192);
        c.read(b, at[i]);
        assertThat(b.array()).as("seed %d, block at %d", seed, at[i]).isEqualTo(data[i]);
      }
    }
    Cli.Run again =
        Cli.ploop(
            "copy", "-s", dir.resolve("DiskDescriptor.xml").toString(), "-d", copy.toString());
    assertThat(again.exitCode()).isEqualTo(ExitCode.CREAT);
    assertThat(again.err()).contains("Can't open " + copy + ": File exists");
    assertThat(Files.exists(copy)).isTrue();
  }

  @Test
  void theCopyCarriesTheTopsCbt() throws Exception {
    Cli.ok("init", "-s", "64M", "-t", "none", dir.resolve("root.hds").toString());
    Path xml = dir.resolve("DiskDescriptor.xml");
    Cli.ok("snapshot", "-b", "0123abcd-0000-4000-8000-00000000beef", xml.toString());
    org.jploop.format.descriptor.DiskDescriptor d =
        org.jploop.format.descriptor.DiskDescriptor.read(xml);
    Path top = d.fileOf(xml, d.image(d.topGuid()));
    try (PloopDisk disk =
        PloopDisk.openPaths(List.of(dir.resolve("root.hds"), top), EngineOptions.defaults())) {
      disk.write(ByteBuffer.wrap(new byte[4096]), 5L << 20);
      disk.write(ByteBuffer.wrap(new byte[65536 * 3]), 33L << 20);
    }
    String source = Cli.ok("cbt", "show", xml.toString()).out();
    assertThat(source).contains("uuid: 0123abcd-0000-4000-8000-00000000beef");
    Path copy = dir.resolve("copy.hdd");
    Cli.Run run = Cli.ok("copy", "-s", xml.toString(), "-d", copy.toString());
    assertThat(run.out()).contains("CBT 0123abcd-0000-4000-8000-00000000beef: 4 dirty blocks");
    assertThat(Cli.ok("cbt", "show", copy.toString()).out()).isEqualTo(source);
  }
}
