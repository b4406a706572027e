package org.jploop.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.jploop.testing.ShortIoChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FileBlockFile on real files: short I/O completed, EOF reads, read-only refusal, fallocate. */
class FileBlockFileTest {
  static final long SEED = 0x5107_10L;

  @Test
  void shortReadsAndWritesAreCompleted(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("f");
    Files.createFile(p);
    Random r = new Random(SEED);
    byte[] model = new byte[3 << 20];
    ShortIoChannel ch =
        new ShortIoChannel(
            FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE),
            new Random(SEED));
    try (FileBlockFile f = FileBlockFile.over(p, false, ch)) {
      for (int i = 0; i < 200; i++) {
        int len = 1 + r.nextInt(64 * 1024);
        int off = r.nextInt(model.length - len);
        byte[] data = new byte[len];
        r.nextBytes(data);
        ByteBuffer src = ByteBuffer.allocateDirect(len).put(data).flip();
        f.write(src, off);
        assertThat(src.hasRemaining()).as("seed %d write %d", SEED, i).isFalse();
        System.arraycopy(data, 0, model, off, len);
      }
      f.write(ByteBuffer.allocate(1), model.length - 1);
      for (int i = 0; i < 200; i++) {
        int len = 1 + r.nextInt(64 * 1024);
        int off = r.nextInt(model.length - len);
        ByteBuffer dst = ByteBuffer.allocate(len);
        f.read(dst, off);
        assertThat(dst.array())
            .as("seed %d read %d at %d", SEED, i, off)
            .isEqualTo(Arrays.copyOfRange(model, off, off + len));
      }
      assertThat(ch.shortCalls()).as("the channel really cut requests").isGreaterThan(100);
    }
    assertThat(Files.readAllBytes(p)).as("seed %d: file content", SEED).isEqualTo(model);
  }

  @Test
  void bytesPastTheEndReadAsZeros(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("f");
    Files.write(p, new byte[] {1, 2, 3});
    try (FileBlockFile f = FileBlockFile.open(p, true)) {
      ByteBuffer dst = ByteBuffer.allocate(8);
      Arrays.fill(dst.array(), (byte) 9);
      f.read(dst, 1);
      assertThat(dst.array()).containsExactly(2, 3, 0, 0, 0, 0, 0, 0);
    }
  }

  @Test
  void readOnlyRefusesEveryChangeNamingTheFile(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("ro.hds");
    Files.write(p, new byte[4096]);
    try (FileBlockFile f = FileBlockFile.open(p, true)) {
      assertThat(f.readOnly()).isTrue();
      assertThatThrownBy(() -> f.write(ByteBuffer.allocate(1), 7))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("ro.hds")
          .hasMessageContaining("offset 7")
          .hasMessageContaining("read-only");
      assertThatThrownBy(() -> f.truncate(0)).hasMessageContaining("read-only");
      assertThatThrownBy(() -> f.punchHole(0, 4096)).hasMessageContaining("read-only");
      assertThatThrownBy(() -> f.allocate(0, 4096)).hasMessageContaining("read-only");
      f.force();
    }
    assertThat(Files.readAllBytes(p)).isEqualTo(new byte[4096]);
  }

  @Test
  void punchAllocateAndTruncate(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("f");
    byte[] ones = new byte[1 << 20];
    Arrays.fill(ones, (byte) 1);
    Files.write(p, ones);
    try (FileBlockFile f = FileBlockFile.open(p, false)) {
      f.punchHole(4096, 8192);
      assertThat(f.size()).as("punch keeps the size").isEqualTo(1 << 20);
      ByteBuffer b = ByteBuffer.allocate(3 * 4096);
      f.read(b, 0);
      assertThat(Arrays.copyOfRange(b.array(), 0, 4096)).containsOnly(1);
      assertThat(Arrays.copyOfRange(b.array(), 4096, 3 * 4096)).containsOnly(0);
      f.allocate(1 << 20, 1 << 20);
      assertThat(f.size()).as("fallocate past the end extends").isEqualTo(2 << 20);
      f.truncate(5 << 20);
      assertThat(f.size()).isEqualTo(5 << 20);
      f.truncate(4096);
      assertThat(f.size()).isEqualTo(4096);
      f.force();
    }
  }

  @Test
  void sequentialReadsAreReadAheadRandomOnesAreNot(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("f");
    byte[] data = new byte[16 << 20];
    new Random(SEED).nextBytes(data);
    Files.write(p, data);
    try (FileBlockFile f = FileBlockFile.open(p, true)) {
      ByteBuffer b = ByteBuffer.allocateDirect(128 << 10);
      Random r = new Random(SEED);
      for (int i = 0; i < 200; i++) {
        b.clear();
        f.read(b, (long) r.nextInt(data.length / 4096 - 32) * 4096);
      }
      assertThat(f.readAheadRequests()).as("seed %d: random reads", SEED).isZero();
      for (long pos = 0; pos < data.length; pos += b.capacity()) {
        b.clear();
        f.read(b, pos);
        b.flip();
        assertThat(b)
            .as("content at %d", pos)
            .isEqualTo(ByteBuffer.wrap(data, (int) pos, b.capacity()));
      }
      assertThat(f.readAheadRequests())
          .as("posix_fadvise(WILLNEED) accepted on a read-only descriptor")
          .isGreaterThan(1);
    }
  }

  @Test
  void sequentialWritesStartWritebackEarlyRandomOnesDoNot(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("f");
    Files.createFile(p);
    byte[] data = new byte[16 << 20];
    new Random(SEED).nextBytes(data);
    try (FileBlockFile f = FileBlockFile.open(p, false)) {
      Random r = new Random(SEED);
      for (int i = 0; i < 200; i++) {
        int off = r.nextInt(data.length / 8192) * 8192;
        f.write(ByteBuffer.wrap(data, off, 4096), off);
      }
      assertThat(f.writebackRequests()).as("seed %d: random writes", SEED).isZero();
      for (int pos = 0; pos < data.length; pos += 128 << 10) {
        f.write(ByteBuffer.wrap(data, pos, 128 << 10), pos);
      }
      assertThat(f.writebackRequests())
          .as("sync_file_range(WRITE) accepted")
          .isEqualTo(data.length / WriteBehind.STEP_BYTES);
      f.force();
    }
    assertThat(Arrays.mismatch(Files.readAllBytes(p), data))
        .as("first differing byte")
        .isEqualTo(-1);
  }
}
