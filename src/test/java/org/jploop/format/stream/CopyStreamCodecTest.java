package org.jploop.format.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.jploop.format.DirtyBitmap;
import org.junit.jupiter.api.Test;

/** The copy stream's byte layouts against §3.2 / §2.1 of the verbs notes. */
class CopyStreamCodecTest {

  private static byte[] encode(CopyPacket p, boolean md5) throws Exception {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    new CopyStreamWriter(o).writePacket(p, md5);
    return o.toByteArray();
  }

  @Test
  void handshakeIsCmdSyncWithFeaturesInPosAndNoMd5() throws Exception {
    byte[] b = encode(CopyPacket.handshake(CopyPacket.SENDER_FEATURES), false);
    assertThat(HexFormat.of().formatHex(b))
        .isEqualTo(
            "3eacc04c" + "01000000" + "04000000" + "00000000" + "0300000000000000" + "00000000");
  }

  @Test
  void initCarriesClusterSectorsAsSizeAndDeviceSectorsAsPos() throws Exception {
    byte[] b = encode(CopyPacket.initPloop(2048, 1 << 21), true);
    ByteBuffer d = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(d.getInt(0)).isEqualTo(0x4CC0AC3E);
    assertThat(d.getInt(4)).isEqualTo(CopyPacket.TYPE_CMD);
    assertThat(d.getInt(8)).isEqualTo(2048);
    assertThat(d.getInt(12)).isZero();
    assertThat(d.getLong(16)).isEqualTo(1L << 21);
    byte[] payload = Arrays.copyOfRange(b, 40, b.length);
    assertThat(payload).hasSize(2048);
    assertThat(Arrays.copyOfRange(b, 24, 40)).isEqualTo(CopyStreamReader.md5(payload));
    assertThat(ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getInt())
        .isEqualTo(CopyPacket.CMD_INIT_PLOOP);
  }

  @Test
  void finishIsCmdOfSizeZeroWithTheMd5OfNothing() throws Exception {
    byte[] b = encode(CopyPacket.finish(), true);
    assertThat(b).hasSize(40);
    assertThat(HexFormat.of().formatHex(b, 24, 40)).isEqualTo("d41d8cd98f00b204e9800998ecf8427e");
  }

  @Test
  void roundTripsDataDeviceAndReplies() throws Exception {
    byte[] data = new byte[4096];
    Arrays.fill(data, (byte) 7);
    CopyPacket p = new CopyPacket(CopyPacket.TYPE_DATA_DEVICE, 1L << 20, data);
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    CopyStreamWriter w = new CopyStreamWriter(o);
    w.writePacket(p, true);
    w.writeReply(-1);
    assertThat(w.written()).isEqualTo(24 + 16 + 4096 + 4);
    CopyStreamReader r = new CopyStreamReader(new ByteArrayInputStream(o.toByteArray()));
    assertThat(r.readPacket(true, 1 << 20)).isEqualTo(p);
    assertThat(r.readReply()).isEqualTo(-1);
    assertThat(r.offset()).isEqualTo(w.written());
  }

  @Test
  void refusesWrongMarkerBadMd5OversizeAndTruncation() throws Exception {
    byte[] good = encode(new CopyPacket(CopyPacket.TYPE_DATA_DEVICE, 0, new byte[512]), true);
    byte[] marker = good.clone();
    marker[0] ^= 1;
    assertThatThrownBy(() -> read(marker, 1 << 20))
        .isInstanceOf(CopyStreamException.class)
        .hasMessageStartingWith("Stream corrupted: marker: 4cc0ac3f type: 3 size: 512 pos: 0")
        .extracting(e -> ((CopyStreamException) e).kind())
        .isEqualTo(CopyStreamException.Kind.MARKER);
    byte[] sum = good.clone();
    sum[100] ^= 1;
    assertThatThrownBy(() -> read(sum, 1 << 20))
        .hasMessageStartingWith("MD5 mismatch pos: 0 src: ")
        .extracting(e -> ((CopyStreamException) e).kind())
        .isEqualTo(CopyStreamException.Kind.CHECKSUM);
    assertThatThrownBy(() -> read(good, 511))
        .extracting(e -> ((CopyStreamException) e).kind())
        .isEqualTo(CopyStreamException.Kind.MALFORMED);
    assertThatThrownBy(() -> read(Arrays.copyOf(good, 300), 1 << 20))
        .hasMessageContaining(
            "Stream truncated at offset 300 inside the packet that starts at offset 0")
        .extracting(e -> ((CopyStreamException) e).kind())
        .isEqualTo(CopyStreamException.Kind.TRUNCATED);
  }

  private static CopyPacket read(byte[] b, int max) throws Exception {
    return new CopyStreamReader(new ByteArrayInputStream(b)).readPacket(true, max);
  }

  @Test
  void cbtBatchHasTheKernelStructLayout() {
    UUID id = UUID.fromString("01234567-89ab-cdef-0011-223344556677");
    DirtyBitmap.Builder bb = new DirtyBitmap.Builder(id, 2048 * 64, 128);
    bb.orWord(0, 0b1110L | (1L << 63));
    DirtyBitmap bm = bb.build();
    List<CbtBatch> batches = CbtBatch.of(bm);
    assertThat(batches).hasSize(1);
    byte[] b = batches.get(0).encode();
    assertThat(b).hasSize(56 + 2 * 24);
    assertThat(HexFormat.of().formatHex(b, 0, 16)).isEqualTo("0123456789abcdef0011223344556677");
    ByteBuffer d = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(d.getLong(16)).isZero();
    assertThat(d.getLong(24)).isEqualTo(2048L * 64 * 512);
    assertThat(d.getInt(32)).isEqualTo(65536);
    assertThat(d.getInt(40)).isEqualTo(2);
    assertThat(d.getInt(44)).isEqualTo(2);
    assertThat(d.getLong(56)).isEqualTo(65536);
    assertThat(d.getLong(64)).isEqualTo(3 * 65536);
    assertThat(d.getLong(80)).isEqualTo(63L * 65536);
    assertThat(d.getLong(88)).isEqualTo(65536);
    CbtBatch back = CbtBatch.decode(b);
    assertThat(back.id()).isEqualTo(id);
    assertThat(back.extents()).hasSize(2);
    assertThat(back.extents().get(1)).containsExactly(63L * 65536, 65536);
  }

  @Test
  void cbtBatchesSplitAt512Extents() {
    DirtyBitmap.Builder bb = new DirtyBitmap.Builder(UUID.randomUUID(), 128L * 2000, 128);
    for (long w = 0; w < 2000 / 64; w++) {
      bb.orWord(w, 0x5555555555555555L);
    }
    List<CbtBatch> batches = CbtBatch.of(bb.build());
    assertThat(batches).hasSize(2);
    assertThat(batches.get(0).extents()).hasSize(512);
    assertThat(batches.get(1).start()).isEqualTo(batches.get(0).start() + batches.get(0).length());
    assertThat(batches.get(1).extents()).hasSize(2000 / 64 * 32 - 512);
  }
}
