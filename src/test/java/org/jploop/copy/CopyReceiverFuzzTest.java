package org.jploop.copy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.jploop.engine.EngineOptions;
import org.jploop.engine.PloopDisk;
import org.jploop.format.DirtyBitmap;
import org.jploop.format.stream.CbtBatch;
import org.jploop.format.stream.CopyPacket;
import org.jploop.format.stream.CopyStreamWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feeds the receiver a valid ploop 9 stream and thousands of seeded mutations of it (bytes flipped,
 * fields overwritten, packets cut, dropped, duplicated or swapped). Every case must end within its
 * deadline, either with a valid image or with one {@link CopyException} line and no FILE; nothing
 * else may appear in the directory and no other exception may escape. The seed is printed on
 * failure ({@code -Dcopy.fuzz.seed=N} replays it).
 */
class CopyReceiverFuzzTest {
  private static final int CASES = Integer.getInteger("copy.fuzz.cases", 5000);
  private static final long SECTORS = 8 * 2048; // 8 MiB
  private static final int CLUSTER_SECTORS = 128; // 64 KiB

  @TempDir Path tmp;

  /** Where FILE goes: tmpfs where there is one (fsync is what each case costs on a disk). */
  private Path dir;

  @org.junit.jupiter.api.BeforeEach
  void pickDir() throws Exception {
    Path shm = Path.of("/dev/shm");
    dir =
        Files.isDirectory(shm) && Files.isWritable(shm)
            ? Files.createTempDirectory(shm, "jploop-copy-fuzz-")
            : tmp;
  }

  @org.junit.jupiter.api.AfterEach
  void removeDir() throws Exception {
    if (!dir.equals(tmp)) {
      try (Stream<Path> s = Files.list(dir)) {
        for (Path p : s.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(dir);
    }
  }

  private static List<CopyPacket> validPackets(Random r) {
    List<CopyPacket> ps = new ArrayList<>();
    ps.add(CopyPacket.handshake(CopyPacket.SENDER_FEATURES));
    ps.add(CopyPacket.initPloop(CLUSTER_SECTORS, SECTORS));
    for (int i = 0; i < 6; i++) {
      byte[] d = new byte[65536];
      r.nextBytes(d);
      ps.add(new CopyPacket(CopyPacket.TYPE_DATA_DEVICE, (long) r.nextInt(128) * 65536, d));
    }
    ps.add(CopyPacket.command(CopyPacket.CMD_SYNC, 0));
    DirtyBitmap.Builder b = new DirtyBitmap.Builder(UUID.randomUUID(), SECTORS, 128);
    b.set(3).set(4).set(90);
    for (CbtBatch cb : CbtBatch.of(b.build())) {
      ps.add(new CopyPacket(CopyPacket.TYPE_DATA_CBT, cb.start(), cb.encode()));
    }
    ps.add(CopyPacket.command(CopyPacket.CMD_UMOUNT, 0));
    ps.add(CopyPacket.finish());
    return ps;
  }

  private static byte[] encode(List<CopyPacket> ps) throws Exception {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    CopyStreamWriter w = new CopyStreamWriter(o);
    boolean md5 = false;
    for (CopyPacket p : ps) {
      w.writePacket(p, md5);
      md5 = true; // after the handshake both sides use MD5
    }
    return o.toByteArray();
  }

  @Test
  void validStreamGivesACleanImageWithItsCbt() throws Exception {
    Random r = new Random(1);
    List<CopyPacket> ps = validPackets(r);
    Path file = dir.resolve("copy.hdd");
    ByteArrayOutputStream replies = new ByteArrayOutputStream();
    new CopyReceiver(file, new ByteArrayInputStream(encode(ps)), replies).receive();
    ByteBuffer rb = ByteBuffer.wrap(replies.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(rb.getInt(0)).as("handshake reply").isEqualTo(-1);
    for (int i = 4; i < rb.limit(); i += 4) {
      assertThat(rb.getInt(i)).isZero();
    }
    assertThat(rb.limit()).isEqualTo(4 * ps.size());
    try (PloopDisk d = PloopDisk.openPaths(List.of(file), EngineOptions.defaults())) {
      for (CopyPacket p : ps) {
        if (p.type() == CopyPacket.TYPE_DATA_DEVICE) {
          ByteBuffer got = ByteBuffer.allocate(p.size());
          d.read(got, p.pos());
          // a later packet may overwrite an earlier one at the same pos
          boolean last =
              ps.stream()
                      .filter(q -> q.type() == CopyPacket.TYPE_DATA_DEVICE && q.pos() == p.pos())
                      .reduce((a, b) -> b)
                      .get()
                  == p;
          if (last) {
            assertThat(got.array()).isEqualTo(p.payload());
          }
        }
      }
      DirtyBitmap cbt = d.tracking().cbt().orElseThrow().snapshot();
      assertThat(cbt.get(3) && cbt.get(4) && cbt.get(90)).isTrue();
      assertThat(cbt.cardinality()).isEqualTo(3);
    }
  }

  @Test
  void mutatedStreamsFailCleanly() throws Exception {
    long seed = Long.getLong("copy.fuzz.seed", System.nanoTime());
    Random r = new Random(seed);
    byte[] base = encode(validPackets(new Random(seed)));
    ExecutorService ex = Executors.newSingleThreadExecutor(t -> new Thread(t, "fuzz-receiver"));
    int failed = 0;
    int completed = 0;
    try {
      for (int c = 0; c < CASES; c++) {
        byte[] stream = mutate(base, r, validPackets(new Random(seed)));
        Path file = dir.resolve("f" + c + ".hdd");
        Future<String> f =
            ex.submit(
                () -> {
                  try {
                    new CopyReceiver(
                            file, new ByteArrayInputStream(stream), new ByteArrayOutputStream())
                        .receive();
                    return null;
                  } catch (CopyException e) {
                    return e.getMessage();
                  }
                });
        String msg;
        try {
          msg = f.get(20, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
          f.cancel(true);
          fail("seed " + seed + " case " + c + ": receiver hangs");
          return;
        } catch (java.util.concurrent.ExecutionException e) {
          throw new AssertionError(
              "seed " + seed + " case " + c + ": " + e.getCause(), e.getCause());
        }
        try (Stream<Path> s = Files.list(dir)) {
          List<Path> left = s.toList();
          if (msg == null) {
            completed++;
            assertThat(left).as("seed %d case %d", seed, c).containsExactly(file);
            PloopDisk.openPaths(List.of(file), EngineOptions.defaults().readOnly(true)).close();
            Files.delete(file);
          } else {
            failed++;
            assertThat(msg).as("seed %d case %d", seed, c).doesNotContain("\n").isNotBlank();
            assertThat(left).as("seed %d case %d: %s", seed, c, msg).isEmpty();
          }
        }
      }
    } finally {
      ex.shutdownNow();
    }
    System.out.println(
        "copy receiver fuzz: seed "
            + seed
            + ", "
            + CASES
            + " cases, "
            + failed
            + " refused, "
            + completed
            + " accepted");
    assertThat(failed).as("seed %d", seed).isGreaterThan(CASES / 2);
  }

  private static byte[] mutate(byte[] base, Random r, List<CopyPacket> ps) throws Exception {
    switch (r.nextInt(6)) {
      case 0:
        { // flip bytes
          byte[] b = base.clone();
          int n = 1 + r.nextInt(4);
          for (int i = 0; i < n; i++) {
            b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
          }
          return b;
        }
      case 1: // truncate
        return java.util.Arrays.copyOf(base, r.nextInt(base.length));
      case 2:
        { // overwrite a descriptor field of a packet (type, size or pos), MD5 recomputed
          List<CopyPacket> q = new ArrayList<>(ps);
          int i = r.nextInt(q.size());
          CopyPacket p = q.get(i);
          long[] odd = {
            -1, 0, 1, 511, 1L << 40, Long.MIN_VALUE, SECTORS * 512, SECTORS * 512 - 512
          };
          q.set(
              i,
              switch (r.nextInt(3)) {
                case 0 -> new CopyPacket(r.nextInt(8) - 1, p.pos(), p.payload());
                case 1 -> new CopyPacket(p.type(), odd[r.nextInt(odd.length)], p.payload());
                default ->
                    new CopyPacket(
                        p.type(),
                        p.pos(),
                        java.util.Arrays.copyOf(p.payload(), r.nextInt(p.size() + 2)));
              });
          return encode(q);
        }
      case 3:
        { // drop a packet
          List<CopyPacket> q = new ArrayList<>(ps);
          q.remove(r.nextInt(q.size()));
          return encode(q);
        }
      case 4:
        { // duplicate or swap packets
          List<CopyPacket> q = new ArrayList<>(ps);
          int i = r.nextInt(q.size());
          int j = r.nextInt(q.size());
          if (r.nextBoolean()) {
            q.add(j, q.get(i));
          } else {
            java.util.Collections.swap(q, i, j);
          }
          return encode(q);
        }
      default:
        { // a wrong command or corrupt CBT payload, MD5 valid
          List<CopyPacket> q = new ArrayList<>(ps);
          int i = r.nextInt(q.size());
          byte[] pl = q.get(i).payload().clone();
          if (pl.length > 0) {
            for (int k = 0; k < 3; k++) {
              pl[r.nextInt(Math.min(pl.length, 64))] = (byte) r.nextInt(256);
            }
          }
          q.set(i, new CopyPacket(q.get(i).type(), q.get(i).pos(), pl));
          return encode(q);
        }
    }
  }
}
