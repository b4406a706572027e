package org.jploop.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jploop.testing.PloopProcess;
import org.jploop.testing.Qemu;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ploop-volume with real mounts (the shipped jar, FUSE): a snapshot volume mounts read-only whether
 * or not {@code -r} is given, as ploop does, so its disk.img refuses writes; the writable volume on
 * it mounts read-write beside it and sees the snapshot's data; a mounted volume cannot be
 * snapshotted or deleted (offline only, exit 17).
 */
class VolumeMountIT {
  @TempDir Path root;
  private Path vol1;
  private Path snap1;

  @BeforeEach
  void setUp() {
    PloopProcess.assumeMountable("VolumeMountIT");
    vol1 = root.resolve("vol1");
    snap1 = root.resolve("snap1");
  }

  @AfterEach
  void tearDown() throws IOException {
    for (Path v : new Path[] {vol1, snap1}) {
      Path xml = v.resolve("DiskDescriptor.xml");
      if (Files.exists(xml)) {
        PloopProcess.ploop(60, "umount", xml.toString());
      }
    }
  }

  private static PloopProcess.Result ok(PloopProcess.Result r) {
    assertThat(r.exit()).as(r.all()).isZero();
    return r;
  }

  @Test
  void testSnapshotVolumeMountsReadOnly() throws Exception {
    Path images = Files.createDirectory(root.resolve("images"));
    ok(
        PloopProcess.ploop(
            120,
            "volume",
            "create",
            "-t",
            "none",
            "-s",
            "64M",
            "--image",
            images.resolve("vol1").toString(),
            vol1.toString()));
    Qemu.io(images.resolve("vol1"), "write -P 0x5a 0 2M");
    ok(PloopProcess.ploop(120, "volume", "snapshot", vol1.toString(), snap1.toString()));

    PloopProcess.Result m =
        ok(PloopProcess.ploop(120, "mount", snap1.resolve("DiskDescriptor.xml").toString()));
    assertThat(m.err()).contains("Mounting read-only");
    Path img = Path.of(m.out().strip());
    assertThatThrownBy(() -> FileChannel.open(img, StandardOpenOption.WRITE).close())
        .as("disk.img of a snapshot volume")
        .isInstanceOf(IOException.class);
    assertThat(read(img, 0)).isEqualTo((byte) 0x5a);

    Path img1 =
        Path.of(
            ok(PloopProcess.ploop(120, "mount", vol1.resolve("DiskDescriptor.xml").toString()))
                .out()
                .strip());
    try (FileChannel ch = FileChannel.open(img1, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {7}), 1 << 20);
      ch.force(true);
    }
    assertThat(read(img1, 0)).isEqualTo((byte) 0x5a);
    assertThat(read(img1, 1 << 20)).isEqualTo((byte) 7);
    assertThat(read(img, 1 << 20))
        .as("the snapshot does not see vol1's write")
        .isEqualTo((byte) 0x5a);

    PloopProcess.Result busy =
        PloopProcess.ploop(
            60, "volume", "snapshot", vol1.toString(), root.resolve("snap2").toString());
    assertThat(busy.exit()).as(busy.all()).isEqualTo(17);
    assertThat(root.resolve("snap2")).doesNotExist();
    PloopProcess.Result del = PloopProcess.ploop(60, "volume", "delete", snap1.toString());
    assertThat(del.exit()).as(del.all()).isEqualTo(17);
    assertThat(snap1.resolve("DiskDescriptor.xml")).exists();
  }

  private static byte read(Path img, long off) throws IOException {
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, off);
      return b.get(0);
    }
  }
}
