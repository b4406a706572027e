package org.jploop.format.descriptor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.jploop.format.ImageGeometry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Tests for {@link DiskDescriptor}: the samples, every §8.4 rule, malformed XML, atomic store. */
class DiskDescriptorTest {
  static final Path SAMPLES = Path.of("DiskDescriptor-samples");

  @TempDir Path dir;

  /** Samples in ploop's own layout: reading and writing again gives the same text. */
  @ParameterizedTest
  @ValueSource(strings = {"base-only.xml", "base-2-snapshots.xml", "preallocated-temporary.xml"})
  void testRoundTrip_textExact(String name) throws IOException {
    Path xml = SAMPLES.resolve(name);
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.toXml()).isEqualTo(Files.readString(xml, StandardCharsets.UTF_8));
  }

  /** Every sample, including old-root and odd ones: read, write, read gives the same model. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "base-only.xml",
        "base-2-snapshots.xml",
        "preallocated-temporary.xml",
        "parallels-root.xml",
        "odd-but-valid.xml"
      })
  void testRoundTrip_sameModel(String name) throws IOException {
    DiskDescriptor d = DiskDescriptor.read(SAMPLES.resolve(name));
    Path out = dir.resolve("DiskDescriptor.xml");
    d.write(out);
    assertThat(DiskDescriptor.read(out)).isEqualTo(d);
    assertThat(Files.readString(out))
        .startsWith("<?xml version=\"1.0\"?>\n<Virtuozzo_disk_image>\n" + "  <Disk_Parameters>\n");
  }

  @Test
  void testParallelsRoot_readAndWrittenAsVirtuozzo() throws IOException {
    Path xml = SAMPLES.resolve("parallels-root.xml");
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.diskSizeSectors()).isEqualTo(2097152);
    assertThat(d.blocksize()).isEqualTo(2048);
    assertThat(d.topChain(xml))
        .extracting(DiskDescriptor.ImageEntry::file)
        .containsExactly("root.hds");
    String expected = Files.readString(xml).replace("Parallels_disk_image", "Virtuozzo_disk_image");
    assertThat(d.toXml()).isEqualTo(expected);
  }

  @Test
  void testChain_baseFirst() throws IOException {
    Path xml = SAMPLES.resolve("base-2-snapshots.xml");
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.topChain(xml))
        .extracting(DiskDescriptor.ImageEntry::file)
        .containsExactly(
            "root.hds",
            "root.hds.{3f0d5c1a-2b7e-4c55-9f3e-1d2c3b4a5e6f}",
            "root.hds.{7e4b2a90-1c3d-4e5f-8a9b-0c1d2e3f4a5b}");
    assertThat(d.chain(xml, "{C0A2F1D4-8E1B-4F3A-A6D2-5B7C9E0F1A2B}"))
        .extracting(DiskDescriptor.ImageEntry::guid)
        .containsExactly(
            "{9c1b6f0e-6c3c-4d43-8d2e-0a9a3c5b7e11}", "{c0a2f1d4-8e1b-4f3a-a6d2-5b7c9e0f1a2b}");
    assertThat(d.topChainFiles(xml).get(0))
        .isEqualTo(xml.toAbsolutePath().getParent().resolve("root.hds"));
  }

  @Test
  void testOddButValid_values() throws IOException {
    Path xml = SAMPLES.resolve("odd-but-valid.xml");
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.diskSizeSectors()).isEqualTo(0x200000);
    assertThat(d.cylinders()).isEqualTo(02040);
    assertThat(d.blocksize()).isEqualTo(64);
    assertThat(d.raw()).isTrue();
    assertThat(d.topGuid()).isEqualToIgnoringCase(Guid.TOP_DELTA);
    assertThat(d.topChain(xml))
        .extracting(DiskDescriptor.ImageEntry::file)
        .containsExactly("disk.raw");
  }

  @Test
  void testTemporaryMarker_keptAndWrittenEmpty() throws IOException {
    DiskDescriptor d = DiskDescriptor.read(SAMPLES.resolve("preallocated-temporary.xml"));
    assertThat(d.shots().get(0).temporary()).isEqualTo("Temporary");
    assertThat(d.shots().get(1).temporary()).isNull();
    assertThat(d.preallocated()).isTrue();
    assertThat(d.maxDeltaSize()).isEqualTo(4194304);
    assertThat(d.toXml()).contains("      <Temporary/>\n");
  }

  @Test
  void testForNewImage_matchesPloopInitSample() throws IOException {
    DiskDescriptor d =
        DiskDescriptor.forNewImage(ImageGeometry.forSize(20971520, 2048), "root.hds", false);
    assertThat(d.toXml()).isEqualTo(Files.readString(SAMPLES.resolve("base-only.xml")));
  }

  static Stream<Arguments> brokenDescriptors() {
    String base = sample("base-only.xml");
    String snaps = sample("base-2-snapshots.xml");
    return Stream.of(
        Arguments.of(
            "no Disk_Parameters",
            cut(base, "  <Disk_Parameters>", "</Disk_Parameters>\n"),
            "'/Disk_Parameters' node not found"),
        Arguments.of(
            "no Storage",
            cut(base, "    <Storage>", "</Storage>\n"),
            "'/StorageData/Storage' node not found"),
        Arguments.of(
            "no StorageData",
            cut(base, "  <StorageData>", "</StorageData>\n"),
            "'/StorageData' node not found"),
        Arguments.of(
            "no Snapshots",
            cut(base, "  <Snapshots>", "</Snapshots>\n"),
            "'/Snapshots' node not found"),
        Arguments.of(
            "no Image/GUID",
            base.replaceFirst(
                "        <GUID>\\{5fbaabe3-6958-40ff-92a7-860e329aab41}</GUID>\n", ""),
            "'/StorageData/Storage/Image/GUID' node not found"),
        Arguments.of(
            "no Image/File",
            base.replace("        <File>root.hds</File>\n", ""),
            "'/StorageData/Storage/Image/File' node not found"),
        Arguments.of(
            "no Shot/ParentGUID",
            base.replace(
                "      <ParentGUID>{00000000-0000-0000-0000-000000000000}</ParentGUID>\n", ""),
            "'/Snapshots/Shot/ParentGUID' node not found"),
        Arguments.of(
            "no Blocksize",
            base.replace("      <Blocksize>2048</Blocksize>\n", ""),
            "Invalid block size 0"),
        Arguments.of(
            "blocksize not a power of two",
            base.replace(">2048</Blocksize>", ">2000</Blocksize>"),
            "Invalid block size 2000"),
        Arguments.of(
            "blocksize junk",
            base.replace(">2048</Blocksize>", ">2048x</Blocksize>"),
            "Invalid disk descriptor file format: Invalid Blocksize 2048x"),
        Arguments.of(
            "blocksize with a trailing blank (ploop: Invalid Blocksize)",
            base.replace(">2048</Blocksize>", ">2048 </Blocksize>"),
            "Invalid Blocksize 2048 "),
        Arguments.of(
            "GUID with a blank (ploop: invalid guid)",
            base.replaceFirst("<GUID>\\{5fbaabe3", "<GUID> {5fbaabe3"),
            "Invalid image GUID  {5fbaabe3"),
        Arguments.of(
            "Preallocated 2",
            base.replace(
                "<Blocksize>2048</Blocksize>",
                "<Blocksize>2048</Blocksize><Preallocated>2</Preallocated>"),
            "Invalid Preallocated value 2"),
        Arguments.of(
            "Preallocated with a blank",
            base.replace(
                "<Blocksize>2048</Blocksize>",
                "<Blocksize>2048</Blocksize><Preallocated>1 </Preallocated>"),
            "Invalid Preallocated value 1 "),
        Arguments.of(
            "Preallocated with Plain",
            base.replace(
                    "<Blocksize>2048</Blocksize>",
                    "<Blocksize>2048</Blocksize><Preallocated>1</Preallocated>")
                .replace("Compressed", "Plain"),
            "Preallocated is not allowed with a Plain image"),
        Arguments.of(
            "bad GUID",
            base.replace(
                "<GUID>{5fbaabe3-6958-40ff-92a7-860e329aab41}</GUID>\n" + "        <Type>",
                "<GUID>5fbaabe3-6958-40ff-92a7-860e329aab41</GUID>\n        <Type>"),
            "Invalid image GUID 5fbaabe3-6958-40ff-92a7-860e329aab41"),
        Arguments.of(
            "TopGUID unknown",
            base.replace(
                "<TopGUID>{5fbaabe3-6958-40ff-92a7-860e329aab41}",
                "<TopGUID>{11111111-2222-4333-8444-555555555555}"),
            "Can't find snapshot by uuid {11111111-2222-4333-8444-555555555555}"),
        Arguments.of(
            "TopGUID not a GUID",
            base.replace("<TopGUID>{5fbaabe3-6958-40ff-92a7-860e329aab41}", "<TopGUID>{5fbaabe3"),
            "Invalid TopGUID {5fbaabe3</TopGUID>".replace("</TopGUID>", "")),
        Arguments.of(
            "duplicate image GUID",
            snaps.replace(
                "<GUID>{c0a2f1d4-8e1b-4f3a-a6d2-5b7c9e0f1a2b}</GUID>\n        <Type>",
                "<GUID>{9c1b6f0e-6c3c-4d43-8d2e-0a9a3c5b7e11}</GUID>\n        <Type>"),
            "Duplicate image GUID {9c1b6f0e-6c3c-4d43-8d2e-0a9a3c5b7e11}"),
        Arguments.of(
            "top is temporary",
            base.replace(
                "</ParentGUID>\n    </Shot>", "</ParentGUID>\n      <Temporary/>\n    </Shot>"),
            "is temporary"),
        Arguments.of(
            "broken chain",
            snaps.replace(
                "<ParentGUID>{9c1b6f0e-6c3c-4d43-8d2e-0a9a3c5b7e11}</ParentGUID>",
                "<ParentGUID>{11111111-2222-4333-8444-555555555555}</ParentGUID>"),
            "Can't find snapshot by uuid {11111111-2222-4333-8444-555555555555}"),
        Arguments.of(
            "more images than shots",
            cut(snaps, "    <Shot>\n      <GUID>{c0a2f1d4", "</Shot>\n"),
            "Inconsistency detected"),
        Arguments.of(
            "no Image at all",
            cut(base, "      <Image>", "</Image>\n"),
            "'/StorageData/Storage/Image' node not found"),
        Arguments.of(
            "two Storage elements",
            base.replace(
                "    </Storage>\n",
                "    </Storage>\n    <Storage><Blocksize>2048</Blocksize></Storage>\n"),
            "splitted disk is not supported"),
        Arguments.of(
            "unknown Type", base.replace("Compressed", "Qcow"), "Unknown image type Qcow"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenDescriptors")
  void testRead_brokenDescriptorNamesFileAndRule(String what, String text, String message)
      throws IOException {
    Path xml = dir.resolve("DiskDescriptor.xml");
    Files.writeString(xml, text);
    assertThatThrownBy(() -> DiskDescriptor.read(xml))
        .isInstanceOf(DescriptorException.class)
        .hasMessageStartingWith(xml + ": ")
        .hasMessageContaining(message);
  }

  @Test
  void testRead_missingImagesGetTopShotAdded() throws IOException {
    // images != shots: ploop adds {TOPDELTA, NONE}; with one image and no shot that completes it.
    Path xml = dir.resolve("DiskDescriptor.xml");
    Files.writeString(
        xml,
        cut(sample("base-only.xml"), "    <Shot>", "</Shot>\n")
            .replace("    <TopGUID>{5fbaabe3-6958-40ff-92a7-860e329aab41}</TopGUID>\n", ""));
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.shots()).containsExactly(new DiskDescriptor.Shot(Guid.TOP_DELTA, Guid.NONE, null));
    assertThat(d.topGuid()).isEqualTo(Guid.TOP_DELTA);
  }

  @Test
  void testRead_junkInOptionalNumberIsIgnored() throws IOException {
    Path xml = dir.resolve("DiskDescriptor.xml");
    Files.writeString(
        xml,
        sample("base-only.xml")
            .replace("<Cylinders>40960</Cylinders>", "<Cylinders>40960abc</Cylinders>")
            .replace("<Disk_size>20971520</Disk_size>", "<Disk_size>x</Disk_size>"));
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.cylinders()).isZero();
    assertThat(d.diskSizeSectors()).as("falls back to <End>").isEqualTo(20971520);
  }

  /**
   * Issue 15: ploop takes element text verbatim (libxml2, no trimming): a blank around a file name
   * is part of the name, and numbers follow strtoul (leading blanks skipped, a trailing blank makes
   * an optional value ignored). jploop used to trim both.
   */
  @Test
  void testRead_textVerbatimNumbersLikeStrtoul() throws IOException {
    Path xml = dir.resolve("DiskDescriptor.xml");
    Files.writeString(
        xml,
        sample("base-only.xml")
            .replace("<File>root.hds</File>", "<File> disk.raw </File>")
            .replace("<Heads>16</Heads>", "<Heads>\n 16</Heads>")
            .replace("<Cylinders>40960</Cylinders>", "<Cylinders>40960 </Cylinders>")
            .replace("<Disk_size>20971520</Disk_size>", "<Disk_size>20971520 </Disk_size>")
            .replace("<End>20971520</End>", "<End>0x1400000</End>"));
    DiskDescriptor d = DiskDescriptor.read(xml);
    assertThat(d.images().get(0).file()).isEqualTo(" disk.raw ");
    assertThat(d.topChainFiles(xml).get(0)).isEqualTo(dir.resolve(" disk.raw "));
    assertThat(d.heads()).isEqualTo(16);
    assertThat(d.cylinders()).as("trailing blank: ignored, as strtoul's end check does").isZero();
    assertThat(d.diskSizeSectors()).as("falls back to <End>").isEqualTo(0x1400000);
    assertThat(d.toXml()).contains("<File> disk.raw </File>");
  }

  @Test
  void testStrtoulParse() {
    assertThat(DescriptorParser.parse("0x10")).isEqualTo(16);
    assertThat(DescriptorParser.parse("010")).isEqualTo(8);
    assertThat(DescriptorParser.parse(" \t+7")).isEqualTo(7);
    assertThat(DescriptorParser.parse("0")).isZero();
    for (String bad : List.of("", " ", "7 ", "0x", "08", "-1", "1e3", "99999999999999999999")) {
      assertThat(DescriptorParser.parse(bad)).as(bad).isEqualTo(-1);
    }
  }

  /**
   * Issue 15: grow and resize keep {@code <Cylinders>} and {@code <Heads>} and recompute {@code
   * <Sectors>}, as ploop 1.15 does (256M grown to 512M: 1024/16/64; jploop wrote 1040/16/63).
   */
  @Test
  void testWithSize_keepsCylindersAndHeads() {
    DiskDescriptor d =
        DiskDescriptor.forNewImage(ImageGeometry.forSize(524288, 2048), "root.hds", false);
    assertThat(List.of(d.cylinders(), d.heads(), d.sectors())).containsExactly(1024L, 16L, 32L);
    DiskDescriptor g = d.withSize(1048576);
    assertThat(List.of(g.cylinders(), g.heads(), g.sectors())).containsExactly(1024L, 16L, 64L);
    assertThat(g.toXml())
        .contains(
            "<Disk_size>1048576</Disk_size>",
            "<End>1048576</End>",
            "<Cylinders>1024</Cylinders>",
            "<Sectors>64</Sectors>");
  }

  @Test
  void testRead_malformedXmlNamesFileAndLine() throws IOException {
    Path xml = dir.resolve("DiskDescriptor.xml");
    Files.writeString(
        xml, sample("base-only.xml").replace("<Heads>16</Heads>", "<Heads>16</Head>"));
    assertThatThrownBy(() -> DiskDescriptor.read(xml))
        .isInstanceOf(DescriptorException.class)
        .hasMessageStartingWith(xml + ": malformed XML at line 6");
  }

  @Test
  void testRead_emptyAndMissingFile() throws IOException {
    Path xml = dir.resolve("DiskDescriptor.xml");
    assertThatThrownBy(() -> DiskDescriptor.read(xml))
        .isInstanceOf(DescriptorException.class)
        .hasMessage(xml + ": No such file");
    Files.writeString(xml, "");
    assertThatThrownBy(() -> DiskDescriptor.read(xml))
        .isInstanceOf(DescriptorException.class)
        .hasMessageStartingWith(xml + ": ");
  }

  @Test
  void testResolveImage_refusesPathTricks() throws IOException {
    Path xml = dir.resolve("DiskDescriptor.xml");
    for (String bad : List.of("../root.hds", "/etc/passwd", "sub/../../x")) {
      DiskDescriptor.ImageEntry e =
          new DiskDescriptor.ImageEntry(Guid.TOP_DELTA, "Compressed", bad);
      assertThatThrownBy(() -> DiskDescriptor.resolveImage(xml, e))
          .isInstanceOf(DescriptorException.class)
          .hasMessageContaining(bad);
    }
    Path outside = Files.createTempFile("outside", ".hds");
    try {
      Files.createSymbolicLink(dir.resolve("link.hds"), outside);
      DiskDescriptor.ImageEntry e =
          new DiskDescriptor.ImageEntry(Guid.TOP_DELTA, "Compressed", "link.hds");
      assertThatThrownBy(() -> DiskDescriptor.resolveImage(xml, e))
          .isInstanceOf(DescriptorException.class)
          .hasMessageContaining("symlink");
    } finally {
      Files.deleteIfExists(outside);
    }
  }

  @Test
  void testWrite_atomicNoTmpLeft() throws IOException {
    Path xml = dir.resolve("DiskDescriptor.xml");
    DiskDescriptor d = DiskDescriptor.read(SAMPLES.resolve("base-2-snapshots.xml"));
    Files.writeString(xml, "old");
    d.write(xml);
    assertThat(Files.readString(xml)).isEqualTo(d.toXml());
    assertThat(dir.resolve("DiskDescriptor.xml.tmp")).doesNotExist();
  }

  @Test
  void testGuid_parseAndRandom() {
    assertThat(Guid.parse("5fbaabe3-6958-40ff-92a7-860e329aab41")).isEqualTo(Guid.TOP_DELTA);
    assertThatThrownBy(() -> Guid.parse("{5fbaabe3-6958}"))
        .hasMessage("Incorrect uuid specified: {5fbaabe3-6958}");
    String g = Guid.random();
    assertThat(Guid.isValid(g)).isTrue();
    assertThat(g)
        .isEqualTo(g.toLowerCase(Locale.ROOT))
        .matches("\\{.{8}-.{4}-4.{3}-[89ab].{3}-.{12}}");
    assertThat(Guid.same(Guid.TOP_DELTA, Guid.TOP_DELTA.toUpperCase(Locale.ROOT))).isTrue();
  }

  static String sample(String name) {
    try {
      return Files.readString(SAMPLES.resolve(name));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Removes the first block that starts with {@code from} and ends with {@code to}. */
  static String cut(String text, String from, String to) {
    int a = text.indexOf(from);
    int b = text.indexOf(to, a);
    if (a < 0 || b < 0) {
      throw new IllegalArgumentException("not found: " + from);
    }
    return text.substring(0, a) + text.substring(b + to.length());
  }
}
