package org.jploop.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tests for {@link ImageMutator} and {@link PristineDisks}: pristine disks are valid, cases
 * reproduce.
 */
class ImageMutatorTest {
  @TempDir Path dir;

  @Test
  void testPristine_validForFormatLayerAndQemu() throws Exception {
    for (int i = 0; i < PristineDisks.SHAPES.length; i++) {
      Path d = dir.resolve("p" + i);
      Path xml = PristineDisks.create(d, PristineDisks.SHAPES[i], 7);
      DiskDescriptor desc = DiskDescriptor.read(xml);
      Path image = desc.topChainFiles(xml).get(0);
      try (FileBlockFile f = FileBlockFile.open(image, true)) {
        assertThat(ImageReader.readHeader(f).geometry().clusterSectors())
            .isEqualTo(PristineDisks.SHAPES[i].clusterSectors());
      }
      if (!PristineDisks.SHAPES[i].inUse()) {
        // qemu-img is the independent judge: exit 0 = consistent
        Process p =
            new ProcessBuilder("qemu-img", "check", "-f", "parallels", image.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("qemu-img check %s: %s", PristineDisks.SHAPES[i], out).isZero();
      }
    }
  }

  @Test
  void testMake_sameNumber_sameCase() throws Exception {
    ImageMutator m = new ImageMutator(dir, 42);
    ImageMutator.Case a = m.make(17);
    byte[] img = Files.readAllBytes(a.image());
    byte[] xml = Files.readAllBytes(a.xml());
    ImageMutator.Case b = m.make(17);
    assertThat(b.mutations()).isEqualTo(a.mutations());
    assertThat(Files.readAllBytes(b.image())).isEqualTo(img);
    assertThat(Files.readAllBytes(b.xml())).isEqualTo(xml);
  }

  @Test
  void testNext_coversManyMutationKinds() throws Exception {
    ImageMutator m = new ImageMutator(dir, 1);
    Set<String> kinds = new HashSet<>();
    int mustFail = 0;
    for (int i = 0; i < 600; i++) {
      ImageMutator.Case c = m.next();
      for (String s : c.mutations()) {
        kinds.add(s.replaceAll("[0-9]+", "#").split("[ =<(]")[0]);
      }
      mustFail += c.mustFail() ? 1 : 0;
    }
    System.out.println(
        "mutator: 600 cases, " + mustFail + " must fail, kinds=" + kinds.size() + " " + kinds);
    assertThat(kinds.size()).isGreaterThanOrEqualTo(15);
    assertThat(mustFail).isBetween(100, 550);
  }
}
