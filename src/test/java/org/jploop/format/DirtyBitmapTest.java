package org.jploop.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class DirtyBitmapTest {
  static final UUID ID = UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8");

  @Test
  void testGeometry_asPloopComputesIt() {
    // 10 GiB, 64 KiB granules: 163840 bits, 20480 bytes, one 1 MiB piece (image-format.md §7)
    DirtyBitmap b = DirtyBitmap.empty(ID, 20_971_520, 128);
    assertThat(b.bits()).isEqualTo(163_840);
    assertThat(b.bytes()).isEqualTo(20_480);
    assertThat(b.pieceCount(1 << 20)).isEqualTo(1);
    assertThat(b.pieceBytes(0, 1 << 20)).isEqualTo(20_480);
    // 1 TiB: 16 Mi bits, 2 MiB of bitmap, two pieces
    DirtyBitmap t = DirtyBitmap.empty(ID, 1L << 31, 128);
    assertThat(t.bytes()).isEqualTo(2L << 20);
    assertThat(t.pieceCount(1 << 20)).isEqualTo(2);
    // a size that is not a multiple of the granule rounds up
    assertThat(DirtyBitmap.empty(ID, 129, 128).bits()).isEqualTo(2);
  }

  @Test
  void testBitOrder_leastSignificantFirstInEachByte() {
    DirtyBitmap b =
        new DirtyBitmap.Builder(ID, 128 * 200, 128).set(0).set(9).set(63).set(64).set(199).build();
    assertThat(b.byteAt(0)).isEqualTo(0x01);
    assertThat(b.byteAt(1)).isEqualTo(0x02);
    assertThat(b.byteAt(7)).isEqualTo(0x80);
    assertThat(b.byteAt(8)).isEqualTo(0x01);
    assertThat(b.byteAt(24)).isEqualTo(0x80); // bit 199 = byte 24, bit 7
    assertThat(b.piece(0, 32768))
        .hasSize(25)
        .startsWith(0x01, 0x02, 0, 0, 0, 0, 0, (byte) 0x80, 0x01);
    assertThat(b.word(0)).isEqualTo(0x8000_0000_0000_0201L);
    assertThat(b.cardinality()).isEqualTo(5);
    assertThat(b.get(9)).isTrue();
    assertThat(b.get(10)).isFalse();
  }

  @Test
  void testBitsPastTheEnd_neverSet() {
    DirtyBitmap.Builder bb = new DirtyBitmap.Builder(ID, 128 * 70, 128);
    bb.orWord(1, -1L).setRange(0, 1000).set(70).orByte(9, 0xFF);
    DirtyBitmap b = bb.build();
    assertThat(b.cardinality()).isEqualTo(70);
    assertThat(b.word(1)).isEqualTo(0x3F);
    assertThat(b.byteAt(8)).isEqualTo(0x3F);
  }

  @Test
  void testNextSetBit_skipsEmptyPages() {
    long bits = 3L * DirtyBitmap.PAGE_WORDS * 64 + 5;
    DirtyBitmap b = new DirtyBitmap.Builder(ID, bits * 8, 8).set(3).set(bits - 1).build();
    assertThat(b.nextSetBit(0)).isEqualTo(3);
    assertThat(b.nextSetBit(4)).isEqualTo(bits - 1);
    assertThat(b.nextSetBit(bits)).isEqualTo(-1);
    assertThat(b.cardinality()).isEqualTo(2);
  }

  @Test
  void testSetRange_acrossWords() {
    DirtyBitmap b = new DirtyBitmap.Builder(ID, 128 * 300, 128).setRange(60, 131).build();
    assertThat(b.cardinality()).isEqualTo(71);
    assertThat(b.get(59)).isFalse();
    assertThat(b.get(60)).isTrue();
    assertThat(b.get(130)).isTrue();
    assertThat(b.get(131)).isFalse();
  }

  @Test
  void testResized_keepsOldBitsAndCleanTail() {
    DirtyBitmap b = new DirtyBitmap.Builder(ID, 128 * 100, 128).set(5).set(99).build();
    DirtyBitmap grown = b.resized(128 * 1000);
    assertThat(grown.bits()).isEqualTo(1000);
    assertThat(grown.cardinality()).isEqualTo(2);
    assertThat(grown.get(99)).isTrue();
    DirtyBitmap shrunk = b.resized(128 * 50);
    assertThat(shrunk.cardinality()).isEqualTo(1);
    assertThat(b.withId(null).id()).isNull();
    assertThat(b.withId(ID)).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(grown).isNotEqualTo(b);
  }

  @Test
  void testBadGeometry_refused() {
    assertThatThrownBy(() -> DirtyBitmap.empty(ID, 1000, 100))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DirtyBitmap.empty(ID, 0, 128))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
