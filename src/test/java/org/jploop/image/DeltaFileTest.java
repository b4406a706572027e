package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jploop.image.TestDisks.CLUSTER_BYTES;
import static org.jploop.image.TestDisks.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jploop.format.CorruptImageException;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tests for {@link DeltaFile}'s BAT validation (operations must refuse a damaged BAT, naming file
 * and offset, and change nothing) and for {@link Progress}'s output format.
 */
class DeltaFileTest {
  @RegisterExtension final Seed seed = new Seed();
  @TempDir Path dir;

  private static void poke(Path img, long clu, long raw) throws Exception {
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) raw);
      ch.write(b, ImageGeometry.batEntryOffset(clu));
    }
  }

  @Test
  void open_refusesEntryBeyondEof() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    TestDisks.writeRandom(xml, new byte[256 * CLUSTER_BYTES], seed.random(), 10);
    Path img = dir.resolve("root.hds");
    poke(img, 200, 5000);
    assertThatThrownBy(() -> DeltaFile.open(img, true))
        .isInstanceOf(CorruptImageException.class)
        .hasMessageContaining(img.toString())
        .hasMessageContaining(Long.toString(ImageGeometry.batEntryOffset(200)))
        .hasMessageContaining("beyond EOF");
    byte[] before = Files.readAllBytes(img);
    TestDisks.CliResult r = cli("compact", xml.toString());
    assertThat(r.exitCode()).isEqualTo(11);
    assertThat(r.err().lines().count()).isEqualTo(1);
    assertThat(Files.readAllBytes(img)).isEqualTo(before);
  }

  @Test
  void open_refusesDuplicateReferences() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V2);
    TestDisks.writeRandom(xml, new byte[256 * CLUSTER_BYTES], seed.random(), 10);
    Path img = dir.resolve("root.hds");
    DeltaFile d = DeltaFile.open(img, true);
    long someMapped = -1;
    for (long c = 0; c < 256 && someMapped < 0; c++) {
      if (d.physicalOf(c) != 0) {
        someMapped = c;
      }
    }
    long phys = d.physicalOf(someMapped);
    d.close();
    long unmapped = someMapped == 0 ? 255 : 0;
    poke(img, unmapped, phys);
    assertThatThrownBy(() -> DeltaFile.open(img, true))
        .isInstanceOf(CorruptImageException.class)
        .hasMessageContaining("used more than once");
    poke(img, unmapped, 0);
    try (DeltaFile again = DeltaFile.open(img, true)) {
      assertThat(again.physicalOf(someMapped)).isEqualTo(phys);
    }
  }

  @Test
  void open_refusesMisalignedV1Entry() throws Exception {
    Path xml = TestDisks.newDisk(dir, 256, FormatVersion.V1);
    TestDisks.writeRandom(xml, new byte[256 * CLUSTER_BYTES], seed.random(), 10);
    Path img = dir.resolve("root.hds");
    poke(img, 100, TestDisks.CLUSTER_SECTORS * 2L + 7);
    assertThatThrownBy(() -> DeltaFile.open(img, true))
        .isInstanceOf(CorruptImageException.class)
        .hasMessageContaining("L2 slot (100) corrupted");
  }

  @Test
  void progress_printsCarriageReturnLines() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Progress p = Progress.to(new PrintStream(bytes, true, StandardCharsets.UTF_8), "Merging");
    p.start(4);
    p.advance(1);
    p.advance(1);
    p.advance(2);
    p.finish();
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "\rMerging: 0/4 clusters (0%)\rMerging: 1/4 clusters (25%)"
                + "\rMerging: 2/4 clusters (50%)\rMerging: 4/4 clusters (100%)"
                + System.lineSeparator());
  }
}
