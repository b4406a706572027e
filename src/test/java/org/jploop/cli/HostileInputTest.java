package org.jploop.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.jploop.format.ImageHeader;
import org.jploop.testing.FileDigest;
import org.jploop.testing.ImageMutator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile input against {@code ploop info} and {@code ploop check}, run in-process through {@link
 * PloopCli#newCommandLine}: seeded {@link ImageMutator} cases (corrupted headers and BATs,
 * truncated and extended files, hostile DiskDescriptor.xml, path tricks). For every case: the verb
 * returns within the timeout; a failure is a non-zero ploop exit code with an error line naming the
 * file and no stack trace or exception class name; a certainly-broken disk is refused; and no byte
 * of the image or descriptor changes unless a repair flag was given (the DiskDescriptor.xml form of
 * check may clear the in-use header fields, as ploop's does). The same cases through the real jar
 * and through {@code mount} are in {@code HostileInputIT}.
 */
class HostileInputTest {
  static final long SEED = Long.getLong("fuzz.seed", 6_2026_11_23L);
  static final int CASES = Integer.getInteger("fuzz.cliCases", 10_000);

  /** The verb lines tried; {@code X} is the descriptor, {@code I} the image. */
  static final String[][] VARIANTS = {
    {"info", "X"},
    {"info", "-s", "X"},
    {"info", "I"},
    {"info", "--json", "X"},
    {"check", "I"},
    {"check", "-c", "I"},
    {"check", "-r", "-c", "-f", "I"},
    {"check", "-r", "X"},
    {"check", "-f", "I"},
    {"check", "-F", "-c", "I"},
    {"check", "-d", "I"},
    {"check", "-f", "-F", "-d", "X"},
  };

  private Path work;

  @BeforeEach
  void setUp() throws IOException {
    // tmpfs when there is one: 10,000 cases rewrite a few hundred KiB each
    Path shm = Path.of("/dev/shm");
    work =
        Files.isDirectory(shm) && Files.isWritable(shm)
            ? Files.createTempDirectory(shm, "jploop-fuzz-")
            : Files.createTempDirectory("jploop-fuzz-");
  }

  @AfterEach
  void tearDown() throws IOException {
    ImageMutator.deleteTree(work);
  }

  /** What one run of the CLI returned. */
  record Outcome(int exit, String out, String err) {}

  static Outcome runInProcess(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int rc = PloopCli.newCommandLine(new PrintWriter(out), new PrintWriter(err)).execute(args);
    return new Outcome(rc, out.toString(), err.toString());
  }

  /** Substitutes the case's files into a variant. */
  static String[] argsFor(String[] variant, ImageMutator.Case c) {
    String[] a = variant.clone();
    for (int i = 0; i < a.length; i++) {
      if (a[i].equals("X")) {
        a[i] = c.xml().toString();
      } else if (a[i].equals("I")) {
        a[i] = c.image().toString();
      }
    }
    return a;
  }

  /** Whether the variant asks for a repair (so the files may change). */
  static boolean repairs(String[] variant) {
    List<String> v = List.of(variant);
    return v.get(0).equals("check")
        && !v.contains("-r")
        && (v.contains("-f") || v.contains("-F") || v.contains("-d"));
  }

  /** Whether the variant is check's DiskDescriptor.xml form (drops a clean image's in-use flag). */
  static boolean dropsInUse(String[] variant) {
    return variant[0].equals("check") && variant[variant.length - 1].equals("X");
  }

  /** Checks the rules for one finished case; returns a short outcome key for the tally. */
  static String verify(
      ImageMutator.Case c,
      String[] variant,
      Outcome o,
      String imgBefore,
      String imgBeforeNoHeader,
      String xmlBefore,
      long seed)
      throws IOException {
    String what =
        String.join(" ", variant)
            + " on "
            + c.describe()
            + " (run seed "
            + seed
            + ")\nstdout: "
            + o.out()
            + "\nstderr: "
            + o.err();
    String all = o.out() + o.err();
    assertThat(all).as("stack trace: %s", what).doesNotContain("\tat ");
    assertThat(all)
        .as("exception name shown: %s", what)
        .doesNotContain("Exception")
        .doesNotContain("Error:")
        .doesNotContain("java.");
    boolean onImage = variant[variant.length - 1].equals("I");
    if (onImage ? c.imageMustFail() : c.mustFail()) {
      assertThat(o.exit()).as("accepted a broken disk: %s", what).isNotZero();
    }
    if (o.exit() != 0) {
      List<String> errLines = o.err().lines().filter(l -> !l.isBlank()).toList();
      assertThat(errLines).as("error lines: %s", what).isNotEmpty();
      if (o.exit() != ExitCode.PARAM) {
        assertThat(errLines).as("one error line: %s", what).hasSize(1);
        assertThat(errLines.get(0))
            .as("error must name a file: %s", what)
            .containsAnyOf(
                c.dir().toString(),
                "DiskDescriptor.xml",
                "root.hds",
                "outside.hds",
                "link-",
                "/etc/",
                "missing.hds");
      }
    }
    if (!repairs(variant)) {
      assertThat(FileDigest.sha256(c.xml()))
          .as("descriptor modified: %s", what)
          .isEqualTo(xmlBefore);
      if (dropsInUse(variant)) {
        assertThat(
                FileDigest.sha256Except(
                    c.image(), ImageHeader.OFFSET_DISK_IN_USE, ImageHeader.SIZE))
            .as("image modified beyond the in-use fields: %s", what)
            .isEqualTo(imgBeforeNoHeader);
      } else {
        assertThat(FileDigest.sha256(c.image()))
            .as("image modified: %s", what)
            .isEqualTo(imgBefore);
      }
    }
    return variant[0]
        + (variant[0].equals("check") && repairs(variant) ? "-repair" : "")
        + ":exit"
        + o.exit();
  }

  /**
   * Regression: {@code check DiskDescriptor.xml} without a repair flag must not touch a CLEAN image
   * (in-use flag clear) even though the descriptor form implies -c and -d; ploop itself skips a
   * clean image. Found by this fuzzer: it used to zero a bad padding slot ("... Fixed").
   */
  @Test
  void testCheckDescriptor_cleanImageWithBadPadding_notModified() throws Exception {
    ImageMutator mutator = new ImageMutator(work, SEED);
    ImageMutator.Case c = mutator.make(27); // [set byte 21372, set byte 18644, padding BAT != 0]
    String before = FileDigest.sha256(c.image());
    Outcome o = runInProcess("check", c.xml().toString());
    System.out.println("check DiskDescriptor.xml: exit " + o.exit() + "\n" + o.out() + o.err());
    assertThat(FileDigest.sha256(c.image()))
        .as("clean image modified without a repair flag")
        .isEqualTo(before);
  }

  @Test
  void testMutatedDisks_infoAndCheck_failCleanly() throws Exception {
    int workers = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
    Map<String, Integer> tally = new java.util.concurrent.ConcurrentSkipListMap<>();
    List<String> errorsSeen = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicInteger mustFail =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicLong slowestMs = new java.util.concurrent.atomic.AtomicLong();
    long start = System.nanoTime();
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(
            workers, r -> new Thread(r, "hostile-input-worker"));
    try {
      List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
      for (int w = 0; w < workers; w++) {
        int worker = w;
        futures.add(
            pool.submit(
                () -> {
                  // each worker has its own directory; case i is the same whichever worker makes it
                  ImageMutator mutator = new ImageMutator(work.resolve("w" + worker), SEED);
                  for (int i = worker; i < CASES; i += workers) {
                    ImageMutator.Case c = mutator.make(i);
                    String[] variant = VARIANTS[new Random(SEED + i).nextInt(VARIANTS.length)];
                    String imgBefore = FileDigest.sha256(c.image());
                    String imgNoHeader =
                        FileDigest.sha256Except(
                            c.image(), ImageHeader.OFFSET_DISK_IN_USE, ImageHeader.SIZE);
                    String xmlBefore = FileDigest.sha256(c.xml());
                    String[] args = argsFor(variant, c);
                    long t0 = System.nanoTime();
                    Outcome o =
                        assertTimeoutPreemptively(
                            Duration.ofSeconds(10),
                            () -> runInProcess(args),
                            () ->
                                "hang: "
                                    + String.join(" ", variant)
                                    + " on "
                                    + c.describe()
                                    + " (run seed "
                                    + SEED
                                    + ")");
                    slowestMs.accumulateAndGet((System.nanoTime() - t0) / 1_000_000, Math::max);
                    String key = verify(c, variant, o, imgBefore, imgNoHeader, xmlBefore, SEED);
                    if (tally.merge(key, 1, Integer::sum) == 1 && o.exit() != 0) {
                      errorsSeen.add(key + ": " + o.err().strip());
                    }
                    if (c.mustFail()) {
                      mustFail.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      for (java.util.concurrent.Future<?> f : futures) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          throw e.getCause() instanceof Error err ? err : new AssertionError(e.getCause());
        }
      }
    } finally {
      pool.shutdownNow();
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    System.out.println(
        "hostile-input: seed="
            + SEED
            + " inputs_tried="
            + CASES
            + " must_fail="
            + mustFail.get()
            + " hangs=0 stack_traces=0 unasked_writes=0 workers="
            + workers
            + " time_ms="
            + ms);
    System.out.println("hostile-input: outcomes " + tally);
    System.out.println("hostile-input: slowest case " + slowestMs.get() + " ms");
    errorsSeen.forEach(e -> System.out.println("hostile-input: sample error: " + e));
  }
}
