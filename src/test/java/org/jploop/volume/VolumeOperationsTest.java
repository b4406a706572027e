package org.jploop.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.jploop.image.ImageCreator;
import org.jploop.image.ImageOperationException;
import org.jploop.image.OfflineDisk;
import org.jploop.image.Progress;
import org.jploop.image.SnapshotMerger;
import org.jploop.image.StepHook;
import org.jploop.io.DiskLock;
import org.jploop.testing.Qemu;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ploop-volume's offline life cycle ({@link VolumeSnapshot}, {@link VolumeSwitch}, {@link
 * VolumeDelete}) on real images with data written by qemu-io, following ploop's own
 * test/ploop-volume.sh: layout (0700 directories, {@code children/} links), the {@code <Volume>}
 * elements, what every volume reads (qemu-img over its chain), and the refusals: a snapshot of a
 * snapshot, deleting a snapshot with two child volumes, switching from a volume with children,
 * plain verbs changing a read-only volume or a parent's image.
 */
class VolumeOperationsTest {
  @TempDir Path root;

  private final StringWriter logText = new StringWriter();
  private final PrintWriter log = new PrintWriter(logText, true);
  private Path images;

  @BeforeEach
  void setUp() throws Exception {
    images = Files.createDirectory(root.resolve("images"));
  }

  private VolumeLayout vol(String name) {
    return VolumeLayout.of(root.resolve(name));
  }

  /** ploop-volume create -t none -s 64M --image images/NAME NAME. */
  private VolumeLayout create(String name) throws Exception {
    VolumeLayout l = vol(name);
    l.create(log);
    ImageCreator.createVolume(
        ImageCreator.Request.of(images.resolve(name), 131072), l.dir(), b -> {});
    return l;
  }

  /** The file of the volume's top delta. */
  private static Path top(VolumeLayout l) throws Exception {
    DiskDescriptor d = DiskDescriptor.read(l.xml());
    return d.fileOf(l.xml(), d.image(d.topGuid()));
  }

  private static void write(VolumeLayout l, int pattern, long offsetMib, long mib)
      throws Exception {
    Qemu.io(top(l), "write -P " + pattern + " " + (offsetMib << 20) + " " + (mib << 20));
  }

  /** Asserts what the volume reads at {@code offsetMib}: pattern bytes (0 for zeros). */
  private static void assertReads(VolumeLayout l, int pattern, long offsetMib, long mib)
      throws Exception {
    DiskDescriptor d = DiskDescriptor.read(l.xml());
    List<Path> chain = d.topChainFiles(l.xml());
    String spec = null;
    for (Path p : chain) {
      spec =
          "{\"driver\":\"parallels\",\"file\":{\"driver\":\"file\",\"filename\":\""
              + p
              + "\"}"
              + (spec == null ? "" : ",\"backing\":" + spec)
              + "}";
    }
    Qemu.Result r =
        Qemu.run(
            "qemu-io",
            "-r",
            "-c",
            "read -P " + pattern + " " + (offsetMib << 20) + " " + (mib << 20),
            "json:" + spec);
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output())
        .as(l.dir() + " at " + offsetMib + " MiB")
        .doesNotContain("failed")
        .contains("read " + (mib << 20));
  }

  @Test
  void testSnapshotCloneDelete_likePloopVolumeSh() throws Exception {
    VolumeLayout vol1 = create("vol1");
    assertThat(Files.getPosixFilePermissions(vol1.dir())).hasSize(3);
    assertThat(Files.isDirectory(vol1.childrenDir())).isTrue();
    assertThat(Files.readString(vol1.xml())).contains("<Volume/>", "<File>../images/vol1</File>");
    write(vol1, 0x11, 0, 4);
    VolumeLayout snap1 = vol("snap1");
    String g = new VolumeSnapshot(log).snapshot(vol1, snap1);
    write(vol1, 0x22, 2, 4);

    DiskDescriptor s = DiskDescriptor.read(snap1.xml());
    assertThat(s.volume()).isEqualTo(new DiskDescriptor.Volume(null, null, true));
    assertThat(s.topGuid()).isEqualTo(g);
    assertThat(s.images())
        .extracting(DiskDescriptor.ImageEntry::file)
        .containsExactly("../images/vol1");
    DiskDescriptor v = DiskDescriptor.read(vol1.xml());
    assertThat(v.volume()).isEqualTo(new DiskDescriptor.Volume("../snap1", g, false));
    assertThat(v.ownImages())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.guid()).isEqualTo(Guid.TOP_DELTA);
              assertThat(e.file()).matches("\\.\\./images/vol1\\.\\{[0-9a-f-]{36}}");
            });
    assertThat(v.topChain(vol1.xml())).hasSize(2);
    assertThat(Files.readSymbolicLink(snap1.childrenDir().resolve("vol1"))).isEqualTo(vol1.dir());
    assertReads(snap1, 0x11, 0, 4);
    assertReads(vol1, 0x11, 0, 2);
    assertReads(vol1, 0x22, 2, 4);

    assertThatThrownBy(() -> new VolumeSnapshot(log).snapshot(snap1, vol("x")))
        .hasMessage("Creating a snapshot from snapshot is prohibited");
    assertThat(root.resolve("x")).doesNotExist();

    VolumeLayout vol2 = vol("vol2");
    new VolumeSnapshot(log).clone(snap1, vol2, null);
    write(vol2, 0x33, 3, 1);
    assertReads(vol2, 0x11, 0, 3);
    assertReads(vol2, 0x33, 3, 1);
    assertReads(vol1, 0x22, 3, 1);
    assertThat(snap1.children()).containsExactly(vol1.dir(), vol2.dir());

    // A snapshot with child volumes can't be deleted
    assertThatThrownBy(() -> new VolumeDelete(log, Progress.QUIET).delete(snap1))
        .hasMessage("Unable to delete " + snap1.dir() + ": it has 2 children");
    new VolumeDelete(log, Progress.QUIET).delete(vol2);
    assertThat(vol2.dir()).doesNotExist();
    assertThat(snap1.children()).containsExactly(vol1.dir());

    new VolumeDelete(log, Progress.QUIET).delete(snap1);
    assertThat(snap1.dir()).doesNotExist();
    DiskDescriptor after = DiskDescriptor.read(vol1.xml());
    assertThat(after.volume()).isEqualTo(new DiskDescriptor.Volume(null, null, false));
    assertThat(after.images())
        .extracting(DiskDescriptor.ImageEntry::file)
        .containsExactly("../images/vol1");
    assertReads(vol1, 0x11, 0, 2);
    assertReads(vol1, 0x22, 2, 4);
    try (var files = Files.list(images)) {
      assertThat(files).containsExactly(images.resolve("vol1"));
    }
    new VolumeDelete(log, Progress.QUIET).delete(vol1);
    assertThat(vol1.dir()).doesNotExist();
    assertThat(images.resolve("vol1")).doesNotExist();
  }

  @Test
  void testSnapshotOfAChildVolume_andDeleteInTheMiddle() throws Exception {
    VolumeLayout vol1 = create("vol1");
    write(vol1, 0x11, 0, 2);
    new VolumeSnapshot(log).snapshot(vol1, vol("snap1"));
    write(vol1, 0x22, 1, 2);
    String g2 = new VolumeSnapshot(log).snapshot(vol1, vol("snap2"));
    write(vol1, 0x33, 2, 2);
    DiskDescriptor s2 = DiskDescriptor.read(vol("snap2").xml());
    assertThat(s2.volume().parent()).isEqualTo("../snap1");
    assertThat(s2.volume().readOnly()).isTrue();
    DiskDescriptor v = DiskDescriptor.read(vol1.xml());
    assertThat(v.topGuid())
        .as("the new top of a volume with a parent gets a random GUID")
        .isNotEqualToIgnoringCase(Guid.TOP_DELTA);
    assertThat(v.volume().snapshotGuid()).isEqualTo(g2);
    assertThat(vol("snap1").children()).containsExactly(vol("snap2").dir());
    assertThat(v.topChain(vol1.xml())).hasSize(3);
    assertReads(vol("snap2"), 0x22, 1, 2);
    assertReads(vol1, 0x11, 0, 1);
    assertReads(vol1, 0x22, 1, 1);
    assertReads(vol1, 0x33, 2, 2);
    new VolumeDelete(log, Progress.QUIET).delete(vol("snap2"));
    assertThat(vol("snap1").children()).containsExactly(vol1.dir());
    DiskDescriptor after = DiskDescriptor.read(vol1.xml());
    assertThat(after.volume().parent()).isEqualTo("../snap1");
    assertThat(after.topChain(vol1.xml())).hasSize(2);
    assertReads(vol1, 0x11, 0, 1);
    assertReads(vol1, 0x22, 1, 1);
    assertReads(vol1, 0x33, 2, 2);
    assertReads(vol("snap1"), 0x11, 0, 2);
  }

  @Test
  void testSwitch_likePloopVolumeSh() throws Exception {
    VolumeLayout vol1 = create("vol1");
    write(vol1, 0x11, 0, 2);
    VolumeLayout snap1 = vol("snap1");
    new VolumeSnapshot(log).snapshot(vol1, snap1);
    write(vol1, 0x22, 0, 1);
    Path oldTop = top(vol1);
    new VolumeSwitch(log).switchTo(vol1, snap1);
    assertThat(oldTop).doesNotExist();
    assertReads(vol1, 0x11, 0, 2);
    assertThat(logText.toString()).contains("remove old rw delta " + oldTop);
    VolumeLayout vol2 = vol("vol2");
    new VolumeSnapshot(log).clone(vol1, vol2, images);
    assertThat(top(vol2).getParent()).isEqualTo(images.toRealPath());
    assertThatThrownBy(() -> new VolumeSwitch(log).switchTo(vol1, vol2))
        .hasMessage("Unable to switch from " + vol1.dir() + ": it has 1 children");
    assertThatThrownBy(() -> new VolumeSwitch(log).switchTo(snap1, vol1))
        .hasMessage("Switching from snapshot is prohibited");
    new VolumeSwitch(log).switchTo(vol2, vol1);
    assertThat(vol1.children()).containsExactly(vol2.dir());
    assertReads(vol2, 0x11, 0, 2);
  }

  @Test
  void testPlainVerbsOnVolumes_andLocks() throws Exception {
    VolumeLayout vol1 = create("vol1");
    write(vol1, 0x11, 0, 2);
    VolumeLayout snap1 = vol("snap1");
    new VolumeSnapshot(log).snapshot(vol1, snap1);
    write(vol1, 0x22, 0, 1);
    try (OfflineDisk d = OfflineDisk.open(vol1.xml(), "test")) {
      assertThatThrownBy(
              () ->
                  new SnapshotMerger(d, Progress.QUIET, log, StepHook.NONE)
                      .mergeIntoParent(d.descriptor().topGuid()))
          .isInstanceOf(ImageOperationException.class)
          .hasMessageContaining("parent volume");
    }
    try (DiskLock l = DiskLock.tryAcquire(vol1.xml(), "mount").orElseThrow()) {
      assertThatThrownBy(() -> new VolumeDelete(log, Progress.QUIET).delete(snap1))
          .isInstanceOf(ImageOperationException.class)
          .hasMessageContaining("is in use");
    }
    assertReads(vol1, 0x22, 0, 1);
    assertReads(snap1, 0x11, 0, 2);
    List<String> files = new ArrayList<>();
    try (var s = Files.list(images)) {
      s.forEach(p -> files.add(p.getFileName().toString()));
    }
    assertThat(files).hasSize(2);
  }
}
