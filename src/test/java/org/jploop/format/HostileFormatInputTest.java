package org.jploop.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.testing.FileDigest;
import org.jploop.testing.ImageMutator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input against the format layer that every verb starts with: {@link DiskDescriptor#read},
 * {@link DiskDescriptor#topChainFiles} (path tricks), {@link ImageReader#readHeader} and {@link
 * ImageReader#readBatSlots}. For each seeded {@link ImageMutator} case: no hang, no unchecked
 * exception, an error that names the file, no byte of the inputs changed, and a refusal whenever
 * the mutation certainly breaks the disk. The CLI-level version is {@code HostileInputTest}.
 */
class HostileFormatInputTest {
  private static final long SEED = Long.getLong("fuzz.seed", 6_2026_11_23L);
  private static final int CASES = Integer.getInteger("fuzz.formatCases", 3_000);

  @TempDir Path dir;

  @Test
  void testMutatedDisks_refusedCleanly() throws Exception {
    ImageMutator mutator = new ImageMutator(dir, SEED);
    Map<String, Integer> outcomes = new TreeMap<>();
    int refused = 0;
    long slowestMs = -1;
    String slowest = "";
    long start = System.nanoTime();
    for (int i = 0; i < CASES; i++) {
      ImageMutator.Case c = mutator.next();
      String imgBefore = FileDigest.sha256(c.image());
      String xmlBefore = FileDigest.sha256(c.xml());
      Throwable failure;
      long t0 = System.nanoTime();
      try {
        failure =
            assertTimeoutPreemptively(
                Duration.ofSeconds(10), () -> openAll(c.xml()), () -> "hang: " + c.describe());
      } catch (Throwable t) {
        throw new AssertionError("run seed " + SEED + ": " + c.describe(), t);
      }
      long took = (System.nanoTime() - t0) / 1_000_000;
      if (took > slowestMs) {
        slowestMs = took;
        slowest = c.describe();
      }
      String kind = failure == null ? "accepted" : failure.getClass().getSimpleName();
      outcomes.merge(kind, 1, Integer::sum);
      if (failure != null) {
        refused++;
        if (!(failure instanceof IOException)) {
          throw new AssertionError(
              "unchecked " + failure + " for " + c.describe() + " (run seed " + SEED + ")",
              failure);
        }
        String msg = String.valueOf(failure.getMessage());
        assertThat(msg).as("%s", c.describe()).doesNotContain("\n");
        assertThat(msg)
            .as("error must name a file: %s", c.describe())
            .containsAnyOf(
                c.dir().toString(),
                "DiskDescriptor.xml",
                "root.hds",
                "outside.hds",
                "link-",
                "/etc/",
                "missing.hds");
      } else if (c.mustFail()) {
        fail("accepted a broken disk: " + c.describe() + " (run seed " + SEED + ")");
      }
      assertThat(FileDigest.sha256(c.image()))
          .as("image modified: %s", c.describe())
          .isEqualTo(imgBefore);
      assertThat(FileDigest.sha256(c.xml()))
          .as("descriptor modified: %s", c.describe())
          .isEqualTo(xmlBefore);
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    System.out.println(
        "hostile-format: seed="
            + SEED
            + " inputs_tried="
            + CASES
            + " refused="
            + refused
            + " outcomes="
            + outcomes
            + " time_ms="
            + ms);
    System.out.println("hostile-format: slowest case " + slowestMs + " ms: " + slowest);
  }

  /** What every verb does first; returns the failure (null if the disk opened). */
  private static Throwable openAll(Path xml) {
    try {
      DiskDescriptor d = DiskDescriptor.read(xml);
      List<Path> files = d.topChainFiles(xml);
      for (Path f : files) {
        try (FileBlockFile b = FileBlockFile.open(f, true)) {
          ImageHeader h = ImageReader.readHeader(b);
          ImageReader.readBatSlots(b, h);
        }
      }
      return null;
    } catch (Throwable t) {
      return t;
    }
  }
}
