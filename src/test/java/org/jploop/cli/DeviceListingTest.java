package org.jploop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jploop.daemon.MountStatus;
import org.jploop.host.DeviceName;
import org.jploop.host.LoopDevice;
import org.jploop.image.ImageCreator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ploop list} in ploop 9.x's format, {@code -a}, {@code -f} and {@code --json}. */
class DeviceListingTest {
  @TempDir Path dir;

  @BeforeEach
  void privateDev() throws Exception {
    System.setProperty("jploop.dev.dir", Files.createDirectory(dir.resolve("dev")).toString());
  }

  @AfterEach
  void realDev() {
    System.clearProperty("jploop.dev.dir");
  }

  /** A status as a daemon of this process would publish it (fields absent are defaults). */
  private static MountStatus status(Path xml, String img, String loop, String mnt)
      throws Exception {
    String json =
        "{\"descriptor\":\""
            + xml
            + "\",\"pid\":"
            + ProcessHandle.current().pid()
            + ",\"state\":\"ready\",\"diskImage\":\""
            + img
            + "\""
            + (loop == null ? "" : ",\"loopDevice\":\"" + loop + "\"")
            + (mnt == null ? "" : ",\"mountPoint\":\"" + mnt + "\"")
            + "}";
    return MountStatus.fromJson(json);
  }

  @Test
  void testListing_textAllFullAndJson() throws Exception {
    Path a =
        ImageCreator.create(
                ImageCreator.Request.of(
                    Files.createDirectory(dir.resolve("a")).resolve("root.hds"), 131072),
                b -> {})
            .descriptorFile();
    Path b =
        ImageCreator.create(
                ImageCreator.Request.of(
                    Files.createDirectory(dir.resolve("b")).resolve("root.hds"), 131072),
                x -> {})
            .descriptorFile();
    new DeviceName("/dev/ploop5").link(new LoopDevice("/dev/loop42"), "/dev/loop42p1");
    List<MountStatus> mounts =
        List.of(
            status(b, "/run/jploop/b/fuse/disk.img", null, null),
            status(a, "/run/jploop/a/fuse/disk.img", "/dev/loop42", "/mnt/a"));
    String baseA = dir.resolve("a/root.hds").toString();
    String baseB = dir.resolve("b/root.hds").toString();
    assertThat(new DeviceListing(false, false).render(mounts, false))
        .isEqualTo("/run/jploop/b/fuse/disk.img\t" + baseB + "\nploop5\t" + baseA + "\n");
    assertThat(new DeviceListing(true, true).render(mounts, false))
        .isEqualTo(
            "/run/jploop/b/fuse/disk.img\t" + baseB + "\t-\nploop5\t" + baseA + "\t/mnt/a\n");
    JsonNode j = new ObjectMapper().readTree(new DeviceListing(false, false).render(mounts, true));
    assertThat(j).hasSize(2);
    JsonNode p5 = j.get(1);
    assertThat(p5.get("name").asText()).isEqualTo("ploop5");
    assertThat(p5.get("device").asText()).isEqualTo("/dev/ploop5");
    assertThat(p5.get("partition").asText()).isEqualTo("/dev/ploop5p1");
    assertThat(p5.get("loop").asText()).isEqualTo("/dev/loop42");
    assertThat(p5.get("mount_point").asText()).isEqualTo("/mnt/a");
    assertThat(p5.get("state").asText()).isEqualTo("ready");
    assertThat(p5.get("images").get(0).asText()).isEqualTo(baseA);
    assertThat(p5.get("status").get("diskImage").asText()).isEqualTo("/run/jploop/a/fuse/disk.img");
    assertThat(j.get(0).get("device").isNull()).isTrue();
  }
}
