package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.jploop.engine.VirtualDisk;
import org.jploop.format.CorruptImageException;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.image.ImageCreator;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check {@code ploop mount} runs on a delta a crash left dirty. */
class DirtyImageRepairTest {
  private static final int CLUSTER = 1 << 20;
  @TempDir Path dir;

  /** A 64 MiB disk with clusters 0 and 1 written, then its in-use flag set as a crash leaves it. */
  private Path dirtyDisk() throws Exception {
    Path xml =
        ImageCreator.create(ImageCreator.Request.of(dir.resolve("root.hds"), 131072), b -> {})
            .descriptorFile();
    try (VirtualDisk d = DiskOpener.open(xml, DiskDescriptor.read(xml), false)) {
      d.write(ByteBuffer.wrap(new byte[2 * CLUSTER]), 0);
      d.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0);
    }
    putInt(image(), ImageHeader.OFFSET_DISK_IN_USE, (int) ImageHeader.IN_USE);
    return xml;
  }

  private Path image() {
    return dir.resolve("root.hds");
  }

  private static void putInt(Path f, long offset, int v) throws Exception {
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, v), offset);
    }
  }

  private boolean inUse() throws Exception {
    try (FileBlockFile f = FileBlockFile.open(image(), true)) {
      return ImageReader.readHeader(f).inUse();
    }
  }

  @Test
  void testRepair_cleanDiskUntouched_dirtyOneRepairedAndReported() throws Exception {
    Path xml = dirtyDisk();
    long len = Files.size(image());
    try (FileChannel ch = FileChannel.open(image(), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(1), len + 3L * CLUSTER - 1); // a leaked tail, as after kill -9
    }
    List<String> report = new ArrayList<>();
    List<String> lines = DirtyImageRepair.repair(xml, null, report::add);
    assertThat(lines).isEqualTo(report);
    assertThat(lines.get(0)).contains(image().toString(), "not closed cleanly");
    assertThat(String.join("\n", lines)).contains("after the last used cluster", "Fixed");
    assertThat(inUse()).isFalse();
    assertThat(Files.size(image())).isEqualTo(len);
    byte[] before = Files.readAllBytes(image());
    assertThat(DirtyImageRepair.repair(xml, null, l -> {})).as("clean: nothing to say").isEmpty();
    assertThat(Files.readAllBytes(image())).isEqualTo(before);
  }

  @Test
  void testRepair_clusterUsedTwice_refusedAndNothingChanged() throws Exception {
    Path xml = dirtyDisk();
    long slot1 = ImageGeometry.batEntryOffset(1);
    int phys0;
    try (FileBlockFile f = FileBlockFile.open(image(), true)) {
      phys0 = ImageReader.readBatSlots(f, ImageReader.readHeader(f))[0];
    }
    putInt(image(), slot1, phys0);
    byte[] before = Files.readAllBytes(image());
    List<String> report = new ArrayList<>();
    CorruptImageException e =
        assertThrows(
            CorruptImageException.class, () -> DirtyImageRepair.repair(xml, null, report::add));
    assertThat(e.getMessage())
        .startsWith(image() + ": Fatal errors were found")
        .contains("used more than once", "not repaired");
    assertThat(String.join("\n", report)).contains("Block " + phys0 + " is used more than once");
    assertThat(Files.readAllBytes(image())).as("refused: the image is as it was").isEqualTo(before);
  }
}
