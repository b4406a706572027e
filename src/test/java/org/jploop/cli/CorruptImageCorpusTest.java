package org.jploop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageHeader;
import org.jploop.testing.Qemu;
import org.jploop.testing.TestImage;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A corpus of damaged images, generated with a seeded random layout. For each: {@code ploop check}
 * and {@code ploop info} give the expected one-line message (file and offset) and exit code and
 * leave the file byte-identical (content hash and mtime); then {@code check} with the repair flags
 * gives the expected exit code and, where the damage is repairable, the result passes {@code
 * qemu-img check}.
 */
class CorruptImageCorpusTest {
  static final long SEED = Long.getLong("jploop.seed", 20261123L);
  static final long MIB = 1 << 20;

  @TempDir Path dir;

  /** Builds the damaged image in {@code dir}; the layout comes from {@code rnd}. */
  interface Damage {
    Path apply(Path dir, Random rnd) throws IOException;
  }

  /**
   * One corpus entry.
   *
   * @param damage how the image is built and broken
   * @param checkArgs read-only check flags
   * @param checkExit expected exit of the read-only check
   * @param checkText expected text (stdout+stderr) of the read-only check, after "FILE: "
   * @param infoExit expected exit of info
   * @param infoText expected text of info
   * @param repairArgs repair flags ("" for none)
   * @param repairExit expected exit of the repair
   * @param qemuAfter expected qemu-img check exit after the repair, or -1 when not applicable
   */
  record Case(
      Damage damage,
      String checkArgs,
      int checkExit,
      String checkText,
      int infoExit,
      String infoText,
      String repairArgs,
      int repairExit,
      int qemuAfter) {}

  /** A 64 MiB v2 image, 1 MiB clusters, three seeded random clusters of data. */
  static TestImage healthy(Path dir, Random rnd) throws IOException {
    TestImage t = TestImage.create(dir.resolve("root.hds"), FormatVersion.V2, 131072, 2048);
    for (int i = 0; i < 3; i++) {
      t.allocate(rnd.nextInt(64), rnd);
    }
    return t;
  }

  static Stream<Arguments> corpus() {
    return Stream.of(
        header(
            "wrong signature",
            t -> t.writeAt(0, "XithouFreSpacExt".getBytes(StandardCharsets.US_ASCII)),
            "offset 0: Wrong signature"),
        header("wrong type", t -> t.putInt(16, 1), "offset 16: Wrong type in image: m_Type=1"),
        header("bad cluster size", t -> t.putInt(28, 1000), "offset 28: Wrong cluster size 1000"),
        header("m_Size vs SizeInSectors", t -> t.putInt(32, 63), "offset 32: BAT too short"),
        header(
            "first block offset",
            t -> t.putInt(48, 1024),
            "offset 48: Wrong first block offset 1024"),
        header("truncated header", t -> t.truncate(40), "file too short for a ploop header"),
        header("truncated BAT", t -> t.truncate(4096), "offset 48: file is truncated"),
        header(
            "unknown in-use value",
            t -> t.putInt(44, 0xdeadbeef),
            "offset 44: unknown m_DiskInUse value 0xdeadbeef"),
        Arguments.of(
            "v1 misaligned entry",
            new Case(
                (d, rnd) -> {
                  TestImage t =
                      TestImage.create(d.resolve("root.hds"), FormatVersion.V1, 131072, 2048);
                  long phys = t.allocate(1, rnd);
                  t.setBat(2, phys * 2048 + 8);
                  return t.file();
                },
                "-c",
                11,
                "offset 72: L2 slot (2) corrupted",
                11,
                "offset 72: L2 slot (2) corrupted",
                "-f -F",
                0,
                0)),
        Arguments.of(
            "entry past EOF",
            new Case(
                (d, rnd) -> {
                  TestImage t = healthy(d, rnd);
                  t.setBat(40, 1000);
                  return t.file();
                },
                "-c",
                11,
                "offset 224: Data cluster 1000 beyond EOF, vsec=40",
                11,
                "offset 224: Data cluster 1000 beyond EOF",
                "-F",
                0,
                0)),
        Arguments.of(
            "entry past disk size (padding slot)",
            new Case(
                (d, rnd) -> {
                  TestImage t = healthy(d, rnd);
                  t.setBat(64, 1);
                  return t.file();
                },
                "-c",
                11,
                "offset 320: Data cluster (64) beyond block device size",
                11,
                "offset 320: Data cluster (64) beyond block device size",
                "-f",
                0,
                0)),
        Arguments.of(
            "entry into the header",
            new Case(
                (d, rnd) -> {
                  // 32 KiB clusters, 1 GiB: header + BAT take 5 clusters
                  TestImage t =
                      TestImage.create(d.resolve("root.hds"), FormatVersion.V2, 2097152, 64);
                  t.allocate(0, rnd);
                  t.setBat(3, 2);
                  return t.file();
                },
                "-c",
                11,
                "offset 76: Block 2 is used more than once, vsec=3 (it is a header cluster)",
                11,
                "offset 76: Block 2 is used more than once",
                "-F -c",
                0,
                -1)),
        Arguments.of(
            "duplicate entries",
            new Case(
                (d, rnd) -> {
                  TestImage t = healthy(d, rnd);
                  long phys = t.allocate(63, rnd);
                  t.setBat(62, phys);
                  return t.file();
                },
                "-c",
                11,
                "Block 4 is used more than once, vsec=63",
                11,
                "is used more than once",
                "-F -c",
                0,
                -1)),
        Arguments.of(
            "file size not cluster-aligned",
            new Case(
                (d, rnd) -> {
                  TestImage t = healthy(d, rnd);
                  t.truncate(Files.size(t.file()) + 512);
                  return t.file();
                },
                "-c",
                0,
                "is not aligned to cluster 1048576 Skipped",
                0,
                "warning: ",
                "-f",
                0,
                0)),
        Arguments.of(
            "leaked tail",
            new Case(
                (d, rnd) -> {
                  TestImage t = healthy(d, rnd);
                  t.truncate(Files.size(t.file()) + 2 * MIB);
                  return t.file();
                },
                "-c",
                0,
                "2097152 bytes after the last used cluster are unused",
                0,
                "warning: ",
                "-f",
                0,
                0)),
        Arguments.of(
            "in-use flag after a crash",
            new Case(
                (d, rnd) -> {
                  TestImage t = healthy(d, rnd);
                  t.putInt(44, (int) ImageHeader.IN_USE);
                  return t.file();
                },
                "",
                37,
                "Dirty flag is set",
                0,
                "in use (dirty)",
                "-d",
                0,
                0)),
        Arguments.of(
            "interrupted version conversion",
            new Case(
                (d, rnd) -> {
                  TestImage t = healthy(d, rnd);
                  t.putInt(44, (int) ImageHeader.IN_USE);
                  t.putInt(52, 3);
                  return t.file();
                },
                "",
                17,
                "is in the changing version state",
                0,
                "in use (dirty)",
                "-f -F -d",
                17,
                -1)));
  }

  /** A header field broken: fatal for check (any flags) and info, nothing ever written. */
  static Arguments header(String name, HeaderDamage damage, String text) {
    return Arguments.of(
        name,
        new Case(
            (d, rnd) -> {
              TestImage t = healthy(d, rnd);
              damage.apply(t);
              return t.file();
            },
            "-c",
            11,
            text,
            11,
            text,
            "-f -F -d",
            11,
            -1));
  }

  interface HeaderDamage {
    void apply(TestImage t) throws IOException;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void testCorpus(String name, Case c) throws IOException {
    Random rnd = new Random(SEED ^ name.hashCode());
    Path image = c.damage().apply(dir, rnd);
    String seed = "seed " + SEED + " (-Djploop.seed), case " + name;
    TestImage.ageMtime(image);
    String before = TestImage.fingerprint(image);

    Cli.Run check = Cli.ploop(args("check", c.checkArgs(), image));
    assertThat(check.exitCode()).as("%s: %s", seed, check).isEqualTo(c.checkExit());
    assertThat(check.out() + check.err()).as(seed).contains(image + ": ").contains(c.checkText());
    assertThat(TestImage.fingerprint(image))
        .as("%s: check without repair wrote", seed)
        .isEqualTo(before);

    Cli.Run info = Cli.ploop("info", image.toString());
    assertThat(info.exitCode()).as("%s: %s", seed, info).isEqualTo(c.infoExit());
    assertThat(info.out() + info.err()).as(seed).contains(c.infoText());
    if (c.infoExit() != 0) {
      assertThat(info.err().strip())
          .as("one line naming the file")
          .startsWith(image + ": ")
          .doesNotContain("\n")
          .doesNotContain("Exception");
    }
    assertThat(TestImage.fingerprint(image)).as("%s: info wrote", seed).isEqualTo(before);

    Cli.Run repair = Cli.ploop(args("check", c.repairArgs(), image));
    assertThat(repair.exitCode()).as("%s: %s", seed, repair).isEqualTo(c.repairExit());
    if (c.repairExit() != 0) {
      assertThat(TestImage.fingerprint(image))
          .as("%s: failed repair wrote", seed)
          .isEqualTo(before);
    }
    if (c.qemuAfter() >= 0) {
      Qemu.Result q = Qemu.check(image);
      assertThat(q.exitCode()).as("%s: %s", seed, q.output()).isEqualTo(c.qemuAfter());
      Cli.Run again = Cli.ploop("check", "-c", "-r", image.toString());
      assertThat(again.exitCode()).as("%s: %s", seed, again).isZero();
      assertThat(again.out()).as("no findings left").doesNotContain(image + ": offset");
    }
  }

  static String[] args(String verb, String flags, Path image) {
    Stream<String> f = flags.isEmpty() ? Stream.empty() : Stream.of(flags.split(" "));
    return Stream.concat(Stream.concat(Stream.of(verb), f), Stream.of(image.toString()))
        .toArray(String[]::new);
  }
}
