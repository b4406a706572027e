package org.jploop.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jploop.testing.Qemu;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SparseRepair} ({@code ploop check -S}): holes punched inside a used cluster or the header
 * are found and filled with zeros (what the holes read, so content is unchanged; no hole left
 * there), holes in unreferenced clusters are left. ploop 1.15 on the same file: "Error: ploop image
 * is sparse" (exit 11) without -S, "Filling hole at start=2101248 len=8192" with it.
 */
class SparseRepairTest {
  @TempDir Path dir;

  @Test
  void testFindAndFill_usedClustersAndHeaderOnly() throws Exception {
    Path img = dir.resolve("root.hds");
    Qemu.create(img, 64L << 20, 1 << 20);
    Qemu.io(img, "write -P 0x11 0 4M");
    long size = Files.size(img); // header cluster + 4 data clusters
    punch(img, 2 * (1 << 20) + 4096, 8192); // inside data cluster 2
    punch(img, 65536, 4096); // inside the header cluster, after the BAT entries in use
    Files.write(img, new byte[1 << 20], java.nio.file.StandardOpenOption.APPEND);
    punch(img, size, 1 << 20); // an unreferenced cluster at the end
    Path before = dir.resolve("before.hds");
    Files.copy(img, before);
    List<SparseRepair.Hole> holes = SparseRepair.find(img);
    assertThat(holes)
        .containsExactly(
            new SparseRepair.Hole(65536, 4096), new SparseRepair.Hole(2 * (1 << 20) + 4096, 8192));
    List<String> log = new ArrayList<>();
    SparseRepair.fill(img, holes, log::add);
    assertThat(log)
        .containsExactly(
            "Warning: ploop image '" + img + "' is sparse",
            "Reallocating sparse blocks back",
            "Filling hole at start=65536 len=4096",
            "Filling hole at start=2101248 len=8192");
    assertThat(SparseRepair.find(img)).isEmpty();
    Qemu.Result cmp =
        Qemu.run(
            "qemu-img",
            "compare",
            "-f",
            "parallels",
            "-F",
            "parallels",
            img.toString(),
            before.toString());
    assertThat(cmp.exitCode()).as(cmp.output()).isZero();
  }

  private static void punch(Path f, long off, long len) throws Exception {
    Qemu.Result r =
        Qemu.run(
            "fallocate", "-p", "-o", Long.toString(off), "-l", Long.toString(len), f.toString());
    assertThat(r.exitCode()).as(r.output()).isZero();
  }
}
