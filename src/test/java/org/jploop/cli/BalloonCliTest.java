package org.jploop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jploop.image.ImageCreator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input to the device verbs ({@code balloon}, {@code umount -d/-m}, {@code mount -d}, {@code
 * list}) in-process, with a private run directory so that no real mount is seen: one line, ploop's
 * exit code, nothing created.
 */
class BalloonCliTest {
  @TempDir Path dir;
  private Path xml;

  @BeforeEach
  void setUp() throws Exception {
    System.setProperty("jploop.run.dir", dir.resolve("run").toString());
    xml =
        ImageCreator.create(ImageCreator.Request.of(dir.resolve("root.hds"), 131072), b -> {})
            .descriptorFile();
  }

  @AfterEach
  void tearDown() {
    System.clearProperty("jploop.run.dir");
  }

  private static void refused(Cli.Run r, int code, String line) {
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(code);
    assertThat(r.err()).as(r.toString()).contains(line).doesNotContain("Exception");
  }

  @Test
  void testBalloon_usageSummaryAndTargets() {
    Cli.Run none = Cli.ploop("balloon");
    refused(
        none,
        38,
        "Usage: ploop-balloon { show | status | clear | change | complete | check"
            + " | repair | discard } ...");
    assertThat(none.err()).contains("Use \"ploop-balloon cmd\" to get more info about cmd");
    for (String verb :
        new String[] {"show", "status", "clear", "complete", "check", "repair", "discard"}) {
      refused(
          Cli.ploop("balloon", verb),
          38,
          "Error: one of -d, -m or DiskDescriptor.xml argument is required");
      refused(
          Cli.ploop("balloon", verb, "-m", dir.toString()),
          38,
          "Unable to find ploop device by " + dir);
      refused(
          Cli.ploop("balloon", verb, "-d", "/dev/ploop65000"),
          38,
          "Unable to find mount point for /dev/ploop65000");
    }
    refused(Cli.ploop("balloon", "show", xml.toString()), 38, "The image is not mounted");
    refused(
        Cli.ploop("balloon", "show", dir.resolve("root.hds").toString()),
        38,
        "Not a DiskDescriptor.xml");
    refused(Cli.ploop("balloon", "change", "-m", dir.toString()), 38, "-s");
    refused(Cli.ploop("balloon", "bogus"), 38, "bogus");
  }

  @Test
  void testDiscard_unmountedImage_tinyTarget_mixedTargets() throws Exception {
    byte[] before = Files.readAllBytes(dir.resolve("root.hds"));
    refused(
        Cli.ploop("balloon", "discard", xml.toString()),
        38,
        "Unable to discard: image is not mounted");
    refused(
        Cli.ploop("balloon", "discard", "--to-free", "100K", xml.toString()),
        38,
        "Can't shrink by less than 1048576 bytes");
    refused(
        Cli.ploop("balloon", "discard", "-d", "/dev/ploop1", xml.toString()),
        38,
        "Give one of -d, -m or DiskDescriptor.xml");
    refused(
        Cli.ploop("balloon", "discard", "--to-free", "x", "-m", "/"),
        38,
        "Invalid argument for option --to-free");
    assertThat(Files.readAllBytes(dir.resolve("root.hds"))).isEqualTo(before);
  }

  @Test
  void testDevices_badNamesAndTargets_listEmpty() {
    refused(
        Cli.ploop("mount", "-d", "/dev/sda", xml.toString()),
        38,
        "Invalid ploop device name /dev/sda");
    refused(
        Cli.ploop("umount", "-d", "/dev/ploop65001"),
        40,
        "Device /dev/ploop65001 is not a mounted ploop device");
    refused(Cli.ploop("umount", "-m", dir.toString()), 38, "Unable to find ploop device by " + dir);
    refused(Cli.ploop("umount", "-m", dir.toString(), xml.toString()), 38, "Give one of");
    assertThat(dir.resolve("run")).doesNotExist();
    Cli.Run list = Cli.ploop("list", "-a", "-f");
    assertThat(list.exitCode()).isZero();
    assertThat(list.out()).isEmpty();
    assertThat(Cli.ploop("list", "--json").out().strip()).isEqualTo("[ ]");
  }
}
