package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.image.TestDisks.CLUSTER_BYTES;
import static org.jploop.image.TestDisks.cli;
import static org.jploop.image.TestDisks.writeRandom;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.jploop.engine.EngineOptions;
import org.jploop.engine.PloopDisk;
import org.jploop.format.FormatVersion;
import org.jploop.io.BlockFile;
import org.jploop.io.FileBlockFile;
import org.jploop.testing.CrashingBlockFile;
import org.jploop.testing.ForwardingBlockFile;
import org.jploop.testing.MemoryBlockFile;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Power loss inside the data-moving operations: the delta being changed sits on a {@link
 * CrashingBlockFile}, the operation is stopped just before its N-th fsync, and several seeded "what
 * the disk could hold now" images are built from the durable state plus a random subset of the
 * unsynced writes (reordered, one possibly torn). Each must open with a sound BAT and, under its
 * chain, read exactly like the model: this is what proves the fsync ordering (data before the BAT
 * entry, BAT before freeing a cluster, zeroed BAT area before the new header).
 */
class PowerLossTest {
  @RegisterExtension final Seed seed = new Seed();
  @TempDir Path dir;

  /** The simulated power cut. */
  static final class PowerCut extends Error {
    PowerCut() {
      super("power cut");
    }
  }

  /** Passes everything to a {@link CrashingBlockFile}, cutting power before the N-th fsync. */
  static final class CutBeforeForce extends ForwardingBlockFile {
    final CrashingBlockFile file;
    final int cutAt;
    int forces;

    CutBeforeForce(CrashingBlockFile file, int cutAt) {
      super(file);
      this.file = file;
      this.cutAt = cutAt;
    }

    @Override
    public boolean readOnly() {
      return false;
    }

    @Override
    public void force() throws IOException {
      if (forces++ == cutAt) {
        throw new PowerCut();
      }
      file.force();
    }

    @Override
    public void close() {}
  }

  enum Op {
    MERGE,
    GROW,
    COMPACT
  }

  private static MemoryBlockFile load(Path p) throws IOException {
    MemoryBlockFile m = new MemoryBlockFile(p, false);
    m.write(ByteBuffer.wrap(Files.readAllBytes(p)), 0);
    return m;
  }

  private static byte[] read(List<BlockFile> chain) throws IOException {
    try (PloopDisk disk =
        PloopDisk.open(chain, EngineOptions.defaults().readOnly(true).allowDirty(true))) {
      ByteBuffer b = ByteBuffer.allocate((int) disk.size());
      disk.read(b, 0);
      return b.array();
    }
  }

  @ParameterizedTest
  @EnumSource(Op.class)
  void powerCutBeforeEveryFsync_keepsEveryChainReadable(Op op) throws Exception {
    Random rnd = seed.random();
    Path xml = TestDisks.newDisk(dir, 300, rnd.nextBoolean() ? FormatVersion.V1 : FormatVersion.V2);
    byte[] model = writeRandom(xml, new byte[300 * CLUSTER_BYTES], rnd, 150);
    Path base = dir.resolve("root.hds");
    Path child = null;
    if (op == Op.MERGE) {
      assertThat(cli("snapshot", xml.toString()).exitCode()).isZero();
      model = writeRandom(xml, model, rnd, 120);
      child = TestDisks.top(xml);
    } else if (op == Op.COMPACT) {
      try (DeltaFile d = DeltaFile.open(base, false)) {
        for (long c = 0; c < d.batEntries(); c++) {
          if (d.physicalOf(c) != 0 && rnd.nextInt(3) == 0) {
            d.map(c, 0);
            Arrays.fill(
                model, (int) (c * CLUSTER_BYTES), (int) ((c + 1) * CLUSTER_BYTES), (byte) 0);
          }
        }
        d.writeDirtyBatPages();
        d.force();
      }
    }
    MemoryBlockFile initial = load(base);
    int forces = Integer.MAX_VALUE;
    int images = 0;
    for (int cut = 0; cut <= forces; cut++) {
      CrashingBlockFile crashing = new CrashingBlockFile(initial);
      CutBeforeForce f = new CutBeforeForce(crashing, cut);
      boolean finished = false;
      try {
        DeltaFile dest = DeltaFile.of(f);
        switch (op) {
          case MERGE -> {
            try (DeltaFile src = DeltaFile.open(child, true)) {
              new DeltaMerger(Progress.QUIET, StepHook.NONE).merge(List.of(src), dest);
            }
          }
          case GROW -> new DeltaGrower(StepHook.NONE).grow(dest, 9000L * 64);
          case COMPACT -> new Compactor(Progress.QUIET, StepHook.NONE).compact(dest);
          default -> throw new IllegalStateException();
        }
        finished = true;
        forces = f.forces;
      } catch (PowerCut expected) {
        // power is gone before fsync number `cut`
      }
      for (int k = 0; k < (finished ? 1 : 6); k++) {
        MemoryBlockFile after = finished ? crashing.durableCopy() : crashing.crash(rnd);
        String what = op + ", power cut before fsync " + cut + ", outcome " + k;
        try {
          DeltaFile.of(after.copy(true)).close(); // sound BAT: aligned, inside, no duplicates
        } catch (IOException e) {
          throw new AssertionError(what + ": image does not open: " + e.getMessage(), e);
        }
        List<BlockFile> chain = new ArrayList<>();
        chain.add(after.copy(true));
        if (child != null) {
          chain.add(FileBlockFile.open(child, true));
        }
        byte[] visible = read(chain);
        assertThat(visible.length).as(what).isGreaterThanOrEqualTo(model.length);
        TestDisks.assertSameContent(visible, Arrays.copyOf(model, visible.length), what);
        images++;
      }
    }
    System.out.println(op + ": " + forces + " fsyncs, " + images + " crash images verified");
    assertThat(forces).isGreaterThan(2);
  }
}
