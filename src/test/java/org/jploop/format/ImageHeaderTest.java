package org.jploop.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Tests for {@link ImageHeader}, {@link ImageGeometry} and {@link ChsGeometry} against the doc. */
class ImageHeaderTest {
  static final Path FILE = Path.of("root.hds");

  @Test
  void testEncode_init10G_matchesDocBytes() {
    byte[] expected = HexFormat.of().parseHex(hex10G());
    ImageHeader h = ImageHeader.create(FormatVersion.V2, ImageGeometry.forSize(20971520, 2048));
    assertThat(h.encode()).isEqualTo(expected);
  }

  /** §3.3 hexdump, line by line. */
  static String hex10G() {
    return ("5769 7468 6f75 4672 6553 7061 6345 7874"
            + "0200 0000 1000 0000 00a0 0000 0008 0000"
            + "0028 0000 0000 4001 0000 0000 0000 0000"
            + "0008 0000 0100 0000 0000 0000 0000 0000")
        .replace(" ", "");
  }

  @Test
  void testEncodeDecode_v1HighWordZero() throws CorruptImageException {
    ImageGeometry g = ImageGeometry.forSize(2097152, 2048);
    ImageHeader h = ImageHeader.create(FormatVersion.V1, g);
    byte[] b = h.encode();
    assertThat(new String(b, 0, 16, java.nio.charset.StandardCharsets.US_ASCII))
        .isEqualTo("WithoutFreeSpace");
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(bb.getInt(36)).isEqualTo(2097152);
    assertThat(bb.getInt(40)).isZero();
    assertThat(ImageHeader.decode(FILE, b, g.dataOffsetBytes())).isEqualTo(h);
  }

  @Test
  void testDecode_roundTripWithInUseAndExtension() throws CorruptImageException {
    ImageHeader h =
        ImageHeader.create(FormatVersion.V2, ImageGeometry.forSize(1L << 31, 2048))
            .withDiskInUse(ImageHeader.IN_USE)
            .withFlags(0)
            .withFormatExtensionOffset(12345);
    byte[] b = h.encode();
    assertThat(new String(b, 44, 4, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("Ynot");
    assertThat(ImageHeader.decode(FILE, b, 1L << 40)).isEqualTo(h);
  }

  @ParameterizedTest(name = "-s {0} sectors -> m_Size {1}, header clusters {2}, heads {4}, cyl {5}")
  @CsvSource({
    "2097152, 1024, 1, 2048, 16, 2080, 63",
    "20971520, 10240, 1, 2048, 16, 40960, 32",
    "209715200, 102400, 1, 2048, 16, 409600, 32",
    "536838144, 262128, 1, 2048, 16, 1048512, 32",
    "536870912, 262144, 2, 4096, 16, 1048576, 32",
    "2147483648, 1048576, 5, 10240, 16, 4194304, 32",
    "107374182400, 52428800, 201, 411648, 16, 209715200, 32"
  })
  void testGeometry_docTable(
      long size,
      long entries,
      long headerClusters,
      long fbo,
      long heads,
      long cylinders,
      long xmlSectors) {
    ImageGeometry g = ImageGeometry.forSize(size, 2048);
    assertThat(g.batEntries()).isEqualTo(entries);
    assertThat(g.headerClusters()).isEqualTo(headerClusters);
    assertThat(g.firstBlockOffsetSectors()).isEqualTo(fbo);
    ChsGeometry chs = ChsGeometry.of(size);
    assertThat(chs.heads()).isEqualTo(heads);
    assertThat(chs.cylinders()).isEqualTo(cylinders);
    assertThat(chs.descriptorSectors(size)).isEqualTo(xmlSectors);
  }

  /** Applies {@code breaker} to a valid 10G header and expects the error at {@code offset}. */
  private static void assertCorrupt(
      Consumer<ByteBuffer> breaker, long fileSize, int offset, String message) {
    byte[] b = ImageHeader.create(FormatVersion.V2, ImageGeometry.forSize(20971520, 2048)).encode();
    breaker.accept(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN));
    assertThatThrownBy(() -> ImageHeader.decode(FILE, b, fileSize))
        .isInstanceOf(CorruptImageException.class)
        .hasMessageStartingWith("root.hds: " + (offset >= 0 ? "offset " + offset + ": " : ""))
        .hasMessageContaining(message)
        .satisfies(e -> assertThat(((CorruptImageException) e).offset()).isEqualTo(offset));
  }

  @Test
  void testDecode_eachFieldBroken() {
    long mib = 1 << 20;
    assertCorrupt(b -> b.put(0, (byte) 'X'), mib, 0, "Wrong signature");
    assertCorrupt(b -> b.putInt(16, 1), mib, 16, "Wrong type in image: m_Type=1");
    assertCorrupt(b -> b.putInt(28, 1000), mib, 28, "Wrong cluster size 1000");
    assertCorrupt(b -> b.putInt(28, 32), mib, 28, "Wrong cluster size 32");
    assertCorrupt(b -> b.putInt(32, 10239), mib, 32, "BAT too short");
    assertCorrupt(b -> b.putInt(32, 10241), mib, 32, "BAT too long");
    assertCorrupt(b -> b.putLong(36, 0), mib, 36, "disk size is 0");
    assertCorrupt(b -> b.putInt(48, 2047), mib, 48, "Wrong first block offset 2047");
    assertCorrupt(b -> b.putInt(48, 0), mib, 48, "Wrong first block offset 0");
    assertCorrupt(b -> {}, mib - 512, 48, "file is truncated");
    assertCorrupt(b -> b.putInt(44, 0x12345678), mib, 44, "unknown m_DiskInUse value 0x12345678");
    assertCorrupt(b -> {}, 40, -1, "file too short for a ploop header (40 < 64 bytes)");
  }

  @Test
  void testDecode_v1HighWordMustBeZero() {
    byte[] b = ImageHeader.create(FormatVersion.V1, ImageGeometry.forSize(2097152, 2048)).encode();
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(40, 1);
    assertThatThrownBy(() -> ImageHeader.decode(FILE, b, 1 << 20))
        .hasMessage("root.hds: offset 40: v1 image has a non-zero high word of m_SizeInSectors: 1");
  }

  /**
   * Flag bits ploop does not know (byte 52) are accepted and kept, as ploop 1.15 ({@code check},
   * {@code info}) and qemu-img do; issue 15 found jploop refusing 0x04 with exit 11.
   */
  @Test
  void testDecode_unknownFlagBitsAcceptedAndKept() throws Exception {
    byte[] b = ImageHeader.create(FormatVersion.V2, ImageGeometry.forSize(20971520, 2048)).encode();
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(52, 0x05);
    ImageHeader h = ImageHeader.decode(FILE, b, 1 << 20);
    assertThat(h.flags()).isEqualTo(0x05);
    assertThat(h.encode()).isEqualTo(b);
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(52, 0xFFFFFFFC);
    assertThat(ImageHeader.decode(FILE, b, 1 << 20).flags()).isEqualTo(0xFFFFFFFCL);
  }
}
