package org.jploop.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jploop.testing.MountedDisk;
import org.jploop.testing.PloopProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CBT through real mounts: {@code snapshot -b} offline, a seeded writer (writes and punches on
 * disk.img through FUSE), {@code ploop umount} saves the bitmap, {@code ploop cbt show} after it
 * equals the granules the writer touched; the next mount loads it and keeps tracking across an
 * online snapshot (the daemon closes and reopens the engine) and, offline, the deletion of both
 * snapshots (merges). One disk, about 30 s.
 */
class CbtMountIT {
  static final long GRAN = 65536;
  static final long DISK = 256L << 20;
  static final UUID EPOCH = UUID.fromString("c0ffee00-0000-4000-8000-00000000cb70");

  /** The snapshot taken with {@code -b}, named as in ploop's test-cbt ({@code -u U -b U}). */
  static final String EPOCH_SNAPSHOT = "{" + EPOCH + "}";

  @TempDir Path dir;

  @Test
  void testCbtSavedAtUmount_loadedAtMount_keptByOnlineSnapshot() throws Exception {
    PloopProcess.assumeMountable("CbtMountIT");
    long seed = Long.getLong("jploop.seed", System.nanoTime());
    Random rnd = new Random(seed);
    MountedDisk disk = MountedDisk.init(dir.resolve("disk"), "256M");
    String xml = disk.xml().toString();
    PloopProcess.must(
        60,
        PloopProcess.javaBin(),
        "-jar",
        PloopProcess.jar().toString(),
        "snapshot",
        "-u",
        EPOCH_SNAPSHOT,
        "-b",
        EPOCH.toString(),
        xml);
    BitSet touched = new BitSet();
    try {
      Path img = Path.of(disk.mount(null).diskImage());
      scribble(img, rnd, touched);
      // online show (the daemon's live bitmap) = the granules written = offline after umount
      assertThat(shown(xml)).as("seed %d: online show", seed).isEqualTo(touched);
      assertThat(disk.umount().exit()).isZero();
      assertThat(shown(xml)).as("seed %d: bitmap saved at umount", seed).isEqualTo(touched);

      img = Path.of(disk.mount(null).diskImage());
      scribble(img, rnd, touched);
      PloopProcess.Result snap = PloopProcess.ploop(120, "snapshot", xml);
      assertThat(snap.exit()).as(snap.all()).isZero();
      scribble(img, rnd, touched);
      assertThat(disk.umount().exit()).isZero();
      assertThat(shown(xml))
          .as("seed %d: after a second mount and an online snapshot", seed)
          .isEqualTo(touched);
      // as ploop's test-cbt: deleting the snapshots (merges) keeps the top's bitmap
      Matcher g = Pattern.compile("\\{[0-9a-fA-F-]{36}\\}").matcher(snap.out());
      assertThat(g.find()).as("snapshot GUID in: %s", snap.out()).isTrue();
      for (String guid : List.of(g.group(), EPOCH_SNAPSHOT)) {
        PloopProcess.Result del = PloopProcess.ploop(120, "snapshot-delete", "-u", guid, xml);
        assertThat(del.exit()).as(del.all()).isZero();
        assertThat(shown(xml))
            .as("seed %d: after snapshot-delete -u %s", seed, guid)
            .isEqualTo(touched);
      }
      PloopProcess.Result info =
          PloopProcess.run(
              60,
              "qemu-img",
              "info",
              "-f",
              "parallels",
              PloopProcess.must(
                      60,
                      PloopProcess.javaBin(),
                      "-jar",
                      PloopProcess.jar().toString(),
                      "snapshot-list",
                      "-H",
                      "-o",
                      "fname",
                      xml)
                  .lines()
                  .reduce((a, b) -> b)
                  .orElseThrow()
                  .trim());
      assertThat(info.exit()).as(info.all()).isZero();
      System.out.println(
          "CbtMountIT: seed "
              + seed
              + ", "
              + touched.cardinality()
              + " of "
              + DISK / GRAN
              + " granules dirty, saved, loaded and shown equal");
    } catch (AssertionError | Exception e) {
      throw new AssertionError(
          "CbtMountIT seed=" + seed + ": " + e.getMessage() + "\n" + disk.logTail(), e);
    } finally {
      String cleanup = disk.tearDown(null);
      if (!cleanup.isEmpty()) {
        System.out.println("CbtMountIT: clean-up after failure: " + cleanup);
      }
    }
  }

  /** Seeded writes (forced) and punches ({@code fallocate -p}) on disk.img; records granules. */
  static void scribble(Path img, Random rnd, BitSet touched) throws IOException {
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
      for (int i = 0; i < 30; i++) {
        long off = rnd.nextLong(DISK / 512 - 1024) * 512;
        int len = (1 + rnd.nextInt(600)) * 512;
        byte[] b = new byte[len];
        rnd.nextBytes(b);
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
          ch.write(buf, off + buf.position());
        }
        touched.set((int) (off / GRAN), (int) ((off + len - 1) / GRAN) + 1);
      }
      ch.force(true);
    }
    for (int i = 0; i < 3; i++) {
      long off = rnd.nextLong(DISK / GRAN - 8) * GRAN;
      long len = (1 + rnd.nextInt(4)) * GRAN;
      PloopProcess.must(
          60,
          "fallocate",
          "-p",
          "-o",
          Long.toString(off),
          "-l",
          Long.toString(len),
          img.toString());
      touched.set((int) (off / GRAN), (int) ((off + len - 1) / GRAN) + 1);
    }
  }

  /** Runs {@code ploop cbt show xml} and rebuilds the granule set from ploop's dump format. */
  static BitSet shown(String xml) throws IOException {
    PloopProcess.Result r = PloopProcess.ploop(60, "cbt", "show", xml);
    assertThat(r.exit()).as(r.all()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines.get(2)).isEqualTo("uuid: " + EPOCH);
    assertThat(lines.get(3)).isEqualTo("Granularity: 128");
    long wordsPerPiece = (1 << 20) / 8; // ploop init's 1 MiB clusters
    BitSet out = new BitSet();
    int piece = -1;
    for (String line : lines.subList(4, lines.size())) {
      if (line.startsWith("<")) {
        piece = Integer.parseInt(line.substring(1, line.indexOf('>')));
        if (line.endsWith("\t1")) {
          out.set((int) (piece * wordsPerPiece * 64), (int) ((piece + 1) * wordsPerPiece * 64));
        }
        continue;
      }
      String[] w = line.trim().split(" ");
      long first = (Long.parseLong(w[0], 16) - piece) / 4; // ploop's "offset": i + 4 * word
      for (int k = 1; k < w.length; k++) {
        long v = Long.parseUnsignedLong(w[k], 16);
        long word = piece * wordsPerPiece + first + k - 1;
        for (int bit = 0; bit < 64; bit++) {
          if ((v >>> bit & 1) != 0) {
            out.set((int) (word * 64 + bit));
          }
        }
      }
    }
    return out;
  }
}
