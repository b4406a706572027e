package org.jploop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageHeader;
import org.jploop.io.DiskLock;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.testing.Qemu;
import org.jploop.testing.TestImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Tests for the init, info and check verbs through {@link PloopCli#newCommandLine}. */
class CliTest {
  @TempDir Path dir;

  Path image() {
    return dir.resolve("root.hds");
  }

  Path xml() {
    return dir.resolve("DiskDescriptor.xml");
  }

  @Test
  void testInit_10G_thenQemuAndInfo() throws IOException {
    Cli.Run r = Cli.ploop("init", "-s", "10G", "-t", "none", image().toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out())
        .contains("Creating delta " + image() + " bs=2048 size=20971520 sectors v2")
        .contains("Storing ");
    assertThat(Files.size(image())).isEqualTo(1 << 20);
    assertThat(Qemu.check(image()).exitCode()).isZero();
    assertThat(Qemu.virtualSize(image())).isEqualTo(10L << 30);

    Cli.Run s = Cli.ploop("info", "-s", xml().toString());
    assertThat(s.exitCode()).as(s.toString()).isZero();
    assertThat(s.out()).isEqualTo("size:\t\t20971520\nblocksize:\t2048\nfmt_version:\t2\n");
    Cli.Run text = Cli.ploop("info", xml().toString());
    assertThat(text.out())
        .contains("size:\t\t20971520 sectors (10.0 GiB)")
        .contains("blocksize:\t2048 sectors (1.0 MiB)")
        .contains("mounted:\tno")
        .contains("0 clusters allocated")
        .contains("file 1048576 bytes")
        .contains("clean");
  }

  @Test
  void testInit_unknownFilesystemRefusedAndNothingCreated() {
    Cli.Run r = Cli.ploop("init", "-s", "1G", "-t", "btrfs", image().toString());
    assertThat(r.exitCode()).isEqualTo(ExitCode.PARAM);
    assertThat(r.err().strip()).contains("Unknown filesystem type: btrfs").doesNotContain("\n");
    assertThat(image()).doesNotExist();
    assertThat(xml()).doesNotExist();
  }

  /**
   * The default ext4 goes through a mount daemon started from the jploop jar. In-process (classes
   * directory, no jar) that step fails, and init must remove the image and descriptor it made. The
   * successful path is covered by the mount tests (MountIT, SeedScenarioIT).
   */
  @Test
  void testInit_filesystemStepFailureRemovesImageAndDescriptor() {
    Cli.Run r = Cli.ploop("init", "-s", "1G", image().toString());
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.err().strip()).contains("not running from a jar").doesNotContain("\n");
    assertThat(image()).doesNotExist();
    assertThat(xml()).doesNotExist();
  }

  @Test
  void testInit_refusesExistingDescriptorWithExit17() throws IOException {
    Files.writeString(xml(), "keep");
    Cli.Run r = Cli.ploop("init", "-s", "1G", "-t", "none", image().toString());
    assertThat(r.exitCode()).isEqualTo(ExitCode.EBUSY);
    assertThat(r.err().strip()).isEqualTo("Can't create " + xml().toRealPath() + ": File exists");
    assertThat(Files.readString(xml())).isEqualTo("keep");
    assertThat(image()).doesNotExist();
  }

  @Test
  void testInit_refusesExistingImageWithExit38() throws IOException {
    Files.writeString(image(), "keep");
    Cli.Run r = Cli.ploop("init", "-s", "1G", "-t", "none", image().toString());
    assertThat(r.exitCode()).isEqualTo(ExitCode.PARAM);
    assertThat(r.err()).contains("Can't create ").contains("root.hds: File exists");
    assertThat(Files.readString(image())).isEqualTo("keep");
    assertThat(xml()).doesNotExist();
  }

  @Test
  void testInit_badArguments() {
    String img = image().toString();
    assertError(
        Cli.ploop("init", "-s", "1G", "-b", "100", "-t", "none", img),
        ExitCode.PARAM,
        "Incorrect blocksize specified: 100");
    assertError(
        Cli.ploop("init", "-s", "1G", "-b", "262144", "-t", "none", img),
        ExitCode.PARAM,
        "Incorrect blocksize specified: 262144");
    assertError(
        Cli.ploop("init", "-s", "1G", "-f", "qcow", "-t", "none", img),
        ExitCode.PARAM,
        "Bad -f argument: qcow");
    assertError(
        Cli.ploop("init", "-s", "1G", "-v", "3", "-t", "none", img),
        ExitCode.PARAM,
        "Invalid -v argument: 3");
    assertError(
        Cli.ploop("init", "-s", "1X", "-t", "none", img),
        ExitCode.PARAM,
        "ERROR: Invalid argument for option -s: 1X");
    assertError(
        Cli.ploop("init", "-s", "0", "-t", "none", img),
        ExitCode.PARAM,
        "ERROR: Invalid argument for option -s: 0");
    assertError(
        Cli.ploop("init", "-s", "1G", "-t", "btrfs", img),
        ExitCode.PARAM,
        "Unknown filesystem type: btrfs");
    assertThat(image()).doesNotExist();
    assertThat(xml()).doesNotExist();
  }

  @Test
  void testInit_plainSectorsRoundedToCluster() {
    assertThat(
            Cli.ploop("init", "-s", "1000", "-b", "64", "-t", "none", image().toString())
                .exitCode())
        .isZero();
    assertThat(Cli.ploop("info", "-s", image().toString()).out())
        .isEqualTo("size:\t\t1024\nblocksize:\t64\nfmt_version:\t2\n");
  }

  @Test
  void testInit_v1PreallocatedAndRaw() throws IOException {
    assertThat(
            Cli.ploop(
                    "init",
                    "-s",
                    "16M",
                    "-v",
                    "1",
                    "-f",
                    "preallocated",
                    "-t",
                    "none",
                    image().toString())
                .exitCode())
        .isZero();
    Cli.Run info = Cli.ploop("info", "--json", xml().toString());
    JsonNode j = new ObjectMapper().readTree(info.out());
    assertThat(j.get("fmt_version").asInt()).isEqualTo(1);
    assertThat(j.get("deltas").get(0).get("clusters_allocated").asLong()).isEqualTo(16);
    assertThat(Qemu.check(image()).exitCode()).isZero();

    Path rawDir = Files.createDirectory(dir.resolve("raw"));
    Cli.Run raw =
        Cli.ploop(
            "init", "-s", "4M", "-f", "raw", "-t", "none", rawDir.resolve("disk.raw").toString());
    assertThat(raw.exitCode()).as(raw.toString()).isZero();
    assertThat(Files.size(rawDir.resolve("disk.raw"))).isEqualTo(4 << 20);
    Cli.Run rawInfo = Cli.ploop("info", "--json", rawDir.resolve("DiskDescriptor.xml").toString());
    assertThat(rawInfo.exitCode()).as(rawInfo.toString()).isZero();
    JsonNode rj = new ObjectMapper().readTree(rawInfo.out());
    assertThat(rj.get("deltas").get(0).get("type").asText()).isEqualTo("Plain");
    assertThat(rj.get("size_sectors").asLong()).isEqualTo(8192);
  }

  @Test
  void testInfoJson_fieldsForAChain() throws IOException {
    Random rnd = new Random(7);
    Files.copy(Path.of("DiskDescriptor-samples/base-2-snapshots.xml"), xml());
    TestImage base = TestImage.create(dir.resolve("root.hds"), FormatVersion.V2, 20971520, 2048);
    base.allocate(0, rnd);
    base.allocate(9, rnd);
    TestImage.create(
            dir.resolve("root.hds.{3f0d5c1a-2b7e-4c55-9f3e-1d2c3b4a5e6f}"),
            FormatVersion.V2,
            20971520,
            2048)
        .allocate(1, rnd);
    TestImage.create(
        dir.resolve("root.hds.{7e4b2a90-1c3d-4e5f-8a9b-0c1d2e3f4a5b}"),
        FormatVersion.V2,
        20971520,
        2048);
    Cli.Run r = Cli.ploop("info", "--json", xml().toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertThat(j.get("size_bytes").asLong()).isEqualTo(10L << 30);
    assertThat(j.get("cluster_bytes").asLong()).isEqualTo(1 << 20);
    assertThat(j.get("mount").get("mounted").asBoolean()).isFalse();
    JsonNode deltas = j.get("deltas");
    assertThat(deltas).hasSize(3);
    assertThat(deltas.get(0).get("guid").asText())
        .isEqualTo("{9c1b6f0e-6c3c-4d43-8d2e-0a9a3c5b7e11}");
    assertThat(deltas.get(0).get("clusters_allocated").asLong()).isEqualTo(2);
    assertThat(deltas.get(0).get("file_bytes").asLong()).isEqualTo(3 << 20);
    assertThat(deltas.get(0).get("bytes_on_disk").asLong()).isGreaterThanOrEqualTo(2 << 20);
    assertThat(deltas.get(1).get("clusters_allocated").asLong()).isEqualTo(1);
    assertThat(deltas.get(2).get("guid").asText())
        .isEqualTo("{5fbaabe3-6958-40ff-92a7-860e329aab41}");
    assertThat(deltas.get(2).get("in_use").asBoolean()).isFalse();
  }

  @Test
  void testMountedDisk_infoSaysSoAndCheckRefuses() throws IOException {
    assertThat(Cli.ploop("init", "-s", "1G", "-t", "none", image().toString()).exitCode()).isZero();
    Optional<DiskLock> lock = DiskLock.tryAcquire(xml(), "mount /mnt/test");
    assertThat(lock).isPresent();
    try (java.nio.channels.FileChannel ch =
        java.nio.channels.FileChannel.open(image(), java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.allocate(1), (3 << 20) - 1); // a preallocated-looking tail
    }
    try (DiskLock held = lock.get()) {
      Cli.Run info = Cli.ploop("info", xml().toString());
      assertThat(info.out())
          .contains(
              "mounted:\tyes, in use by pid " + ProcessHandle.current().pid() + " mount /mnt/test")
          .doesNotContain("warning");
      Cli.Run check = Cli.ploop("check", xml().toString());
      assertThat(check.exitCode()).isEqualTo(ExitCode.PLOOPINUSE);
      assertThat(check.err().strip())
          .isEqualTo(
              xml()
                  + ": Can't check, in use by pid "
                  + ProcessHandle.current().pid()
                  + " mount /mnt/test");
      Cli.Run repair = Cli.ploop("check", "-f", image().toString());
      assertThat(repair.exitCode()).isEqualTo(ExitCode.PLOOPINUSE);
      Cli.Run readOnly = Cli.ploop("check", "-c", image().toString());
      assertThat(readOnly.exitCode()).as(readOnly.toString()).isZero();
    }
    assertThat(Cli.ploop("check", xml().toString()).exitCode()).isZero();
    assertThat(Cli.ploop("info", xml().toString()).out())
        .contains("mounted:\tno")
        .contains(
            "warning: "
                + image()
                + ": offset 1048576: 2097152 bytes after the last used"
                + " cluster are unused");
  }

  @Test
  void testCheckDescriptor_dropsInUseOfCleanImage() throws IOException {
    assertThat(Cli.ploop("init", "-s", "1G", "-t", "none", image().toString()).exitCode()).isZero();
    TestImage.create(dir.resolve("unused.hds"), FormatVersion.V2, 2048, 2048);
    try (FileBlockFile f = FileBlockFile.open(image(), false)) {
      org.jploop.io.ImageWriter.writeHeader(
          f, ImageReader.readHeader(f).withDiskInUse(ImageHeader.IN_USE));
    }
    assertThat(Qemu.check(image()).exitCode()).isEqualTo(2);
    assertThat(Cli.ploop("check", image().toString()).exitCode()).isEqualTo(ExitCode.PLOOPINUSE);
    Cli.Run r = Cli.ploop("check", xml().toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out()).contains("in-use flag dropped");
    try (FileBlockFile f = FileBlockFile.open(image(), true)) {
      ImageHeader h = ImageReader.readHeader(f);
      assertThat(h.diskInUse()).isZero();
      assertThat(h.flags()).isZero();
    }
    assertThat(Qemu.check(image()).exitCode()).isZero();
  }

  @Test
  void testErrors_oneLineNoStackTraceUnlessVerbose() throws IOException {
    Cli.Run missing = Cli.ploop("info", dir.resolve("nope.hds").toString());
    assertThat(missing.exitCode()).isEqualTo(ExitCode.OPEN);
    assertThat(missing.err().strip())
        .isEqualTo(dir.resolve("nope.hds") + ": No such file or directory");
    Files.writeString(xml(), "<Virtuozzo_disk_image><Disk_Parameters>");
    Cli.Run bad = Cli.ploop("check", xml().toString());
    assertThat(bad.exitCode()).isEqualTo(ExitCode.DISKDESCR);
    assertThat(bad.err().strip())
        .startsWith(xml() + ": malformed XML at line 1")
        .doesNotContain("\n");
    Cli.Run badInfo = Cli.ploop("info", xml().toString());
    assertThat(badInfo.exitCode()).isEqualTo(ExitCode.DISKDESCR);
    Cli.Run verbose = Cli.ploop("-v", "info", dir.resolve("nope.hds").toString());
    assertThat(verbose.err()).contains("NoSuchFileException").contains("\tat ");
    Cli.Run uuidOnImage =
        Cli.ploop("check", "-u", "{5fbaabe3-6958-40ff-92a7-860e329aab41}", image().toString());
    assertThat(uuidOnImage.exitCode()).isEqualTo(ExitCode.PARAM);
  }

  @Test
  void testEveryVerb_hasHelpAndVerbose() {
    CommandLine cl =
        PloopCli.newCommandLine(
            new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    assertThat(cl.getSubcommands()).hasSizeGreaterThan(10);
    for (String verb : cl.getSubcommands().keySet()) {
      Cli.Run help = Cli.ploop(verb, "--help");
      assertThat(help.exitCode()).as(verb + " --help: " + help).isZero();
      assertThat(help.out())
          .as(verb)
          .startsWith("Usage: ploop " + verb)
          .contains("--verbose")
          .contains("-h, --help");
    }
    Cli.Run verbose = Cli.ploop("info", "--verbose", dir.resolve("nope.hds").toString());
    assertThat(verbose.exitCode()).isEqualTo(ExitCode.OPEN);
    assertThat(verbose.err()).contains("NoSuchFileException").contains("\tat ");
    Cli.Run mountVerbose = Cli.ploop("mount", "--verbose", dir.resolve("nope.xml").toString());
    assertThat(mountVerbose.err()).as(mountVerbose.toString()).contains("\tat ");
  }

  @Test
  void testCheck_cleanImageSkippedWithoutFlags() throws IOException {
    TestImage t = TestImage.create(image(), FormatVersion.V2, 131072, 2048);
    long phys = t.allocate(1, new Random(3));
    t.setBat(2, phys); // a duplicate, only found by a scan
    Cli.Run plain = Cli.ploop("check", image().toString());
    assertThat(plain.exitCode()).as("ploop skips a clean image without -f").isZero();
    assertThat(plain.out()).contains("Image is clean, check is skipped");
    assertThat(Cli.ploop("check", "-c", image().toString()).exitCode())
        .isEqualTo(ExitCode.PLOOPFMT);
    assertThat(Qemu.check(image()).exitCode()).as("qemu-img 7.2 misses duplicates").isZero();
  }

  @Test
  void testInit_fsLimit50TiB_andRawCheckNeedsBlocksize() throws IOException {
    assertError(
        Cli.ploop("init", "-s", "51T", "-t", "ext4", image().toString()),
        ExitCode.PARAM,
        "An incorrect block device size is specified: 109521666048 sectors. The maximum allowed"
            + " size is 107374182400 sectors");
    assertThat(image()).doesNotExist();
    Files.write(image(), new byte[4096]);
    assertError(
        Cli.ploop("check", "-R", image().toString()),
        ExitCode.PARAM,
        "Cluster blocksize required for raw image");
    assertThat(Cli.ploop("check", "-R", "-b", "2048", image().toString()).exitCode()).isZero();
  }

  private static void assertError(Cli.Run r, int exit, String message) {
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(exit);
    assertThat(r.err()).as(r.toString()).contains(message);
  }
}
