package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.ImageWriter;
import org.jploop.testing.Qemu;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DescriptorRestorer} ({@code ploop restore-descriptor}): the descriptor is the one {@code
 * ploop init} writes for the same image (ploop 1.15 runs: 100 MiB at 512 KiB clusters gives
 * 400/16/32; a 96 KiB raw file gives blocksize 64), and ploop's refusals.
 */
class DescriptorRestorerTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final DescriptorRestorer restorer = new DescriptorRestorer(new PrintWriter(out, true));

  @Test
  void testPloop1_sizeClusterVersionFromHeader_sameAsInit() throws Exception {
    Qemu.create(dir.resolve("root.hds"), 100L << 20, 512 << 10);
    Path xml = restorer.restore(dir, dir.resolve("root.hds"), false, 0);
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(
            new long[] {d.diskSizeSectors(), d.blocksize(), d.cylinders(), d.heads(), d.sectors()})
        .containsExactly(204800, 1024, 400, 16, 32);
    assertThat(Files.readString(xml))
        .isEqualTo(
            DiskDescriptor.forNewImage(ImageGeometry.forSize(204800, 1024), "root.hds", false)
                .toXml());
    assertThat(out.toString())
        .isEqualTo(
            "Opening delta "
                + dir.resolve("root.hds")
                + "\n"
                + "Adding snapshot {5fbaabe3-6958-40ff-92a7-860e329aab41}\nStoring "
                + xml
                + "\n");
    assertThatThrownBy(() -> restorer.restore(dir, dir.resolve("root.hds"), false, 0))
        .isInstanceOf(ImageOperationException.class)
        .hasMessage("Can't create " + xml + ": File exists")
        .satisfies(
            e ->
                assertThat(((ImageOperationException) e).kind())
                    .isEqualTo(ImageOperationException.Kind.BUSY));
  }

  @Test
  void testPloop1_dirtyV1InSubdirectory() throws Exception {
    Files.createDirectory(dir.resolve("sub"));
    Path img = dir.resolve("sub/old.hdd");
    ImageWriter.createEmpty(
        img,
        ImageHeader.create(FormatVersion.V1, ImageGeometry.forSize(4096, 2048))
            .withDiskInUse(ImageHeader.IN_USE));
    Path xml = restorer.restore(dir, img, false, 0);
    assertThat(DiskDescriptor.read(xml).images().get(0).file()).isEqualTo("sub/old.hdd");
  }

  @Test
  void testRaw_bestBlocksizeOrGiven() throws Exception {
    Files.write(dir.resolve("x.raw"), new byte[96 << 10]);
    Path xml = restorer.restore(dir, dir.resolve("x.raw"), true, 0);
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.raw()).isTrue();
    assertThat(d.blocksize()).isEqualTo(64);
    assertThat(d.diskSizeSectors()).isEqualTo(192);
    Files.delete(xml);
    Files.write(dir.resolve("y.raw"), new byte[256 << 10]);
    assertThat(
            DiskDescriptor.read(restorer.restore(dir, dir.resolve("y.raw"), true, 128)).blocksize())
        .as("-b, although 512 would divide the size too")
        .isEqualTo(128);
    Files.delete(xml);
    assertThatThrownBy(() -> restorer.restore(dir, dir.resolve("x.raw"), true, 2048))
        .hasMessage("Image size must be aligned to the blocksize specified");
    assertThatThrownBy(() -> restorer.restore(dir, dir.resolve("x.raw"), true, 96))
        .hasMessage("Incorrect blocksize specified: 96");
    Files.write(dir.resolve("odd.raw"), new byte[20000]);
    assertThatThrownBy(() -> restorer.restore(dir, dir.resolve("odd.raw"), true, 0))
        .hasMessage("Image size must be aligned to 32K");
    assertThat(xml).doesNotExist();
  }

  @Test
  void testRefusals_missingImageOutsideDirNotPloop() throws Exception {
    assertThatThrownBy(() -> restorer.restore(dir, dir.resolve("none.hds"), false, 0))
        .hasMessage("open " + dir.resolve("none.hds") + ": No such file or directory")
        .satisfies(
            e ->
                assertThat(((ImageOperationException) e).kind())
                    .isEqualTo(ImageOperationException.Kind.OPEN));
    Path other = Files.createDirectory(dir.resolve("other"));
    Qemu.create(dir.resolve("root.hds"), 1 << 20, 1 << 20);
    assertThatThrownBy(() -> restorer.restore(other, dir.resolve("root.hds"), false, 0))
        .hasMessageContaining("is not inside " + other.toRealPath());
    Files.writeString(dir.resolve("text.hds"), "x".repeat(100));
    assertThatThrownBy(() -> restorer.restore(dir, dir.resolve("text.hds"), false, 0))
        .hasMessageContaining("Wrong signature");
    assertThat(dir.resolve(DiskDescriptor.FILE_NAME)).doesNotExist();
    assertThat(other.resolve(DiskDescriptor.FILE_NAME)).doesNotExist();
  }
}
