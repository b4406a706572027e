package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code ploop copy} of a mounted disk (256 MiB, ext4) while fio writes into it with {@code
 * --verify}: once to a local file, once through two FIFOs into a receiver process ({@code ploop
 * copy -d}). The stop command ({@code -F}) waits for fio to finish its writes and verification,
 * then freezes the inner filesystem ({@code fsfreeze -f}), so the frozen source is well defined;
 * with it still frozen the copy is compared with {@code disk.img} ({@code qemu-img compare}), then
 * {@code ploop check} and {@code qemu-img check} judge the copy, and it is given a descriptor
 * ({@code restore-descriptor}), served as a device and fsck'ed. Then the receiver killed and the
 * sender killed mid-copy: the other side fails with one line, the source keeps running, and the
 * received file is gone or not an image.
 */
class CopyIT extends MountedDiskBase {

  private String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java") + " -jar " + jar();
  }

  private Process fio() throws Exception {
    return new ProcessBuilder(
            "fio",
            "--name=w",
            "--filename=" + mnt.resolve("fio.dat"),
            "--size=48M",
            "--rw=randwrite",
            "--bs=64k",
            "--verify=crc32c",
            "--direct=1",
            "--randseed=" + seed,
            "--loops=3")
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("fio.log").toFile())
        .start();
  }

  /** -F: wait for fio (its writes and its verification), then freeze the inner filesystem. */
  private String stopCommand(Process fio) {
    return "while kill -0 " + fio.pid() + " 2>/dev/null; do sleep 0.05; done; fsfreeze -f " + mnt;
  }

  private Path diskImage() throws Exception {
    return Path.of(MountStatus.forDescriptor(xml).orElseThrow().diskImage());
  }

  private void judgeCopy(Path copy) throws Exception {
    try {
      Run cmp =
          sh(
              300,
              "qemu-img",
              "compare",
              "-f",
              "raw",
              diskImage().toString(),
              "-F",
              "parallels",
              copy.toString());
      assertThat(cmp.exitCode()).as("qemu-img compare: %s %s", cmp.out(), cmp.err()).isZero();
    } finally {
      sh(60, "fsfreeze", "-u", mnt.toString());
    }
    ploop("check", copy.toString()).ok();
    qemuCheckClean(copy);
    Path d2 = Files.createDirectory(dir.resolve("judge-" + copy.getFileName()));
    Path moved = Files.move(copy, d2.resolve("root.hds"));
    ploop("restore-descriptor", d2.toString(), moved.toString()).ok();
    SpaceFixture.fsckThroughDevice(d2.resolve("DiskDescriptor.xml"), SpaceFixture.freshDevice(rnd));
  }

  @Test
  void liveCopyToAFileAndThroughAPipeEqualsTheFrozenSource() throws Exception {
    long t0 = System.currentTimeMillis();
    SpaceFixture.initDisk(dir, "256M");
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();

    Process fio = fio();
    Thread.sleep(500);
    Path local = dir.resolve("local.hdd");
    Run r = ploop("copy", "-s", xml.toString(), "-F", stopCommand(fio), "-d", local.toString());
    System.out.println("copy -d FILE:\n" + r.out() + r.err());
    r.ok();
    assertThat(fio.waitFor())
        .as("fio --verify on the source: %s", Files.readString(dir.resolve("fio.log")))
        .isZero();
    assertThat(r.out())
        .containsPattern("first pass: \\d+ clusters")
        .containsPattern("frozen \\d+ ms");
    judgeCopy(local);

    fio = fio();
    Thread.sleep(500);
    Path piped = dir.resolve("piped.hdd");
    String script =
        "set -e; cd "
            + dir
            + "; mkfifo s2r r2s; "
            + java()
            + " copy -d "
            + piped
            + " < s2r > r2s 2> recv.err & R=$!; "
            + java()
            + " copy -s "
            + xml
            + " -F '"
            + stopCommand(fio)
            + "' -o 3 3>s2r < r2s; wait $R; cat recv.err";
    Run p = sh(600, "bash", "-c", script);
    System.out.println("copy -o FD | copy -d FILE:\n" + p.out() + p.err());
    p.ok();
    assertThat(fio.waitFor()).isZero();
    judgeCopy(piped);
    System.out.println("CopyIT live copies: " + (System.currentTimeMillis() - t0) + " ms");
  }

  @Test
  void aKilledReceiverOrSenderFailsTheOtherSideAndTheSourceRuns() throws Exception {
    SpaceFixture.initDisk(dir, "256M");
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    Files.write(mnt.resolve("a"), randomBytes(rnd, 8 << 20));
    sh(60, "sync").ok();
    for (String victim : List.of("R", "S")) {
      Path f = dir.resolve("k" + victim + ".hdd");
      // the stop command sleeps: the kill lands between the live and the frozen passes
      String script =
          "cd "
              + dir
              + "; rm -f s2r r2s; mkfifo s2r r2s; "
              + java()
              + " copy -d "
              + f
              + " < s2r > r2s 2> recv.err & R=$!; "
              + java()
              + " copy -s "
              + xml
              + " -F 'sleep 3' -o 3 3>s2r < r2s 2> send.err & S=$!; sleep 2; kill -9 $"
              + victim
              + "; wait $S; echo send=$?; wait $R; echo recv=$?; cat send.err recv.err";
      Run p = sh(120, "bash", "-c", script);
      System.out.println("kill -9 " + victim + ":\n" + p.out());
      if (victim.equals("R")) {
        // 7: the write hit the closed pipe; 13: the reply never came (where the kill fell)
        assertThat(p.out())
            .containsPattern("send=(7|13)\n")
            .contains("recv=137")
            .containsPattern("Can't write to the copy stream|No reply from the receiver");
        // the killed receiver's file is no image: its signature is the partial mark
        byte[] head = Files.readAllBytes(f);
        assertThat(new String(head, 0, 16, StandardCharsets.US_ASCII))
            .isEqualTo("jploop-copy-part");
        assertThat(sh(60, "qemu-img", "check", "-f", "parallels", f.toString()).exitCode())
            .isNotZero();
      } else {
        assertThat(p.out()).contains("send=137").contains("recv=6");
        assertThat(f).doesNotExist();
      }
      // the source keeps running: writable, its data intact
      Files.write(mnt.resolve("b" + victim), randomBytes(rnd, 1 << 20));
      sh(60, "sync").ok();
    }
    umountAndJudge();
  }

  @Test
  void aFullDiskOnTheReceiverFailsBothSidesWithWriteErrorAndLeavesNoFile() throws Exception {
    SpaceFixture.initDisk(dir, "256M");
    ploop("mount", "-m", mnt.toString(), xml.toString()).ok();
    Files.write(mnt.resolve("a"), randomBytes(rnd, 24 << 20));
    sh(60, "sync").ok();
    Path small = Files.createDirectory(dir.resolve("small"));
    sh(60, "mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", small.toString()).ok();
    try {
      Path f = small.resolve("copy.hdd");
      String script =
          "cd "
              + dir
              + "; mkfifo s2r r2s; "
              + java()
              + " copy -d "
              + f
              + " < s2r > r2s 2> recv.err & R=$!; "
              + java()
              + " copy -s "
              + xml
              + " -o 3 3>s2r < r2s 2> send.err; echo send=$?; wait $R; echo recv=$?;"
              + " cat send.err recv.err";
      Run p = sh(300, "bash", "-c", script);
      System.out.println("full receiver disk:\n" + p.out());
      assertThat(p.out()).contains("send=7").contains("recv=7").contains("Can't write " + f);
      assertThat(f).doesNotExist();
      try (var s = Files.list(small)) {
        assertThat(s.toList()).isEmpty();
      }
    } finally {
      sh(60, "umount", small.toString());
    }
    Files.write(mnt.resolve("b"), randomBytes(rnd, 1 << 20));
    umountAndJudge();
  }
}
