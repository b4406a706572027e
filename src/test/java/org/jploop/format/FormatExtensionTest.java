package org.jploop.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The extension cluster against bytes written down by hand from include/ploop1_image.h. */
class FormatExtensionTest {
  static final Path FILE = Path.of("root.hds");
  static final UUID ID = UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  static final int MIB = 1 << 20;

  /** 10 GiB, 1 MiB clusters, one piece at sector 0x5000: the example of image-format.md §7. */
  static byte[] handWritten() throws Exception {
    byte[] c = new byte[MIB];
    int[] head = {
      0x87, 0xEA, 0xDC, 0x23, 0xEF, 0x4C, 0x23, 0xAB, // magic 0xAB234CEF23DCEA87
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // md5, filled below
      0x4A, 0xB3, 0x2C, 0x25, 0xAE, 0x5F, 0x38, 0x20, // feature magic 0x20385FAE252CB34A
      0, 0, 0, 0, 0, 0, 0, 0, // flags
      40, 0, 0, 0, 0, 0, 0, 0, // data size 32 + 8 * 1, unused
      0x00, 0x00, 0x40, 0x01, 0, 0, 0, 0, // m_Size 20971520 sectors
      0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, // m_Id in textual order
      0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8, 128, 0, 0, 0, // m_Granularity
      1, 0, 0, 0, // m_L1Size
      0x00, 0x50, 0, 0, 0, 0, 0, 0, // L1[0] = sector 0x5000
    };
    for (int i = 0; i < head.length; i++) {
      c[i] = (byte) head[i];
    }
    byte[] md5 = MessageDigest.getInstance("MD5").digest(Arrays.copyOfRange(c, 24, MIB));
    System.arraycopy(md5, 0, c, 8, 16);
    return c;
  }

  @Test
  void testEncode_matchesHandWrittenBytes() throws Exception {
    byte[] ours =
        FormatExtension.encode(
            new FormatExtension.BitmapFeature(ID, 20_971_520, 128, new long[] {0x5000}), MIB);
    byte[] want = handWritten();
    assertThat(Arrays.mismatch(ours, want)).as("first differing byte").isEqualTo(-1);
    assertThat(FormatExtension.L1_OFFSET).isEqualTo(80);
  }

  @Test
  void testDecode_handWrittenBytes() throws Exception {
    FormatExtension.BitmapFeature f = FormatExtension.decode(FILE, 0, handWritten(), 20_971_520);
    assertThat(f.id()).isEqualTo(ID);
    assertThat(f.sizeSectors()).isEqualTo(20_971_520);
    assertThat(f.granularitySectors()).isEqualTo(128);
    assertThat(f.l1()).containsExactly(0x5000);
  }

  @Test
  void testDecode_ploopEmptyCbt_l1SizeZero() throws Exception {
    byte[] c =
        FormatExtension.encode(
            new FormatExtension.BitmapFeature(ID, 2048, 128, new long[0]), 65536);
    FormatExtension.BitmapFeature f = FormatExtension.decode(FILE, 0, c, 2048);
    assertThat(f.l1()).isEmpty();
    assertThat(ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).getInt(40)).isEqualTo(32);
  }

  @Test
  void testDecode_noBitmapFeature_isNull() throws Exception {
    byte[] c = new byte[65536];
    ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putLong(0, FormatExtension.MAGIC);
    reseal(c);
    assertThat(FormatExtension.decode(FILE, 0, c, 2048)).isNull();
  }

  @Test
  void testDecode_unknownFeatureSkipped() throws Exception {
    byte[] c =
        FormatExtension.encode(
            new FormatExtension.BitmapFeature(ID, 2048, 128, new long[] {1}), 65536);
    // put an unknown 8-byte feature in front of the bitmap feature
    byte[] moved = new byte[65536];
    System.arraycopy(c, 0, moved, 0, 24);
    ByteBuffer b = ByteBuffer.wrap(moved).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(24, 0x1234L);
    b.putInt(40, 8);
    System.arraycopy(c, 24, moved, 56, 64);
    reseal(moved);
    assertThat(FormatExtension.decode(FILE, 0, moved, 2048).l1()).containsExactly(1);
  }

  @Test
  void testDecode_refusals_withPloopMessages() throws Exception {
    byte[] good = handWritten();
    byte[] magic = good.clone();
    magic[0] ^= 1;
    assertThatThrownBy(() -> FormatExtension.decode(FILE, 4096, magic, 20_971_520))
        .isInstanceOf(BadExtensionException.class)
        .hasMessage("root.hds: offset 4096: Wrong optional header magic");
    byte[] sum = good.clone();
    sum[MIB - 1] = 1; // the zero tail is covered by the MD5 too
    assertThatThrownBy(() -> FormatExtension.decode(FILE, 4096, sum, 20_971_520))
        .hasMessage("root.hds: offset 4104: Wrong optional header checksum");
    assertThatThrownBy(() -> FormatExtension.decode(FILE, 0, good, 20_971_521))
        .hasMessageContaining("Image size is not equal to dirty_bitmap size");
    byte[] spoiled = good.clone();
    ByteBuffer.wrap(spoiled).order(ByteOrder.LITTLE_ENDIAN).putInt(40, MIB);
    reseal(spoiled);
    assertThatThrownBy(() -> FormatExtension.decode(FILE, 0, spoiled, 20_971_520))
        .hasMessageContaining("Spoiled optional header");
    byte[] shortData = good.clone();
    ByteBuffer.wrap(shortData).order(ByteOrder.LITTLE_ENDIAN).putInt(40, 32);
    reseal(shortData);
    assertThatThrownBy(() -> FormatExtension.decode(FILE, 0, shortData, 20_971_520))
        .hasMessageContaining("Spoiled bitmap extension data");
    byte[] gran = good.clone();
    ByteBuffer.wrap(gran).order(ByteOrder.LITTLE_ENDIAN).putInt(72, 100);
    reseal(gran);
    assertThatThrownBy(() -> FormatExtension.decode(FILE, 0, gran, 20_971_520))
        .hasMessageContaining("m_Granularity 100");
  }

  @Test
  void testEncode_tooManyPieces_refused() {
    assertThatThrownBy(
            () ->
                FormatExtension.encode(
                    new FormatExtension.BitmapFeature(
                        ID, 1, 1, new long[(int) FormatExtension.maxL1Entries(32768) + 1]),
                    32768))
        .isInstanceOf(IllegalArgumentException.class);
  }

  static void reseal(byte[] c) throws Exception {
    byte[] md5 = MessageDigest.getInstance("MD5").digest(Arrays.copyOfRange(c, 24, c.length));
    System.arraycopy(md5, 0, c, 8, 16);
  }
}
