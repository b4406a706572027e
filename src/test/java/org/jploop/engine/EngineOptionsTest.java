package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EngineOptionsTest {
  @Test
  void defaultsAndWithers() {
    EngineOptions o = EngineOptions.defaults();
    assertThat(o.readOnly()).isFalse();
    assertThat(o.allowDirty()).isFalse();
    assertThat(o.mdSubmitDelayMs()).isEqualTo(1000);
    assertThat(o.mdMaxDelayMs()).isEqualTo(10_000);
    assertThat(o.preallocSize()).isEqualTo(128L << 20);
    assertThat(o.fallocNewClusters()).isFalse();
    assertThat(o.enospcRetryMs()).isEqualTo(5000);
    assertThat(o.enospcTimeoutMs()).isEqualTo(300_000);
    assertThat(o.backgroundThreads()).isTrue();
    EngineOptions p = o.mdSubmitDelayMs(50).readOnly(true);
    assertThat(p.mdMaxDelayMs()).isEqualTo(500);
    assertThat(p.readOnly()).isTrue();
    assertThat(o.readOnly()).as("immutable").isFalse();
    assertThatThrownBy(() -> o.preallocSize(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
