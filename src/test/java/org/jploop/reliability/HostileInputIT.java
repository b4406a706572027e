package org.jploop.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.jploop.daemon.MountStatus;
import org.jploop.format.ImageHeader;
import org.jploop.testing.FileDigest;
import org.jploop.testing.ImageMutator;
import org.jploop.testing.MountedDisk;
import org.jploop.testing.PloopProcess;
import org.junit.jupiter.api.Test;

/**
 * Hostile input through the real {@code jploop.jar} in child processes, including {@code mount}:
 * the same seeded {@link ImageMutator} cases as the in-process {@code HostileInputTest} (which runs
 * 10,000 of them against info and check), here a few hundred against {@code info} and {@code check}
 * and a few dozen against {@code mount}. For each: the process ends within its timeout, exits
 * non-zero for a certainly-broken disk with one error line naming the file and no stack trace; the
 * files are unchanged unless a repair was asked; a refused mount leaves no daemon, no FUSE mount
 * and no status file behind; a mount that succeeds unmounts cleanly.
 *
 * <p>System properties: {@code fuzz.seed}, {@code fuzz.jarCases} (120), {@code fuzz.mountCases}
 * (40).
 */
class HostileInputIT {
  private static final long SEED = Long.getLong("fuzz.seed", 6_2026_11_23L) + 1;
  private static final int JAR_CASES = Integer.getInteger("fuzz.jarCases", 120);
  private static final int MOUNT_CASES = Integer.getInteger("fuzz.mountCases", 40);
  private static final String[][] VARIANTS = {
    {"info", "X"},
    {"info", "-s", "X"},
    {"info", "I"},
    {"check", "I"},
    {"check", "-c", "I"},
    {"check", "-r", "X"},
    {"check", "-f", "-F", "-d", "I"},
  };

  @Test
  void testMutatedDisks_throughJarAndMount() throws Exception {
    PloopProcess.assumeMountable("HostileInputIT");
    Path work = Files.createTempDirectory(Path.of("/var/tmp"), "jploop-hostile-");
    Map<String, Integer> tally = new TreeMap<>();
    Random pick = new Random(SEED);
    long t0 = System.nanoTime();
    int mountsRefused = 0;
    int mountsAccepted = 0;
    try {
      ImageMutator mutator = new ImageMutator(work, SEED);
      for (int i = 0; i < JAR_CASES + MOUNT_CASES; i++) {
        ImageMutator.Case c = mutator.next();
        boolean mount = i >= JAR_CASES;
        String[] variant =
            mount ? new String[] {"mount", "X"} : VARIANTS[pick.nextInt(VARIANTS.length)];
        String[] args = variant.clone();
        for (int k = 0; k < args.length; k++) {
          args[k] =
              args[k].equals("X")
                  ? c.xml().toString()
                  : args[k].equals("I") ? c.image().toString() : args[k];
        }
        String img = FileDigest.sha256(c.image());
        String imgNoHeader =
            FileDigest.sha256Except(c.image(), ImageHeader.OFFSET_DISK_IN_USE, ImageHeader.SIZE);
        String xml = FileDigest.sha256(c.xml());
        PloopProcess.Result r = PloopProcess.ploop(120, args);
        String what =
            String.join(" ", variant)
                + " on "
                + c.describe()
                + " (run seed "
                + SEED
                + ")\n"
                + r.all();
        assertThat(r.err()).as("hang: %s", what).doesNotContain("TIMEOUT");
        String all = r.out() + r.err();
        assertThat(all)
            .as("stack trace: %s", what)
            .doesNotContain("\tat ")
            .doesNotContain("Exception")
            .doesNotContain("java.");
        boolean onImage = variant[variant.length - 1].equals("I");
        if (onImage ? c.imageMustFail() : c.mustFail()) {
          assertThat(r.exit()).as("accepted a broken disk: %s", what).isNotZero();
        }
        if (r.exit() != 0 && r.exit() != 38) {
          List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
          assertThat(lines).as("one error line: %s", what).hasSize(1);
          assertThat(lines.get(0))
              .as("names the file: %s", what)
              .containsAnyOf(
                  c.dir().toString(),
                  "DiskDescriptor.xml",
                  "root.hds",
                  "outside.hds",
                  "link-",
                  "/etc/",
                  "missing.hds");
        }
        boolean repair = List.of(variant).contains("-f");
        if (mount) {
          if (r.exit() == 0) {
            mountsAccepted++;
            MountedDisk d = new MountedDisk(c.xml());
            PloopProcess.Result um = d.umount();
            assertThat(um.exit()).as("umount after accepted %s: %s", what, um.all()).isZero();
          } else {
            mountsRefused++;
            assertThat(MountStatus.forDescriptor(c.xml())).as("status left by %s", what).isEmpty();
            assertThat(Files.readString(Path.of("/proc/self/mountinfo")))
                .as("FUSE mount left by %s", what)
                .doesNotContain(c.dir().toString());
            assertThat(FileDigest.sha256(c.image()))
                .as("refused mount wrote: %s", what)
                .isEqualTo(img);
            assertThat(FileDigest.sha256(c.xml()))
                .as("refused mount wrote: %s", what)
                .isEqualTo(xml);
          }
        } else if (!repair) {
          assertThat(FileDigest.sha256(c.xml())).as("descriptor modified: %s", what).isEqualTo(xml);
          if (variant[0].equals("check") && !onImage) {
            assertThat(
                    FileDigest.sha256Except(
                        c.image(), ImageHeader.OFFSET_DISK_IN_USE, ImageHeader.SIZE))
                .as("image modified: %s", what)
                .isEqualTo(imgNoHeader);
          } else {
            assertThat(FileDigest.sha256(c.image())).as("image modified: %s", what).isEqualTo(img);
          }
        }
        tally.merge(variant[0] + ":exit" + r.exit(), 1, Integer::sum);
      }
      long secs = (System.nanoTime() - t0) / 1_000_000_000L;
      System.out.println(
          "hostile-input-jar: seed="
              + SEED
              + " inputs_tried="
              + (JAR_CASES + MOUNT_CASES)
              + " (jar info/check "
              + JAR_CASES
              + ", mount "
              + MOUNT_CASES
              + ": refused "
              + mountsRefused
              + ", accepted and unmounted "
              + mountsAccepted
              + ") hangs=0 stack_traces=0 outcomes="
              + tally
              + " time_s="
              + secs);
    } finally {
      ImageMutator.deleteTree(work);
    }
  }
}
