package org.jploop.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DurabilityLedger#verifyRaw}: completed writes are checked, writes in flight are not, and
 * the state it keeps between calls (it applies only the log lines appended since the last call)
 * still catches damage to bytes written before the previous call.
 */
class DurabilityLedgerTest {
  private static final long START = 1 << 20;
  private static final long END = START + (256 << 10);

  @TempDir Path dir;

  private Path image() throws IOException {
    Path img = dir.resolve("disk.img");
    if (!Files.exists(img)) {
      try (FileChannel ch =
          FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ch.truncate(0);
        ch.write(ByteBuffer.allocate(1), END - 1);
      }
    }
    return img;
  }

  private void write(long off, int len, long seed, Path log, boolean done) throws IOException {
    append(log, "wintent " + off + " " + len + " " + seed);
    try (FileChannel ch = FileChannel.open(image(), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(CrashWriter.rawContent(seed, len)), off);
    }
    if (done) {
      append(log, "wdone " + off + " " + len + " " + seed);
    }
  }

  private static void append(Path log, String line) throws IOException {
    Files.writeString(
        log,
        line + "\n",
        StandardCharsets.UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  private void damage(long off) throws IOException {
    try (FileChannel ch =
        FileChannel.open(image(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, off);
      b.put(0, (byte) ~b.get(0)).rewind();
      ch.write(b, off);
    }
  }

  @Test
  void testVerifyRaw_laterCallStillCatchesDamageToAnEarlierWrite() throws IOException {
    Path log = dir.resolve("raw.log");
    DurabilityLedger ledger = new DurabilityLedger();
    write(START + 100, 5000, 7, log, true);
    ledger.verifyRaw(image(), log, START, END);
    assertThat(ledger.rawWritesLogged()).isEqualTo(1);
    write(START + 90_000, 3000, 8, log, true);
    ledger.verifyRaw(image(), log, START, END);
    assertThat(ledger.rawWritesLogged()).isEqualTo(2);
    damage(START + 101);
    assertThatThrownBy(() -> ledger.verifyRaw(image(), log, START, END))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("disk offset " + (START + 101));
    // a fresh ledger reading the whole log agrees
    assertThatThrownBy(() -> new DurabilityLedger().verifyRaw(image(), log, START, END))
        .hasMessageContaining("disk offset " + (START + 101));
  }

  @Test
  void testVerifyRaw_writeInFlightUncheckedUntilACompletedOneCoversIt() throws IOException {
    Path log = dir.resolve("raw.log");
    DurabilityLedger ledger = new DurabilityLedger();
    write(START, 4096, 1, log, false);
    damage(START + 10);
    ledger.verifyRaw(image(), log, START, END);
    write(START + 8, 16, 2, log, true);
    damage(START + 12);
    assertThatThrownBy(() -> ledger.verifyRaw(image(), log, START, END))
        .hasMessageContaining("disk offset " + (START + 12));
  }

  @Test
  void testVerifyRaw_punchReadsAsZeros() throws IOException {
    Path log = dir.resolve("raw.log");
    DurabilityLedger ledger = new DurabilityLedger();
    write(START, 8192, 3, log, true);
    ledger.verifyRaw(image(), log, START, END);
    append(log, "pintent " + START + " 4096");
    append(log, "pdone " + START + " 4096");
    assertThatThrownBy(() -> ledger.verifyRaw(image(), log, START, END))
        .hasMessageContaining("expected 0x0");
  }
}
