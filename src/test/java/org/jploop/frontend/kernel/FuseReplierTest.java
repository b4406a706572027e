package org.jploop.frontend.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.jploop.frontend.Errno;
import org.jploop.host.EventLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Tests for {@link FuseReplier}: the header's length always equals the bytes sent (there is no way
 * to say otherwise), an error reply is the bare header, a reply the kernel refuses with EINVAL is
 * followed by an EIO reply for the same request, ENOENT is ignored, and the notification header.
 */
class FuseReplierTest {
  private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
  private final EventLog log =
      new EventLog(new PrintStream(logBytes, true, StandardCharsets.UTF_8));
  private final FakeChannel channel = new FakeChannel();
  private final FuseMetrics metrics = new FuseMetrics();
  private final FuseReplier replier = new FuseReplier(channel, metrics, log);

  @AfterEach
  void free() {
    replier.free();
  }

  @Test
  void testEveryReplyLength_isTheBytesSent() {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    FuseBuffers b = new FuseBuffers(1 << 20);
    try {
      for (int i = 0; i < 200; i++) {
        long unique = 2L * rnd.nextInt(1 << 20);
        switch (rnd.nextInt(4)) {
          case 0 -> replier.ok(unique, rnd.nextInt(FuseReplier.PAYLOAD_CAPACITY + 1));
          case 1 -> replier.data(unique, b.data, rnd.nextInt(b.dataCapacity + 1));
          case 2 -> replier.error(unique, 1 + rnd.nextInt(511));
          default -> replier.ok(unique);
        }
        byte[] msg = channel.replies.get(i);
        ByteBuffer h = ByteBuffer.wrap(msg).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(h.getInt(0)).as("reply %d, seed %d", i, seed).isEqualTo(msg.length);
        assertThat(h.getLong(8)).isEqualTo(unique);
        if (h.getInt(4) != 0) {
          assertThat(msg).as("an error reply is the bare header").hasSize(16);
        }
      }
    } finally {
      b.free();
    }
  }

  @Test
  void testErrorOutsideTheKernelsRange_refusedBeforeWriting() {
    assertThatThrownBy(() -> replier.error(4, 512)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> replier.error(4, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThat(channel.replies).isEmpty();
  }

  @Test
  void testEinval_answeredAgainWithEio() {
    channel.writeError(Errno.EINVAL);
    replier.payload(8).putInt(0, 4096);
    replier.ok(42, 8);
    assertThat(channel.replies).hasSize(2);
    assertThat(channel.replies.get(1)).isEqualTo(Le.reply(42, -Errno.EIO, new byte[0]));
    assertThat(metrics.repliesRejected()).isEqualTo(1);
    assertThat(logBytes.toString(StandardCharsets.UTF_8))
        .contains("refused the reply to" + " request 42", "EINVAL");
  }

  @Test
  void testEnoentAndEnodev_notRetried() {
    channel.writeError(Errno.ENOENT).writeError(Errno.ENODEV);
    replier.ok(42);
    replier.ok(44);
    assertThat(channel.replies).hasSize(2);
    assertThat(metrics.repliesUnwanted()).isEqualTo(1);
    assertThat(metrics.repliesRejected()).isZero();
  }

  @Test
  void testPayloadIsZeroedBetweenReplies() {
    replier.payload(64).putLong(56, -1);
    replier.ok(2, 64);
    replier.payload(64);
    replier.ok(4, 64);
    assertThat(channel.replies.get(1)).isEqualTo(Le.reply(4, 0, new byte[64]));
  }

  @Test
  void testNotifyInvalInode_bytes() {
    FuseNotifier n = new FuseNotifier(channel, metrics, log, () -> {});
    try {
      n.invalidateAttributes(2);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    } finally {
      n.close();
    }
    // fuse_out_header {len 40, error = FUSE_NOTIFY_INVAL_INODE (2), unique 0} +
    // fuse_notify_inval_inode_out {ino, off = -1 (attributes only), len}
    assertThat(channel.replies)
        .containsExactly(Le.bytes().u32(40).u32(2).u64(0).u64(2).u64(-1).u64(0).get());
  }

  @Test
  void testNotifyEnoent_isSuccess_otherErrorsAreNot() throws Exception {
    FuseNotifier n = new FuseNotifier(channel, metrics, log, () -> {});
    try {
      channel.writeError(Errno.ENOENT);
      n.invalidateAttributes(2);
      channel.writeError(Errno.EINVAL);
      assertThatThrownBy(() -> n.invalidateAttributes(2)).hasMessageContaining("EINVAL");
    } finally {
      n.close();
    }
  }
}
