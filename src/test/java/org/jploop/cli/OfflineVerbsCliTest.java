package org.jploop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.DiskLock;
import org.jploop.testing.Qemu;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command lines of the offline verbs issue 15 adds: {@code merge}, {@code grow DELTA}, {@code
 * restore-descriptor}, {@code check -S/-D}, {@code encrypt}, {@code init -k} and {@code volume},
 * with ploop's messages and exit codes for wrong use; the operations themselves are tested in the
 * image, check and volume packages.
 */
class OfflineVerbsCliTest {
  @TempDir Path dir;

  private Path disk() {
    Cli.ok("init", "-s", "64M", "-t", "none", dir.resolve("root.hds").toString());
    return dir.resolve(DiskDescriptor.FILE_NAME);
  }

  private static void assertFails(Cli.Run r, int code, String text) {
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(code);
    assertThat(r.err()).contains(text);
    assertThat(r.err()).doesNotContain("\tat org.jploop");
  }

  @Test
  void testMerge_usage() {
    Path xml = disk();
    assertFails(
        Cli.ploop("merge", xml.toString()),
        ExitCode.PARAM,
        "Please use ploop snapshot-merge command");
    assertFails(
        Cli.ploop("merge", dir.resolve("root.hds").toString()),
        ExitCode.PARAM,
        "Usage: ploop merge [-f raw] [-n NEW_DELTA] DELTAS_TO_MERGE BASE_DELTA");
    assertFails(Cli.ploop("merge", "-d", "/dev/ploop0"), ExitCode.PARAM, "no ploop devices");
    assertFails(Cli.ploop("merge", "-f", "qcow", "a", "b"), ExitCode.PARAM, "Bad -f argument");
    assertFails(
        Cli.ploop("merge", dir.resolve("x.hds").toString(), dir.resolve("root.hds").toString()),
        ExitCode.OPEN,
        "No such file or directory");
  }

  @Test
  void testGrowDelta_andDevice() throws Exception {
    disk();
    Path img = dir.resolve("root.hds");
    assertFails(
        Cli.ploop("grow", "-s", "128M", "-d", "/dev/ploop0", img.toString()),
        ExitCode.PARAM,
        "no ploop devices");
    try (DiskLock l =
        DiskLock.tryAcquire(dir.resolve(DiskDescriptor.FILE_NAME), "mount").orElseThrow()) {
      assertFails(Cli.ploop("grow", "-s", "128M", img.toString()), ExitCode.EBUSY, "is in use");
    }
    Cli.ok("grow", "-s", "128M", img.toString());
    assertThat(DiskDescriptor.read(dir.resolve(DiskDescriptor.FILE_NAME)).diskSizeSectors())
        .as("the descriptor is not changed by a bare grow, as in ploop")
        .isEqualTo(131072);
  }

  @Test
  void testGrowDelta_withoutDescriptor() throws Exception {
    Path img = dir.resolve("lone.hds");
    Qemu.create(img, 64L << 20, 1 << 20);
    Cli.Run r = Cli.ok("grow", "-s", "128M", img.toString());
    assertThat(r.out()).isEqualTo("Grown to 262144 sectors\n");
    assertThat(Qemu.virtualSize(img)).isEqualTo(128L << 20);
    Path raw = dir.resolve("lone.raw");
    Files.write(raw, new byte[4096]);
    Cli.ok("grow", "-f", "raw", "-s", "1M", raw.toString());
    assertThat(Files.size(raw)).isEqualTo(1 << 20);
  }

  @Test
  void testRestoreDescriptor_usageAndExisting() throws Exception {
    Path xml = disk();
    assertFails(
        Cli.ploop("restore-descriptor", dir.toString()),
        ExitCode.PARAM,
        "Usage: ploop restore-descriptor [-f FORMAT] [-b BLOCKSIZE] IMAGE_DIR BASE_DELTA");
    assertFails(
        Cli.ploop("restore-descriptor", "-b", "x", dir.toString(), "a"),
        ExitCode.PARAM,
        "Usage: ploop restore-descriptor");
    assertFails(
        Cli.ploop("restore-descriptor", dir.toString(), dir.resolve("root.hds").toString()),
        ExitCode.EBUSY,
        "Can't create " + xml.toRealPath() + ": File exists");
    Files.delete(xml);
    Cli.ok("restore-descriptor", dir.toString(), dir.resolve("root.hds").toString());
    assertThat(DiskDescriptor.read(xml).diskSizeSectors()).isEqualTo(131072);
  }

  @Test
  void testEncryptAndInitK_refusedNamingWhatIsMissing() throws Exception {
    Path xml = disk();
    String before = Files.readString(xml);
    assertFails(Cli.ploop("encrypt", xml.toString()), ExitCode.PARAM, "Keyid is not specified");
    Cli.Run r = Cli.ploop("encrypt", "-k", "key1", xml.toString());
    assertFails(r, ExitCode.CRYPT, "encryption needs dm-crypt");
    if (!Files.exists(Encryption.DM_CONTROL)) {
      assertThat(r.err()).contains("device-mapper (/dev/mapper/control is missing)");
    }
    assertThat(r.err().strip()).doesNotContain("\n");
    assertThat(Files.readString(xml)).isEqualTo(before);
    Path other = Files.createDirectory(dir.resolve("k"));
    assertFails(
        Cli.ploop("init", "-s", "1G", "-k", "key1", other.resolve("root.hds").toString()),
        ExitCode.CRYPT,
        "ploop init -k key1: encryption needs dm-crypt");
    try (Stream<Path> s = Files.list(other)) {
      assertThat(s).isEmpty();
    }
    assertFails(
        Cli.ploop("volume", "create", "-s", "1G", "-k", "key1", dir.resolve("vol").toString()),
        ExitCode.CRYPT,
        "dm-crypt");
    assertThat(dir.resolve("vol")).doesNotExist();
  }

  @Test
  void testCheckSparseAndDefrag() throws Exception {
    disk();
    Path img = dir.resolve("root.hds");
    Qemu.io(img, "write -P 0x11 0 4M");
    Qemu.Result p =
        Qemu.run(
            "fallocate", "-p", "-o", Long.toString((2 << 20) + 4096), "-l", "8192", img.toString());
    assertThat(p.exitCode()).isZero();
    Cli.Run ro = Cli.ok("check", "-r", "-S", img.toString());
    assertThat(ro.out()).contains("is sparse (1 holes); not repaired (-r)");
    Cli.Run s = Cli.ok("check", "-S", img.toString());
    assertThat(s.out()).contains("Filling hole at start=2101248 len=8192");
    Qemu.io(img, "discard 1M 1M");
    Cli.ok("check", "-D", dir.resolve(DiskDescriptor.FILE_NAME).toString());
    assertThat(Qemu.check(img).exitCode()).isZero();
  }

  @Test
  void testVolume_usage() {
    assertFails(
        Cli.ploop("volume"),
        ExitCode.PARAM,
        "Usage: ploop-volume {create|clone|snapshot|delete|switch} path");
    assertFails(
        Cli.ploop("volume", "create", "-s", "1G", "-t", "xfs", dir.resolve("v").toString()),
        ExitCode.PARAM,
        "Incorrect file system type specified: xfs");
    Path xml = disk();
    assertFails(
        Cli.ploop("volume", "snapshot", dir.toString(), dir.resolve("s").toString()),
        ExitCode.PARAM,
        "Volume management is prohibited on non volume layout");
    assertThat(xml).exists();
  }

  @Test
  void testReadOnlyVolume_plainVerbsRefused() throws Exception {
    Path vol = dir.resolve("vol1");
    Path snap = dir.resolve("snap1");
    Cli.ok("volume", "create", "-t", "none", "-s", "64M", vol.toString());
    assertThat(vol.resolve("image.hds")).exists();
    Cli.Run s = Cli.ok("volume", "snapshot", vol.toString(), snap.toString());
    String snapXml = snap.resolve(DiskDescriptor.FILE_NAME).toString();
    String before = Files.readString(Path.of(snapXml));
    for (String[] verb :
        new String[][] {
          {"snapshot"},
          {"resize", "-s", "128M"},
          {"grow", "-s", "128M"},
          {"compact"},
          {"convert", "-v", "1"}
        }) {
      String[] args = Arrays.copyOf(verb, verb.length + 1);
      args[verb.length] = snapXml;
      assertFails(Cli.ploop(args), ExitCode.PARAM, "is a read-only snapshot volume");
    }
    assertThat(Files.readString(Path.of(snapXml))).isEqualTo(before);
    assertFails(
        Cli.ploop("snapshot-merge", vol.resolve(DiskDescriptor.FILE_NAME).toString()),
        ExitCode.PARAM,
        "belongs to a parent volume");
    assertFails(
        Cli.ploop("volume", "snapshot", snap.toString(), dir.resolve("x").toString()),
        ExitCode.PARAM,
        "Creating a snapshot from snapshot is prohibited");
    Cli.Run info = Cli.ploop("volume", "info", vol.toString());
    assertThat(info.out()).isEqualTo("{\n  \"size\":1048576\n}\n");
    Cli.Run tree = Cli.ploop("volume", "tree", snap.toString());
    assertThat(tree.out())
        .isEqualTo(
            "{\n  \"path\":"
                + VolumeCommand.jsonString(snap.toString())
                + ",\n  \"children\":[\n    {\n      \"path\":"
                + VolumeCommand.jsonString(vol.toRealPath().toString())
                + "\n    }\n  ]\n}\n");
    assertThat(VolumeCommand.jsonString("/a \"b\"")).isEqualTo("\"\\/a \\\"b\\\"\"");
  }

  /**
   * A clone of a read-write volume grows from a snapshot inside that volume: plain verbs on the
   * volume must not merge, delete, convert or move that snapshot's image (before, snapshot-merge
   * merged the volume's later writes into it and the clone's descriptor named a snapshot that was
   * gone). Once the clone is deleted they work again.
   */
  @Test
  void testCloneOfAWritableVolume_itsBaseIsKept() throws Exception {
    Path vol = dir.resolve("vol1");
    Path clone = dir.resolve("vol2");
    Cli.ok("volume", "create", "-t", "none", "-s", "64M", vol.toString());
    Qemu.io(vol.resolve("image.hds"), "write -P 0x11 0 2M");
    Cli.ok("volume", "clone", vol.toString(), clone.toString());
    Path xml = vol.resolve(DiskDescriptor.FILE_NAME);
    DiskDescriptor d = DiskDescriptor.read(xml);
    String base =
        DiskDescriptor.read(clone.resolve(DiskDescriptor.FILE_NAME)).volume().snapshotGuid();
    assertThat(d.shot(base)).isNotNull();
    Qemu.io(d.fileOf(xml, d.image(d.topGuid())), "write -P 0x22 0 1M");
    String before = Files.readString(xml);
    for (String[] verb :
        new String[][] {
          {"snapshot-merge"},
          {"snapshot-merge", "-A"},
          {"snapshot-delete", "-u", base},
          {"convert", "-v", "1"}
        }) {
      String[] args = Arrays.copyOf(verb, verb.length + 1);
      args[verb.length] = xml.toString();
      assertFails(
          Cli.ploop(args), ExitCode.PARAM, "is the base of the child volume " + clone.toRealPath());
      assertThat(Files.readString(xml)).as(String.join(" ", verb)).isEqualTo(before);
    }
    Path baseFile = d.fileOf(xml, d.image(base));
    try (RandomAccessFile f = new RandomAccessFile(baseFile.toFile(), "rw")) {
      f.setLength(f.length() + (1 << 20)); // preallocated tail: compact or -D would cut it
    }
    Path copy = Files.copy(baseFile, dir.resolve("base-before"));
    Cli.ok("compact", xml.toString());
    Cli.Run defrag = Cli.ok("check", "-D", xml.toString());
    assertThat(defrag.out())
        .contains(baseFile + ": not defragmented: a child volume grows from it");
    assertThat(Files.mismatch(baseFile, copy))
        .as("compact and check -D leave it alone")
        .isEqualTo(-1L);
    Cli.ok("check", clone.resolve(DiskDescriptor.FILE_NAME).toString());

    Cli.ok("volume", "delete", clone.toString());
    Cli.ok("snapshot-merge", xml.toString());
    assertThat(DiskDescriptor.read(xml).images()).hasSize(1);
  }
}
