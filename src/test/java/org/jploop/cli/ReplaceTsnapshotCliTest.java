package org.jploop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.jploop.daemon.MountStatus;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.DiskLock;
import org.jploop.testing.Qemu;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ploop replace} offline (what jploop does where ploop 9 exits 38) and its refusals, and the
 * argument errors and refusals of {@code ploop tsnapshot}, {@code mount -c} and {@code umount -c}
 * that come before any mount; a component mount's status (written here for this JVM's own pid, in a
 * private run directory) makes the offline verbs refuse with ploop's "is busy by device(s)" 17 and
 * shows in {@code ploop list}.
 */
class ReplaceTsnapshotCliTest {
  private static final String SNAP = "{11111111-2222-3333-4444-555555555555}";
  @TempDir Path dir;
  @TempDir Path runRoot;
  private Path xml;
  private Path base;
  private String savedRunDir;

  @BeforeEach
  void setUp() {
    savedRunDir = System.getProperty("jploop.run.dir");
    System.setProperty("jploop.run.dir", runRoot.toString());
    base = dir.resolve("root.hds");
    Cli.ok("init", "-s", "16M", "-t", "none", base.toString());
    xml = dir.resolve("DiskDescriptor.xml");
  }

  @AfterEach
  void restore() {
    if (savedRunDir == null) {
      System.clearProperty("jploop.run.dir");
    } else {
      System.setProperty("jploop.run.dir", savedRunDir);
    }
  }

  /** Runs {@code run} with {@code jploop.jar} naming no jar: any daemon start would fail. */
  private Cli.Run withoutJar(java.util.function.Supplier<Cli.Run> run) {
    String saved = System.getProperty("jploop.jar");
    System.setProperty("jploop.jar", dir.resolve("no.jar").toString());
    try {
      return run.get();
    } finally {
      if (saved == null) {
        System.clearProperty("jploop.jar");
      } else {
        System.setProperty("jploop.jar", saved);
      }
    }
  }

  private static void assertFails(Cli.Run r, int code, String text) {
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(code);
    assertThat(r.err()).as(r.toString()).contains(text);
  }

  @Test
  void testReplaceOffline_byLevelUuidAndFile() throws Exception {
    Qemu.io(base, "write -P 0x5a 0 1M");
    Cli.ok("snapshot", "-u", SNAP, xml.toString());
    Path copy = dir.resolve("copy.hds");
    Files.copy(base, copy);
    Cli.Run r = Cli.ok("replace", "-l", "0", "-i", copy.toString(), xml.toString());
    assertThat(r.out())
        .contains(
            "Can't find running ploop device, doing offline replace",
            "Replacing " + base + " with " + copy + " (ro, level 0)");
    assertThat(DiskDescriptor.read(xml).image(SNAP).file()).isEqualTo("copy.hds");
    Cli.ok("check", xml.toString());

    Files.copy(copy, base, StandardCopyOption.REPLACE_EXISTING);
    Cli.ok("replace", "-u", SNAP, "-i", base.toString(), xml.toString());
    assertThat(DiskDescriptor.read(xml).image(SNAP).file()).isEqualTo("root.hds");
    Cli.ok("replace", "-o", base.toString(), "-i", copy.toString());
    assertThat(DiskDescriptor.read(xml).image(SNAP).file()).isEqualTo("copy.hds");

    Files.copy(copy, base, StandardCopyOption.REPLACE_EXISTING);
    byte[] want = Files.readAllBytes(base);
    Cli.ok("replace", "-k", "-l", "0", "-i", base.toString(), xml.toString());
    assertThat(Files.exists(base)).as("renamed over the old file").isFalse();
    assertThat(Files.readAllBytes(copy)).isEqualTo(want);
    assertThat(DiskDescriptor.read(xml).image(SNAP).file()).isEqualTo("copy.hds");
  }

  @Test
  void testReplace_refusals() throws Exception {
    Cli.ok("snapshot", "-u", SNAP, xml.toString());
    Path copy = dir.resolve("copy.hds");
    Files.copy(base, copy);
    String before = Files.readString(xml);
    assertFails(
        Cli.ploop("replace", "-i", copy.toString(), xml.toString()), 38, ReplaceCommand.ONE_OF);
    assertFails(
        Cli.ploop("replace", "-l", "0", "-u", SNAP, "-i", copy.toString(), xml.toString()),
        38,
        ReplaceCommand.ONE_OF);
    assertFails(Cli.ploop("replace", "-l", "0", xml.toString()), 38, "-i");
    assertFails(
        Cli.ploop("replace", "-l", "5", "-i", copy.toString(), xml.toString()),
        38,
        "Invalid level 5");
    assertFails(
        Cli.ploop("replace", "-l", "0", "-f", "qcow2", "-i", copy.toString(), xml.toString()),
        38,
        "Unknown format qcow2");
    assertFails(
        Cli.ploop(
            "replace",
            "-u",
            "{11111111-2222-3333-4444-666666666666}",
            "-i",
            copy.toString(),
            xml.toString()),
        43,
        "Can't find snapshot");
    assertFails(
        Cli.ploop("replace", "-l", "0", "-i", base.toString(), xml.toString()),
        38,
        "already in use");

    Path other = dir.resolve("other.hds");
    Cli.ok(
        "init",
        "-s",
        "32M",
        "-t",
        "none",
        Files.createDirectory(dir.resolve("o")).resolve("r.hds").toString());
    Files.copy(dir.resolve("o/r.hds"), other);
    assertFails(
        Cli.ploop("replace", "-l", "0", "-i", other.toString(), xml.toString()),
        11,
        "does not match");

    Path bad = dir.resolve("bad.hds");
    Files.copy(base, bad);
    try (RandomAccessFile f = new RandomAccessFile(bad.toFile(), "rw")) {
      f.seek(0);
      f.write(new byte[16]); // the signature
    }
    assertFails(Cli.ploop("replace", "-l", "0", "-i", bad.toString(), xml.toString()), 11, "");

    // another filesystem for -k's exit 28: tmpfs /dev/shm where there is one
    Path shm = Path.of("/dev/shm");
    Path outside =
        Files.isDirectory(shm) && Files.isWritable(shm)
            ? Files.createTempFile(shm, "jploop-replace-", ".hds")
            : Files.createTempFile("jploop-replace-", ".hds");
    try {
      Files.copy(base, outside, StandardCopyOption.REPLACE_EXISTING);
      assertFails(
          Cli.ploop("replace", "-l", "0", "-i", outside.toString(), xml.toString()),
          38,
          "is not in " + dir);
      if (!Files.getFileStore(outside).equals(Files.getFileStore(dir))) {
        assertFails(
            Cli.ploop("replace", "-k", "-l", "0", "-i", outside.toString(), xml.toString()),
            28,
            "are on different file systems, can't rename");
      } else {
        System.err.println(
            "ReplaceTsnapshotCliTest: "
                + outside
                + " and "
                + dir
                + " are on one"
                + " filesystem; the exit-28 case (-k across filesystems) is not exercised here");
      }
    } finally {
      Files.deleteIfExists(outside);
    }

    try (DiskLock l = DiskLock.tryAcquire(xml, "test").orElseThrow()) {
      assertFails(
          Cli.ploop("replace", "-l", "0", "-i", copy.toString(), xml.toString()), 17, "in use");
    }
    assertThat(Files.readString(xml)).as("nothing changed").isEqualTo(before);
  }

  @Test
  void testTsnapshot_argumentsAndLock() throws Exception {
    String before = Files.readString(xml);
    assertFails(Cli.ploop("tsnapshot", "-c", "C", xml.toString()), 38, "-u");
    assertFails(Cli.ploop("tsnapshot", "-u", SNAP, xml.toString()), 38, "-c");
    assertFails(
        Cli.ploop("tsnapshot", "-u", "nonsense", "-c", "C", xml.toString()), 38, "Incorrect uuid");
    assertFails(
        Cli.ploop("tsnapshot", "-u", SNAP, "-c", "a/b", xml.toString()),
        38,
        "Invalid component name");
    try (DiskLock l = DiskLock.tryAcquire(xml, "test").orElseThrow()) {
      assertFails(Cli.ploop("tsnapshot", "-u", SNAP, "-c", "C", xml.toString()), 23, "in use");
    }
    assertThat(Files.readString(xml)).isEqualTo(before);

    // the mount fails (-m is no directory; refused before any daemon starts, so no jar is
    // needed): exit 21 and the temporary snapshot is merged back
    assertFails(
        withoutJar(
            () ->
                Cli.ploop(
                    "tsnapshot",
                    "-u",
                    SNAP,
                    "-c",
                    "C",
                    "-m",
                    dir.resolve("nodir").toString(),
                    xml.toString())),
        21,
        "merging it back");
    assertThat(DiskDescriptor.read(xml).images()).hasSize(1);
    assertThat(Files.readString(xml)).doesNotContain("Temporary");
    assertThat(DiskDescriptor.read(xml).shot(SNAP)).isNull();

    Cli.ok("snapshot", "-u", SNAP, xml.toString());
    assertFails(Cli.ploop("tsnapshot", "-u", SNAP, "-c", "C", xml.toString()), 38, "already exist");
    assertFails(Cli.ploop("umount", "-c", "C", xml.toString()), 40, "is not mounted");
    assertFails(Cli.ploop("umount", "-c", "C", "-m", dir.toString()), 38, "needs");
  }

  @Test
  void testComponentMounted_offlineVerbsBusyAndListed() throws Exception {
    Cli.ok("snapshot", "-u", SNAP, xml.toString());
    Path runDir = org.jploop.host.RunPaths.of(xml, "C").runDir();
    Files.createDirectories(runDir);
    new MountStatus(
            xml.toRealPath().toString(),
            ProcessHandle.current().pid(),
            MountStatus.READY,
            true,
            runDir.resolve("fuse").toString(),
            runDir.resolve("fuse/disk.img").toString(),
            null,
            null,
            "/dev/null",
            "now",
            0,
            null,
            0,
            null,
            "now",
            null,
            "C",
            SNAP)
        .write(runDir.resolve("status.json"));
    // a live daemon has its control socket there (MountStatus.daemonAlive)
    Files.writeString(runDir.resolve("control.sock"), "");
    String before = Files.readString(xml);
    assertFails(
        Cli.ploop("snapshot-merge", xml.toString()),
        17,
        "Snapshot " + SNAP + " is busy by device(s): " + runDir.resolve("fuse/disk.img"));
    assertFails(Cli.ploop("snapshot-delete", "-u", SNAP, xml.toString()), 17, "is busy by");
    assertFails(Cli.ploop("compact", xml.toString()), 17, "is busy by");
    Path copy = dir.resolve("copy.hds");
    Files.copy(base, copy);
    assertFails(
        Cli.ploop("replace", "-l", "0", "-i", copy.toString(), xml.toString()), 17, "is busy by");
    assertThat(Files.readString(xml)).isEqualTo(before);
    assertThat(Cli.ok("list").out())
        .contains(runDir.resolve("fuse/disk.img") + "\t" + base + "\tC\n");
    Cli.ok("snapshot", xml.toString()); // changes no delta: allowed

    // a component of the top delta keeps a read-write plain mount away (checked before any
    // daemon starts, so no jar is needed)
    Path topDir = org.jploop.host.RunPaths.of(xml, "T").runDir();
    Files.createDirectories(topDir);
    new MountStatus(
            xml.toRealPath().toString(),
            ProcessHandle.current().pid(),
            MountStatus.READY,
            true,
            topDir.resolve("fuse").toString(),
            topDir.resolve("fuse/disk.img").toString(),
            null,
            null,
            "/dev/null",
            "now",
            0,
            null,
            0,
            null,
            "now",
            null,
            "T",
            null)
        .write(topDir.resolve("status.json"));
    Files.writeString(topDir.resolve("control.sock"), "");
    assertFails(
        withoutJar(() -> Cli.ploop("mount", xml.toString())), 21, "which reads its top delta");
  }
}
