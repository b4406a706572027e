package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.jploop.engine.VirtualDisk;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.image.ImageCreator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@link FilesystemProbe} finds on disks written through the engine. */
class FilesystemProbeTest {
  @TempDir Path dir;

  private Path disk() throws Exception {
    return ImageCreator.create(ImageCreator.Request.of(dir.resolve("root.hds"), 65536), b -> {})
        .descriptorFile();
  }

  private static void write(Path xml, long offset, byte[] bytes) throws Exception {
    try (VirtualDisk d = DiskOpener.open(xml, DiskDescriptor.read(xml), false)) {
      d.write(ByteBuffer.wrap(bytes), offset);
    }
  }

  /** Writes a GPT header in sector 1 and partition 1 starting at {@code start}. */
  private static void gpt(Path xml, long start) throws Exception {
    ByteBuffer h = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
    h.put("EFI PART".getBytes(StandardCharsets.US_ASCII)).putLong(72, 2);
    write(xml, 512, h.array());
    ByteBuffer e = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
    e.putLong(0, 0x4433b9e5ebd0a0a2L)
        .putLong(8, 0xc79926b7b668c087L)
        .putLong(32, start)
        .putLong(40, 65535);
    write(xml, 1024, e.array());
  }

  @Test
  void testProbe_noneExtXfs_withAndWithoutGpt() throws Exception {
    Path xml = disk();
    assertThat(FilesystemProbe.probe(xml).kind()).isEqualTo(FilesystemProbe.Kind.NONE);
    write(xml, 1080, new byte[] {0x53, (byte) 0xEF});
    assertThat(FilesystemProbe.probe(xml))
        .isEqualTo(new FilesystemProbe.Found(FilesystemProbe.Kind.EXT, 0, false));
    gpt(xml, 2048);
    assertThat(FilesystemProbe.probe(xml).kind())
        .as("the GPT moves the superblock")
        .isEqualTo(FilesystemProbe.Kind.NONE);
    write(xml, 2048 * 512, "XFSB".getBytes(StandardCharsets.US_ASCII));
    assertThat(FilesystemProbe.probe(xml))
        .isEqualTo(new FilesystemProbe.Found(FilesystemProbe.Kind.XFS, 2048, true));
  }
}
