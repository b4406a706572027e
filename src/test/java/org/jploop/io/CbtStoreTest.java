package org.jploop.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.UUID;
import org.jploop.format.BadExtensionException;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.FormatExtension;
import org.jploop.format.ImageHeader;
import org.jploop.testing.MemoryBlockFile;
import org.jploop.testing.TestImages;
import org.junit.jupiter.api.Test;

/**
 * The dirty bitmap in a delta file: ploop's layout at the end of the file, the round trip, and
 * every refusal leaving the file as it was.
 */
class CbtStoreTest {
  static final UUID ID = UUID.fromString("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
  static final int CLUSTER = 32768;

  /** 256 MiB disk with 1-sector granules: 524288 bits = 65536 bytes = two 32 KiB pieces. */
  static final long DISK = 256L << 20;

  static MemoryBlockFile image() throws Exception {
    return TestImages.empty("root.hds", DISK, CLUSTER);
  }

  static byte[] bytes(MemoryBlockFile f, long pos, int len) throws Exception {
    ByteBuffer b = ByteBuffer.allocate(len);
    f.read(b, pos);
    return b.array();
  }

  static byte[] all(MemoryBlockFile f) throws Exception {
    return bytes(f, 0, (int) f.size());
  }

  @Test
  void testWrite_ploopLayoutAtEndOfFile() throws Exception {
    MemoryBlockFile f = image();
    ImageHeader h = ImageReader.readHeader(f);
    long end = f.size();
    // piece 0 all dirty (L1 = 1), piece 1 with three bits (stored in a cluster)
    DirtyBitmap b =
        new DirtyBitmap.Builder(ID, DISK / 512, 1)
            .setRange(0, 262144)
            .set(262144)
            .set(262153)
            .set(524287)
            .build();
    ImageHeader next = CbtStore.write(f, h, b);

    assertThat(next.diskInUse()).isEqualTo(ImageHeader.CLOSED_V21);
    assertThat(next.formatExtensionOffset()).isEqualTo((end + CLUSTER) / 512);
    assertThat(ImageReader.readHeader(f)).isEqualTo(next);
    assertThat(f.size()).isEqualTo(end + 2 * CLUSTER);
    byte[] piece = bytes(f, end, CLUSTER);
    assertThat(piece[0]).isEqualTo((byte) 0x01);
    assertThat(piece[1]).isEqualTo((byte) 0x02);
    assertThat(piece[CLUSTER - 1]).isEqualTo((byte) 0x80);
    assertThat(Arrays.copyOfRange(piece, 2, CLUSTER - 1)).containsOnly(0);
    ByteBuffer ext =
        ByteBuffer.wrap(bytes(f, end + CLUSTER, CLUSTER)).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(ext.getLong(0)).isEqualTo(FormatExtension.MAGIC);
    assertThat(ext.getLong(24)).isEqualTo(FormatExtension.DIRTY_BITMAP_MAGIC);
    assertThat(ext.getInt(40)).isEqualTo(32 + 16);
    assertThat(ext.getLong(48)).isEqualTo(DISK / 512);
    assertThat(ext.getInt(72)).isEqualTo(1);
    assertThat(ext.getInt(76)).isEqualTo(2);
    assertThat(ext.getLong(80)).isEqualTo(1);
    assertThat(ext.getLong(88)).isEqualTo(end / 512);
    assertThat(ext.getLong(96)).as("terminator").isZero();
    byte[] md5 =
        MessageDigest.getInstance("MD5").digest(Arrays.copyOfRange(ext.array(), 24, CLUSTER));
    assertThat(Arrays.copyOfRange(ext.array(), 8, 24)).isEqualTo(md5);

    CbtStore.Stored s = CbtStore.read(f, next, h.firstBlockOffset() * 512);
    assertThat(s.bitmap()).isEqualTo(b);
    assertThat(s.extensionOffset()).isEqualTo(end + CLUSTER);
    assertThat(s.pieceOffsets()).containsExactly(end);
    assertThat(CbtStore.trimmedEnd(s, f.size(), CLUSTER)).isEqualTo(end);
  }

  @Test
  void testWrite_cleanBitmap_onlyTheExtensionCluster() throws Exception {
    MemoryBlockFile f = image();
    ImageHeader h = ImageReader.readHeader(f);
    long end = f.size();
    ImageHeader next = CbtStore.write(f, h, DirtyBitmap.empty(ID, DISK / 512, 128));
    assertThat(f.size()).isEqualTo(end + CLUSTER);
    CbtStore.Stored s = CbtStore.read(f, next, end);
    assertThat(s.bitmap().cardinality()).isZero();
    assertThat(s.l1()).as("L1 entries of zero pieces, as QEMU expects").containsExactly(0);
    assertThat(s.bitmap().granularitySectors()).isEqualTo(128);
  }

  @Test
  void testRead_noExtension_orClosedV20_isNull() throws Exception {
    MemoryBlockFile f = image();
    ImageHeader h = ImageReader.readHeader(f);
    assertThat(CbtStore.read(f, h, 0)).isNull();
    ImageHeader v21 = CbtStore.write(f, h, DirtyBitmap.empty(ID, DISK / 512, 128));
    assertThat(CbtStore.read(f, v21.withDiskInUse(ImageHeader.CLOSED_V20), 0)).isNull();
  }

  @Test
  void testRead_refusals_fileUnchanged() throws Exception {
    MemoryBlockFile f = image();
    ImageHeader h0 = ImageReader.readHeader(f);
    long data = h0.firstBlockOffset() * 512;
    DirtyBitmap b = new DirtyBitmap.Builder(ID, DISK / 512, 1).set(7).build();
    ImageHeader h = CbtStore.write(f, h0, b);
    long ext = h.formatExtensionOffset() * 512;
    byte[] before = all(f);

    assertRefused(
        f,
        h.withDiskInUse(ImageHeader.IN_USE),
        data,
        "Can't load dirty_bitmap, because image was not successfully closed");
    assertRefused(
        f,
        h.withFormatExtensionOffset(h.formatExtensionOffset() + 1),
        data,
        "is not aligned to cluster");
    assertRefused(
        f, h.withFormatExtensionOffset(h.formatExtensionOffset() + 64), data, "beyond EOF");
    assertRefused(f, h, ext + CLUSTER, "lies inside the data clusters");
    assertThat(all(f)).isEqualTo(before);

    MemoryBlockFile badSum = f.copy(false);
    badSum.write(ByteBuffer.wrap(new byte[] {1}), ext + CLUSTER - 1);
    byte[] badSumBytes = all(badSum);
    assertRefused(badSum, h, data, "Wrong optional header checksum");
    assertThat(all(badSum)).isEqualTo(badSumBytes);

    MemoryBlockFile badSize = f.copy(false);
    patch(badSize, ext, 48, DISK / 512 + 8);
    assertRefused(badSize, h, data, "Image size is not equal to dirty_bitmap size");

    MemoryBlockFile badL1 = f.copy(false);
    patch(badL1, ext, 80, 3);
    assertRefused(badL1, h, data, "The L1 extension table pointer 3 is not aligned");
    patch(badL1, ext, 80, ext / 512);
    assertRefused(badL1, h, data, "The L1 extension table pointer " + ext / 512 + " corrupted");
    patch(badL1, ext, 80, 64);
    assertRefused(badL1, h, data, "corrupted, start: " + data / 512);

    MemoryBlockFile l1Size = f.copy(false);
    ByteBuffer four = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 3);
    l1Size.write(four, ext + 76);
    reseal(l1Size, ext);
    assertRefused(l1Size, h, data, "Spoiled");
  }

  @Test
  void testDrop_headerClearedFirst_thenClustersCut() throws Exception {
    MemoryBlockFile f = image();
    ImageHeader h0 = ImageReader.readHeader(f);
    long end = f.size();
    ImageHeader h =
        CbtStore.write(f, h0, new DirtyBitmap.Builder(ID, DISK / 512, 1).set(1).build());
    ImageHeader dropped = CbtStore.drop(f, h, end);
    assertThat(dropped.diskInUse()).isEqualTo(ImageHeader.CLOSED_V20);
    assertThat(dropped.formatExtensionOffset()).isZero();
    assertThat(ImageReader.readHeader(f)).isEqualTo(dropped);
    assertThat(f.size()).isEqualTo(end);
    assertThat(CbtStore.drop(f, dropped, end)).isSameAs(dropped);
  }

  @Test
  void testDrop_badExtension_refusedUnchanged() throws Exception {
    MemoryBlockFile f = image();
    ImageHeader h =
        CbtStore.write(f, ImageReader.readHeader(f), DirtyBitmap.empty(ID, DISK / 512, 128));
    f.write(ByteBuffer.wrap(new byte[] {9}), h.formatExtensionOffset() * 512 + 100);
    byte[] before = all(f);
    assertThatThrownBy(() -> CbtStore.drop(f, h, 0)).isInstanceOf(BadExtensionException.class);
    assertThat(all(f)).isEqualTo(before);
  }

  @Test
  void testTrimmedEnd_onlyContiguousClustersAtTheEnd() throws Exception {
    CbtStore.Stored s =
        new CbtStore.Stored(
            DirtyBitmap.empty(ID, 64, 1),
            10 * CLUSTER,
            new long[] {7L * CLUSTER, 9L * CLUSTER},
            new long[] {7L * 64, 9L * 64},
            CLUSTER);
    assertThat(CbtStore.trimmedEnd(s, 11L * CLUSTER, CLUSTER)).isEqualTo(9L * CLUSTER);
    assertThat(CbtStore.trimmedEnd(s, 12L * CLUSTER, CLUSTER)).isEqualTo(12L * CLUSTER);
    assertThat(CbtStore.trimmedEnd(s, 11L * CLUSTER + 512, CLUSTER)).isEqualTo(11L * CLUSTER + 512);
  }

  @Test
  void testConstantValue_asPloopsIsConstBit() {
    assertThat(CbtStore.constantValue(new byte[] {0, 0, 0})).isZero();
    assertThat(CbtStore.constantValue(new byte[] {-1, -1})).isEqualTo(1);
    assertThat(CbtStore.constantValue(new byte[] {-1, 0x7F})).isEqualTo(-1);
    assertThat(CbtStore.constantValue(new byte[] {1})).isEqualTo(-1);
  }

  static void assertRefused(MemoryBlockFile f, ImageHeader h, long dataEnd, String msg) {
    assertThatThrownBy(() -> CbtStore.read(f, h, dataEnd))
        .isInstanceOf(BadExtensionException.class)
        .hasMessageContaining(msg)
        .hasMessageStartingWith("mem/root.hds: offset ");
  }

  /** Puts a u64 at {@code off} of the extension cluster at {@code ext} and fixes the MD5. */
  static void patch(MemoryBlockFile f, long ext, int off, long value) throws Exception {
    f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value), ext + off);
    reseal(f, ext);
  }

  static void reseal(MemoryBlockFile f, long ext) throws Exception {
    byte[] c = bytes(f, ext, CLUSTER);
    byte[] md5 = MessageDigest.getInstance("MD5").digest(Arrays.copyOfRange(c, 24, CLUSTER));
    f.write(ByteBuffer.wrap(md5), ext + 8);
  }
}
