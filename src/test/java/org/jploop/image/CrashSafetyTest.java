package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jploop.image.TestDisks.CLUSTER_BYTES;
import static org.jploop.image.TestDisks.cli;
import static org.jploop.image.TestDisks.writeRandom;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.jploop.format.FormatVersion;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Stops every offline operation dead after each of its durable steps (the {@link StepHook} throws
 * an Error, so nothing after it runs, like kill -9: written data stays in the page cache, the lock
 * dies with the descriptor), then recovers as ploop would ({@link CrashRecovery}: {@code ploop
 * check -F -c -d} on each image) and checks that every image opens with a sound BAT, that every
 * chain the operation was not asked to remove reads as before (or, for the top, as after) through
 * qemu-img and through {@code PloopDisk}, and that after a compaction every image passes qemu-img
 * check.
 */
class CrashSafetyTest {
  @RegisterExtension final Seed seed = new Seed();
  @TempDir Path root;

  static final String S1 = "{11111111-1111-4111-8111-111111111111}";
  static final String S2 = "{22222222-2222-4222-8222-222222222222}";

  /** The simulated crash. */
  static final class Crash extends Error {
    Crash(String step) {
      super("crash after: " + step);
    }
  }

  /** A disk to operate on, and what must stay visible. */
  record Fixture(Path xml, List<byte[]> topAllowed, Map<String, byte[]> snapshots) {}

  /** One operation under test. */
  enum Operation {
    MERGE_TOP,
    MERGE_ALL,
    DELETE_MIDDLE,
    SNAPSHOT,
    SWITCH,
    RESIZE,
    COMPACT,
    CONVERT_V1,
    CONVERT_RAW,
    CONVERT_FROM_RAW,
    PREALLOCATE,
    MERGE_TOP_INTO_RAW,
    MERGE_ALL_INTO_RAW;

    Fixture setup(Path dir, Random rnd) throws Exception {
      Path xml =
          TestDisks.newDisk(
              dir,
              300,
              this == CONVERT_V1
                  ? FormatVersion.V2
                  : rnd.nextBoolean() ? FormatVersion.V1 : FormatVersion.V2);
      byte[] m0 = writeRandom(xml, new byte[300 * CLUSTER_BYTES], rnd, 120);
      switch (this) {
        case MERGE_TOP, MERGE_ALL, DELETE_MIDDLE -> {
          assertThat(cli("snapshot", "-u", S1, xml.toString()).exitCode()).isZero();
          byte[] m1 = writeRandom(xml, m0, rnd, 90);
          assertThat(cli("snapshot", "-u", S2, xml.toString()).exitCode()).isZero();
          byte[] m2 = writeRandom(xml, m1, rnd, 90);
          Map<String, byte[]> snaps = new LinkedHashMap<>();
          if (this == MERGE_TOP) {
            snaps.put(S1, m0); // S2 is merged away
          } else if (this == DELETE_MIDDLE) {
            snaps.put(S2, m1); // S1 is deleted
          }
          return new Fixture(xml, List.of(m2), snaps);
        }
        case SNAPSHOT, RESIZE, COMPACT, CONVERT_RAW, PREALLOCATE -> {
          if (this == COMPACT) {
            m0 = punchSome(xml, m0, rnd);
          }
          return new Fixture(xml, List.of(m0), Map.of());
        }
        case SWITCH -> {
          assertThat(cli("snapshot", "-u", S1, xml.toString()).exitCode()).isZero();
          byte[] m1 = writeRandom(xml, m0, rnd, 90);
          return new Fixture(xml, List.of(m1, m0), Map.of(S1, m0));
        }
        case CONVERT_V1 -> {
          assertThat(cli("snapshot", "-u", S1, xml.toString()).exitCode()).isZero();
          byte[] m1 = writeRandom(xml, m0, rnd, 90);
          return new Fixture(xml, List.of(m1), Map.of(S1, m0));
        }
        case CONVERT_FROM_RAW -> {
          assertThat(cli("convert", "-f", "raw", xml.toString()).exitCode()).isZero();
          return new Fixture(xml, List.of(m0), Map.of());
        }
        case MERGE_TOP_INTO_RAW, MERGE_ALL_INTO_RAW -> {
          assertThat(cli("convert", "-f", "raw", xml.toString()).exitCode()).isZero();
          assertThat(cli("snapshot", "-u", S1, xml.toString()).exitCode()).isZero();
          byte[] m1 = writeRandom(xml, m0, rnd, 90);
          if (this == MERGE_TOP_INTO_RAW) {
            return new Fixture(xml, List.of(m1), Map.of());
          }
          assertThat(cli("snapshot", "-u", S2, xml.toString()).exitCode()).isZero();
          byte[] m2 = writeRandom(xml, m1, rnd, 90);
          return new Fixture(xml, List.of(m2), Map.of());
        }
        default -> throw new IllegalStateException();
      }
    }

    void run(Path xml, StepHook hook) throws IOException {
      PrintWriter log = new PrintWriter(new StringWriter());
      try (OfflineDisk disk = OfflineDisk.open(xml, "crash test")) {
        switch (this) {
          case MERGE_TOP ->
              new SnapshotMerger(disk, Progress.QUIET, log, hook).mergeIntoParent(Guid.TOP_DELTA);
          case MERGE_ALL -> new SnapshotMerger(disk, Progress.QUIET, log, hook).mergeAll();
          case DELETE_MIDDLE -> new SnapshotDeleter(disk, Progress.QUIET, log, hook).delete(S1);
          case SNAPSHOT -> new SnapshotCreator(disk, hook).create(S1);
          case SWITCH -> new SnapshotSwitcher(disk, hook).switchTo(S1);
          case RESIZE -> new DiskResizer(disk, hook).resize(9000L * TestDisks.CLUSTER_SECTORS);
          case COMPACT -> {
            try (DeltaFile d = DeltaFile.open(disk.fileOf(Guid.TOP_DELTA), false)) {
              new Compactor(Progress.QUIET, hook).compact(d);
            }
          }
          case CONVERT_V1 ->
              new FormatConverter(disk, Progress.QUIET, log, hook).convertVersion(FormatVersion.V1);
          case CONVERT_RAW -> new FormatConverter(disk, Progress.QUIET, log, hook).toRaw();
          case CONVERT_FROM_RAW ->
              new FormatConverter(disk, Progress.QUIET, log, hook).toPloop(FormatVersion.V2);
          case PREALLOCATE -> new FormatConverter(disk, Progress.QUIET, log, hook).toPreallocated();
          case MERGE_TOP_INTO_RAW ->
              new SnapshotMerger(disk, Progress.QUIET, log, hook).mergeIntoParent(Guid.TOP_DELTA);
          case MERGE_ALL_INTO_RAW -> new SnapshotMerger(disk, Progress.QUIET, log, hook).mergeAll();
          default -> throw new IllegalStateException();
        }
      }
    }
  }

  /** Unmaps about a third of the top's clusters so compaction has holes to fill. */
  private static byte[] punchSome(Path xml, byte[] model, Random rnd) throws Exception {
    byte[] next = model.clone();
    Path top = TestDisks.top(xml);
    try (DeltaFile d = DeltaFile.open(top, false)) {
      for (long c = 0; c < d.batEntries(); c++) {
        long p = d.physicalOf(c);
        if (p != 0 && rnd.nextInt(3) == 0) {
          d.map(c, 0);
          d.file().punchHole(p * CLUSTER_BYTES, CLUSTER_BYTES);
          Arrays.fill(next, (int) (c * CLUSTER_BYTES), (int) ((c + 1) * CLUSTER_BYTES), (byte) 0);
        }
      }
      d.writeDirtyBatPages();
      d.force();
    }
    return next;
  }

  /** Reads a chain and compares it with a model, zero-extending the model to a grown size. */
  private static boolean reads(Path xml, String guid, byte[] model) throws Exception {
    DiskDescriptor d = DiskDescriptor.read(xml);
    List<Path> files = new ArrayList<>();
    for (DiskDescriptor.ImageEntry e : d.chain(xml, guid == null ? d.topGuid() : guid)) {
      files.add(DiskDescriptor.resolveImage(xml, e));
    }
    long size;
    if (d.raw() && files.size() == 1) {
      size = Files.size(files.get(0));
    } else {
      try (DeltaFile top = DeltaFile.open(files.get(files.size() - 1), true)) {
        size = top.header().sizeSectors() * 512;
      }
    }
    byte[] actual = TestDisks.visible(files, d.raw(), size);
    boolean same =
        Arrays.equals(actual, Arrays.copyOf(model, actual.length)) && actual.length >= model.length;
    if (same && !d.raw()) {
      byte[] viaEngine = TestDisks.visibleViaEngine(xml, guid);
      assertThat(Arrays.equals(viaEngine, actual))
          .as("PloopDisk reads " + guid + " like qemu-img")
          .isTrue();
    }
    return same;
  }

  @ParameterizedTest
  @EnumSource(Operation.class)
  void crashAfterEveryStep_leavesARecoverableImage(Operation op) throws Exception {
    Random rnd = seed.random();
    // Count the steps on a clean run, and check the clean run itself.
    List<String> steps = new ArrayList<>();
    Path cleanDir = Files.createDirectory(root.resolve("clean"));
    Fixture clean = op.setup(cleanDir, new Random(seed.value));
    op.run(clean.xml(), steps::add);
    assertThat(steps).as("steps of " + op).isNotEmpty();
    assertThat(reads(clean.xml(), null, clean.topAllowed().get(clean.topAllowed().size() - 1)))
        .as(op + " result")
        .isTrue();
    System.out.println(op + ": " + steps.size() + " durable steps");

    for (int n = 0; n < steps.size(); n++) {
      Path dir = Files.createDirectory(root.resolve("crash" + n));
      Fixture f = op.setup(dir, new Random(seed.value));
      int stopAt = n;
      int[] seen = {0};
      try {
        op.run(
            f.xml(),
            step -> {
              if (seen[0]++ == stopAt) {
                throw new Crash(step);
              }
            });
        throw new AssertionError(op + " did not reach step " + n);
      } catch (Crash expected) {
        // the process "died" here
      }
      String what = op + " crashed after step " + n + " (" + steps.get(n) + ")";
      CrashRecovery.recover(f.xml());
      boolean topOk = false;
      for (byte[] allowed : f.topAllowed()) {
        topOk |= reads(f.xml(), null, allowed);
      }
      assertThat(topOk).as(what + ": top chain content").isTrue();
      DiskDescriptor d = DiskDescriptor.read(f.xml());
      for (Map.Entry<String, byte[]> s : f.snapshots().entrySet()) {
        assertThat(d.shot(s.getKey())).as(what + ": snapshot " + s.getKey()).isNotNull();
        assertThat(reads(f.xml(), s.getKey(), s.getValue()))
            .as(what + ": snapshot " + s.getKey() + " content")
            .isTrue();
      }
      // Orphaned tail clusters are leaks for qemu-img; compaction reclaims them.
      TestDisks.CliResult c = cli("compact", f.xml().toString());
      assertThat(c.exitCode()).as(what + ": compact " + c.err()).isZero();
      TestDisks.assertQemuClean(f.xml());
      boolean stillOk = false;
      for (byte[] allowed : f.topAllowed()) {
        stillOk |= reads(f.xml(), null, allowed);
      }
      assertThat(stillOk).as(what + ": top chain after compaction").isTrue();
    }
  }
}
