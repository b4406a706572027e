package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.BitSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The CBT of a mounted disk (ploop's test/test-cbt, plus the online epoch): after an offline {@code
 * snapshot -b U}, a seeded writer's 4 KiB writes into {@code disk.img} set exactly the 64 KiB
 * granules they touch; {@code ploop-cbt show} online = offline after umount = after {@code
 * snapshot-delete} of that snapshot. Then online {@code snapshot -b U2}: the old top keeps the
 * ending epoch's bits under U, the live bitmap restarts empty as U2 and tracks the next writes, and
 * umount saves it; {@code drop} online stops it (show: exit 44).
 */
class CbtOnlineIT extends MountedDiskBase {
  private static final String U = "11111111-2222-3333-4444-555555555555";
  private static final String U2 = "66666666-7777-8888-9999-aaaaaaaaaaaa";
  private static final Pattern CREATED = Pattern.compile("ploop snapshot (\\S+) has been");

  private Path diskImage() throws Exception {
    return Path.of(MountStatus.forDescriptor(xml).orElseThrow().diskImage());
  }

  /** Writes {@code n} seeded 4 KiB blocks into disk.img; returns the 64 KiB granules touched. */
  private BitSet write(int n) throws Exception {
    BitSet g = new BitSet();
    Path img = diskImage();
    for (int i = 0; i < n; i++) {
      long off = (long) rnd.nextInt((256 << 20) / 4096) * 4096;
      writeAt(img, off, randomBytes(rnd, 4096));
      g.set((int) (off >> 16));
    }
    return g;
  }

  /** Parses {@code ploop-cbt show}: the uuid and the set bits (one piece: a 256 MiB disk). */
  private static BitSet bits(String show) {
    BitSet b = new BitSet();
    int word = 0;
    for (String line : show.split("\n")) {
      if (line.matches("[0-9a-f]{8}( [0-9a-f]+)+")) {
        String[] w = line.split(" ");
        for (int i = 1; i < w.length; i++, word++) {
          long v = Long.parseUnsignedLong(w[i], 16);
          for (int k = 0; k < 64; k++) {
            if ((v & (1L << k)) != 0) {
              b.set(word * 64 + k);
            }
          }
        }
      }
    }
    return b;
  }

  private String show(String... target) throws Exception {
    String[] args = new String[target.length + 2];
    args[0] = "cbt";
    args[1] = "show";
    System.arraycopy(target, 0, args, 2, target.length);
    return ploop(args).ok().out();
  }

  @Test
  void onlineEqualsOfflineEqualsTheWritesAndSnapshotBStartsANewEpoch() throws Exception {
    SpaceFixture.initDisk(dir, "256M");
    Run snap = ploop("snapshot", "-b", U, xml.toString()).ok();
    Matcher m = CREATED.matcher(snap.out());
    assertThat(m.find()).as(snap.out()).isTrue();
    String firstSnapshot = m.group(1);
    ploop("mount", xml.toString()).ok();
    BitSet written = write(120);

    String online = show(xml.toString());
    assertThat(online).contains("uuid: " + U, "Granularity: 128");
    assertThat(bits(online)).as("online show vs writer, seed %d", seed).isEqualTo(written);
    ploop("umount", xml.toString()).ok();
    assertThat(show(xml.toString())).as("offline after umount, seed %d", seed).isEqualTo(online);
    ploop("snapshot-delete", "-u", firstSnapshot, xml.toString()).ok();
    assertThat(show(xml.toString())).as("after snapshot-delete, seed %d", seed).isEqualTo(online);

    ploop("mount", xml.toString()).ok();
    BitSet more = write(40);
    more.or(written);
    Run online2 = ploop("snapshot", "-b", U2, xml.toString()).ok();
    assertThat(online2.out()).contains("Create snapshot CBT uuid=" + U2);
    m = CREATED.matcher(online2.out());
    assertThat(m.find()).isTrue();
    org.jploop.format.descriptor.DiskDescriptor dd =
        org.jploop.format.descriptor.DiskDescriptor.read(xml);
    String oldTop =
        dd.fileOf(xml, dd.image(org.jploop.format.descriptor.Guid.parse(m.group(1)))).toString();
    Run oldShow = ploop("cbt", "show", "--image", oldTop).ok();
    assertThat(oldShow.out()).contains("uuid: " + U);
    assertThat(bits(oldShow.out())).as("ended epoch in the old top, seed %d", seed).isEqualTo(more);
    String fresh = show(xml.toString());
    assertThat(fresh).contains("uuid: " + U2);
    assertThat(bits(fresh).isEmpty()).as(fresh).isTrue();
    BitSet next = write(30);
    assertThat(bits(show(xml.toString()))).as("new epoch, seed %d", seed).isEqualTo(next);
    ploop("umount", xml.toString()).ok();
    String saved = show(xml.toString());
    assertThat(saved).contains("uuid: " + U2);
    assertThat(bits(saved)).isEqualTo(next);

    ploop("mount", xml.toString()).ok();
    ploop("cbt", "drop", xml.toString()).ok();
    assertThat(ploop("cbt", "show", xml.toString()).exitCode()).isEqualTo(44);
    ploop("umount", xml.toString()).ok();
    assertThat(show(xml.toString())).isEmpty();
  }
}
