package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FreeClusterBitmapTest {
  @Test
  void lowestFreeAfterHeaderAndHolesFirst() {
    FreeClusterBitmap b = new FreeClusterBitmap(10, 2);
    assertThat(b.firstFree()).isEqualTo(2);
    for (int i = 2; i < 6; i++) {
      b.markUsed(i);
    }
    assertThat(b.firstFree()).isEqualTo(6);
    b.markFree(3);
    assertThat(b.firstFree()).as("holes are reused first").isEqualTo(3);
    assertThat(b.highestUsed()).isEqualTo(5);
    assertThat(b.isFree(0)).isFalse();
    b.markUsed(100);
    b.markFree(100);
    assertThat(b.isFree(100)).as("clusters past the bitmap are never free").isFalse();
    for (int i = 0; i < 10; i++) {
      b.markUsed(i);
    }
    assertThat(b.firstFree()).isEqualTo(-1);
    assertThat(b.freeCount()).isZero();
  }
}
