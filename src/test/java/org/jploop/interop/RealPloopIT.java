package org.jploop.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jploop.cli.PloopCli;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jploop against the real ploop 1.15 tool (Debian 12's package, run offline by {@code
 * .ci/realploop.sh}; {@code REALPLOOP_SH} overrides the path). Every scenario runs the same
 * commands on two copies of a disk, one with jploop ({@code j/}) and one with real ploop ({@code
 * r/}), with the same data written by qemu-io, and requires: the same descriptor (apart from the
 * root element's name and random file GUIDs), the same header and BAT bytes for every delta, the
 * same content (qemu-img compare), and that each tool's {@code check}, {@code info -s} and {@code
 * snapshot-list} accept the other's result with the same output. Skipped, with a banner on stderr,
 * where the real tool cannot be set up (no network for apt-get download, no gcc).
 *
 * <p>Seeded: {@code -Dinterop.seed=N}; the seed is in every failure message.
 */
class RealPloopIT {
  private static final String S1 = "{11111111-1111-4111-8111-111111111111}";
  private static final String S2 = "{22222222-2222-4222-8222-222222222222}";
  private static final String S3 = "{33333333-3333-4333-8333-333333333333}";
  private static final long SEED = Long.getLong("interop.seed", System.nanoTime());

  private static Path realploop;

  @TempDir Path work;

  /** The output of one command. */
  record Run(int code, String out, String err) {
    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  @BeforeAll
  static void setUpRealPloop() throws Exception {
    String env = System.getenv("REALPLOOP_SH");
    Path script = Path.of(env != null ? env : ".ci/realploop.sh").toAbsolutePath();
    String why = null;
    if (!Files.isExecutable(script)) {
      why = script + " is missing";
    } else {
      Run r = exec(List.of(script.toString(), "info"), 300);
      if (r.code() != 38 || !r.err().contains("Usage: ploop info")) {
        why =
            "it did not start ("
                + r.err().lines().reduce((a, b) -> b).orElse("")
                + ", exit "
                + r.code()
                + "; it needs apt-get download access and gcc)";
      }
    }
    if (why != null) {
      System.err.println(
          "\n****************************************************************\n"
              + "* WARNING: RealPloopIT SKIPPED: the real ploop 1.15 tool is not available:\n* "
              + why
              + "\n****************************************************************\n");
    }
    assumeTrue(why == null, "real ploop 1.15 not available: " + why);
    realploop = script;
    System.err.println("RealPloopIT: seed " + SEED + " (-Dinterop.seed=" + SEED + ")");
  }

  // ---- scenarios ----

  /** init v1/v2 at several cluster sizes: identical files and descriptors, then data. */
  @Test
  void testInit_versionsAndClusterSizes() throws Exception {
    int[][] cases = {{1, 64}, {2, 64}, {2, 512}, {1, 2048}, {2, 2048}};
    for (int[] c : cases) {
      Pair p = pair("init-v" + c[0] + "-b" + c[1]);
      p.both(
          "init",
          "-s",
          "96M",
          "-t",
          "none",
          "-v",
          Integer.toString(c[0]),
          "-b",
          Integer.toString(c[1]),
          "{dir}/root.hds");
      p.assertSame("after init v" + c[0] + " -b " + c[1]);
      assertThat(Files.readAllBytes(p.j("root.hds")))
          .as(p.what("root.hds bytes"))
          .isEqualTo(Files.readAllBytes(p.r("root.hds")));
      p.write(40, 96L << 20);
      p.assertSame("after writes");
      p.crossCheck();
    }
  }

  /**
   * snapshot, snapshot-merge -u and -A, snapshot-delete (one child: merge; no child: drop),
   * snapshot-switch, on a 4-delta chain base -S1- d1 -S2- d2 -S3- top, for v2 and v1.
   */
  @Test
  void testSnapshotLifecycle() throws Exception {
    for (String v : new String[] {"2", "1"}) {
      Pair p = chain("life-v" + v, v, "512");
      p.both("snapshot-merge", "-u", S2, "{xml}"); // S2 takes over S1's file: S2 - S3 - top
      p.assertSame("after snapshot-merge -u S2");
      p.crossCheck();
      p.both("snapshot-delete", "-u", S3, "{xml}"); // top merged into S3's file: S2 - top
      p.assertSame("after snapshot-delete -u S3");
      p.crossCheck();
      p.write(10, 64L << 20);
      p.both("snapshot", "-u", S1, "{xml}"); // S2 - S1 - top
      p.write(10, 64L << 20);
      p.both("snapshot-switch", "-u", S2, "{xml}"); // S2 - S1, S2 - new top
      p.assertSame("after snapshot-switch -u S2");
      p.crossCheck();
      p.write(10, 64L << 20);
      p.both("snapshot-delete", "-u", S1, "{xml}"); // no child: dropped
      p.assertSame("after snapshot-delete -u S1");
      p.both("snapshot-merge", "-A", "{xml}");
      p.assertSame("after snapshot-merge -A");
      p.crossCheck();
    }
  }

  /** convert -v 2 and back to -v 1 on a chain. */
  @Test
  void testConvertVersion() throws Exception {
    Pair p = chain("convert", "1", "2048");
    p.both("convert", "-v", "2", "{xml}");
    p.assertSame("after convert -v 2");
    p.crossCheck();
    p.both("convert", "-v", "1", "{xml}");
    p.assertSame("after convert -v 1");
    p.crossCheck();
  }

  /** grow of a disk (top delta relocates data under the bigger BAT) and of a bare delta. */
  @Test
  void testGrow() throws Exception {
    Pair p = pair("grow");
    p.both("init", "-s", "256M", "-t", "none", "-b", "64", "{dir}/root.hds");
    p.write(60, 256L << 20);
    p.both("grow", "-s", "512M", "{xml}");
    p.assertSame("after grow -s 512M DiskDescriptor.xml");
    p.crossCheck();
    p.both("grow", "-s", "1G", "{dir}/root.hds");
    p.assertSame("after grow -s 1G root.hds");
    p.crossCheck();
  }

  /** restore-descriptor for ploop1 images of both versions and a raw image. */
  @Test
  void testRestoreDescriptor() throws Exception {
    for (String[] c : new String[][] {{"2", "ploop1"}, {"1", "ploop1"}, {"2", "raw"}}) {
      Pair p = pair("restore-" + c[0] + c[1]);
      p.both(
          "init", "-s", "80M", "-t", "none", "-v", c[0], "-f", c[1], "-b", "128", "{dir}/root.hds");
      if (c[1].equals("ploop1")) {
        p.write(10, 80L << 20);
      }
      Files.delete(p.j(DiskDescriptor.FILE_NAME));
      Files.delete(p.r(DiskDescriptor.FILE_NAME));
      if (c[1].equals("raw")) {
        p.both("restore-descriptor", "-f", "raw", "-b", "128", "{dir}", "{dir}/root.hds");
      } else {
        p.both("restore-descriptor", "{dir}", "{dir}/root.hds");
      }
      p.assertSame("after restore-descriptor " + Arrays.toString(c));
      p.crossCheck();
    }
  }

  /** ploop merge of bare deltas, into the base and into a new delta. */
  @Test
  void testBareMerge() throws Exception {
    Pair p = pair("merge");
    Random rnd = new Random(SEED);
    for (String name : new String[] {"base.hds", "mid.hds", "top.hds"}) {
      long size = (name.equals("top.hds") ? 192L : 128L) << 20;
      for (Path d : new Path[] {p.jdir, p.rdir}) {
        run(
            "qemu-img",
            "create",
            "-q",
            "-f",
            "parallels",
            "-o",
            "cluster_size=256K",
            d.resolve(name).toString(),
            Long.toString(size));
      }
      p.writeTo(name, rnd, 15, size);
    }
    p.both("merge", "-n", "{dir}/new.hds", "{dir}/top.hds", "{dir}/mid.hds", "{dir}/base.hds");
    p.assertSameBytes("new.hds");
    p.both("merge", "{dir}/top.hds", "{dir}/mid.hds", "{dir}/base.hds");
    p.assertSameBytes("base.hds");
    Run cmp =
        run(
            "qemu-img",
            "compare",
            "-f",
            "parallels",
            "-F",
            "parallels",
            p.j("base.hds").toString(),
            p.j("new.hds").toString());
    assertThat(cmp.code()).as(p.what(cmp.toString())).isZero();
  }

  // ---- the two disks ----

  /** A disk directory for jploop and one for real ploop, under the same scenario name. */
  private Pair pair(String name) throws IOException {
    return new Pair(
        name,
        Files.createDirectories(work.resolve(name).resolve("j")),
        Files.createDirectories(work.resolve(name).resolve("r")));
  }

  /** base -S1- d1 -S2- d2 -S3- top, data written at every level. */
  private Pair chain(String name, String version, String blocksize) throws Exception {
    Pair p = pair(name);
    p.both("init", "-s", "64M", "-t", "none", "-v", version, "-b", blocksize, "{dir}/root.hds");
    p.write(30, 64L << 20);
    for (String s : new String[] {S1, S2, S3}) {
      p.both("snapshot", "-u", s, "{xml}");
      p.write(20, 64L << 20);
    }
    p.assertSame("chain of four");
    p.crossCheck();
    return p;
  }

  private final class Pair {
    final String name;
    final Path jdir;
    final Path rdir;
    final Random rnd;

    Pair(String name, Path jdir, Path rdir) {
      this.name = name;
      this.jdir = jdir;
      this.rdir = rdir;
      this.rnd = new Random(SEED ^ name.hashCode());
    }

    Path j(String f) {
      return jdir.resolve(f);
    }

    Path r(String f) {
      return rdir.resolve(f);
    }

    String what(String s) {
      return name + " (seed " + SEED + "): " + s;
    }

    /** Runs {@code args} with jploop in j/ and real ploop in r/; both must succeed alike. */
    void both(String... args) throws Exception {
      Run j = jploop(substitute(args, jdir));
      Run r = real(substitute(args, rdir));
      assertThat(j.code())
          .as(what("jploop " + String.join(" ", args) + "\n" + j + "\nreal:\n" + r))
          .isEqualTo(r.code())
          .isZero();
    }

    /** Writes {@code n} random extents (seeded) to the top delta of both disks. */
    void write(int n, long size) throws Exception {
      DiskDescriptor d = DiskDescriptor.read(j(DiskDescriptor.FILE_NAME));
      String top = Path.of(d.image(d.topGuid()).file()).getFileName().toString();
      DiskDescriptor rd = DiskDescriptor.read(r(DiskDescriptor.FILE_NAME));
      String rtop = Path.of(rd.image(rd.topGuid()).file()).getFileName().toString();
      List<String> cmds = extents(rnd, n, size);
      qemuIo(j(top), cmds);
      qemuIo(r(rtop), cmds);
    }

    /** Writes the same random extents to the file {@code name} of both directories. */
    void writeTo(String name, Random r, int n, long size) throws Exception {
      List<String> cmds = extents(r, n, size);
      qemuIo(j(name), cmds);
      qemuIo(this.r(name), cmds);
    }

    /** The same bytes, but for ploop's stale CIF_Empty ({@link #ploopFlagsFixed}). */
    void assertSameBytes(String file) throws IOException {
      byte[] jb = Files.readAllBytes(j(file));
      byte[] rb = Files.readAllBytes(r(file));
      ploopFlagsFixed(j(file), jb, rb);
      assertThat(jb).as(what(file + ": jploop vs ploop bytes")).isEqualTo(rb);
    }

    /**
     * The same descriptor (root element and file GUIDs aside), the same header+BAT bytes and file
     * length for every image, and the same content for the top chain and every snapshot.
     */
    void assertSame(String when) throws Exception {
      Path jx = j(DiskDescriptor.FILE_NAME);
      Path rx = r(DiskDescriptor.FILE_NAME);
      assertThat(normalized(jx)).as(what(when + ": DiskDescriptor.xml")).isEqualTo(normalized(rx));
      DiskDescriptor jd = DiskDescriptor.read(jx);
      DiskDescriptor rd = DiskDescriptor.read(rx);
      for (DiskDescriptor.ImageEntry je : jd.images()) {
        Path jf = jd.fileOf(jx, je);
        Path rf = rd.fileOf(rx, rd.image(je.guid()));
        if (jd.raw() && je == jd.images().get(0)) {
          assertSameFile(when, jf, rf);
          continue;
        }
        assertThat(Files.size(jf))
            .as(what(when + ": length of " + je.guid()))
            .isEqualTo(Files.size(rf));
        byte[] jh = headerArea(jf);
        byte[] rh = headerArea(rf);
        ploopFlagsFixed(jf, jh, rh);
        assertThat(jh)
            .as(what(when + ": header and BAT of " + je.guid() + " (" + jf.getFileName() + ")"))
            .isEqualTo(rh);
      }
      for (DiskDescriptor.Shot s : jd.shots()) {
        Path jraw = work.resolve("j.raw");
        Path rraw = work.resolve("r.raw");
        exportChain(jd, jx, s.guid(), jraw);
        exportChain(rd, rx, s.guid(), rraw);
        assertSameFile(when + ", content as of " + s.guid(), jraw, rraw);
      }
    }

    private void assertSameFile(String when, Path a, Path b) throws Exception {
      Run cmp = run("cmp", a.toString(), b.toString());
      assertThat(cmp.code()).as(what(when + ": " + cmp.out() + cmp.err())).isZero();
    }

    /**
     * Each tool on the other's disk: check (descriptor form, and every delta read-only and
     * detailed), info -s and snapshot-list give the same result as on its own disk.
     */
    void crossCheck() throws Exception {
      for (String[] verb :
          new String[][] {
            {"info", "-s", "{xml}"}, {"snapshot-list", "{xml}"}, {"check", "{xml}"}
          }) {
        Run realOnJ = real(substitute(verb, jdir));
        Run realOnR = real(substitute(verb, rdir));
        Run jOnR = jploop(substitute(verb, rdir));
        Run jOnJ = jploop(substitute(verb, jdir));
        String v = String.join(" ", verb);
        assertThat(realOnJ.code())
            .as(what("real ploop " + v + " on jploop's disk\n" + realOnJ))
            .isEqualTo(realOnR.code())
            .isZero();
        assertThat(jOnR.code())
            .as(what("jploop " + v + " on ploop's disk\n" + jOnR))
            .isEqualTo(jOnJ.code())
            .isZero();
        if (!verb[0].equals("check")) {
          assertThat(paths(realOnJ.out(), jdir))
              .as(what("real " + v + " output on j vs r"))
              .isEqualTo(paths(realOnR.out(), rdir));
          assertThat(paths(jOnR.out(), rdir))
              .as(what("jploop " + v + " output on r vs j"))
              .isEqualTo(paths(jOnJ.out(), jdir));
        }
        if (verb[0].equals("info")) {
          assertThat(jOnJ.out())
              .as(what("info -s: jploop vs ploop"))
              .isEqualTo(realOnR.out().replaceAll("(?m)^Opening delta .*\n", ""));
        }
      }
      // every delta read-only and detailed: each tool judges the other's file as its own. Real
      // ploop may say 7 (CIF_Empty left set by qemu-io's writes) or 11 ("sparse": qemu-io leaves
      // holes and unwritten extents inside clusters) on both; jploop must say 0 on ploop's.
      Path jx = j(DiskDescriptor.FILE_NAME);
      Path rx = r(DiskDescriptor.FILE_NAME);
      DiskDescriptor jd = DiskDescriptor.read(jx);
      DiskDescriptor rd = DiskDescriptor.read(rx);
      for (DiskDescriptor.ImageEntry e : jd.images()) {
        if (jd.raw() && e == jd.images().get(0)) {
          continue;
        }
        Path jf = jd.fileOf(jx, e);
        Path rf = rd.fileOf(rx, rd.image(e.guid()));
        Run realOnJ = real("check", "-f", "-c", "-r", jf.toString());
        Run realOnR = real("check", "-f", "-c", "-r", rf.toString());
        assertThat(realOnJ.code())
            .as(
                what(
                    "real ploop check -f -c -r on jploop's "
                        + jf
                        + "\n"
                        + realOnJ
                        + "\non its own:\n"
                        + realOnR))
            .isEqualTo(realOnR.code());
        Run jOnR = jploop("check", "-f", "-c", "-r", rf.toString());
        assertThat(jOnR.code()).as(what("jploop check -f -c -r " + rf + "\n" + jOnR)).isZero();
      }
    }
  }

  // ---- helpers ----

  /**
   * ploop 1.15 leaves CIF_Empty (bit 0 of m_Flags, byte 52) set on a delta it merged data into
   * (merge -n, snapshot-delete into a fresh file) and its own check -f then reports "CIF_Empty flag
   * is incorrect" (README: a ploop bug). jploop's must be right: set exactly when the BAT maps
   * nothing. Where only that bit differs, ploop's copy {@code rb} is corrected before comparing.
   */
  static void ploopFlagsFixed(Path jploopFile, byte[] jb, byte[] rb) throws IOException {
    if (jb.length < 64 || rb.length < 64 || ((jb[52] ^ rb[52]) & 1) == 0) {
      return;
    }
    try (org.jploop.image.DeltaFile d = org.jploop.image.DeltaFile.open(jploopFile, true)) {
      boolean empty = d.mappedCount() == 0;
      assertThat((jb[52] & 1) != 0)
          .as(jploopFile + ": CIF_Empty with " + d.mappedCount() + " clusters mapped")
          .isEqualTo(empty);
    }
    rb[52] = (byte) ((rb[52] & ~1) | (jb[52] & 1));
  }

  /** Replaces {dir} and {xml} in the arguments. */
  private static String[] substitute(String[] args, Path dir) {
    String[] out = new String[args.length];
    for (int i = 0; i < args.length; i++) {
      out[i] =
          args[i]
              .replace("{xml}", dir.resolve(DiskDescriptor.FILE_NAME).toString())
              .replace("{dir}", dir.toString());
    }
    return out;
  }

  /** The descriptor text with the root element renamed and the file GUIDs of delta names masked. */
  static String normalized(Path xml) throws IOException {
    return Files.readString(xml)
        .replace("Parallels_disk_image", "Virtuozzo_disk_image")
        .replaceAll("(<File>[^<]*\\.)\\{[0-9a-fA-F-]{36}}(</File>)", "$1{FILE-GUID}$2");
  }

  /** snapshot-list style output with the disk directory and delta file GUIDs masked. */
  static String paths(String out, Path dir) {
    return out.replace(dir.toString(), "DIR")
        .replaceAll("(?m)\\.\\{[0-9a-fA-F-]{36}}( |$)", ".{FILE-GUID}$1")
        .replaceAll("(?m)^Opening delta .*\n", "");
  }

  /** The header, BAT and padding of a delta: the bytes before its first data cluster. */
  static byte[] headerArea(Path f) throws IOException {
    long n;
    try (FileBlockFile b = FileBlockFile.open(f, true)) {
      ImageHeader h = ImageReader.readHeader(b);
      n = h.firstBlockOffset() * 512;
    }
    byte[] all = new byte[(int) n];
    try (var in = Files.newInputStream(f)) {
      assertThat(in.readNBytes(all, 0, all.length)).isEqualTo(all.length);
    }
    return all;
  }

  /** Exports the chain ending at {@code guid} to a raw file with qemu-img. */
  private static void exportChain(DiskDescriptor d, Path xml, String guid, Path out)
      throws Exception {
    String spec = null;
    List<Path> files = d.chainFiles(xml, guid);
    for (int i = 0; i < files.size(); i++) {
      String drv = d.raw() && i == 0 ? "raw" : "parallels";
      spec =
          "{\"driver\":\""
              + drv
              + "\",\"file\":{\"driver\":\"file\",\"filename\":\""
              + files.get(i)
              + "\"}"
              + (spec == null ? "" : ",\"backing\":" + spec)
              + "}";
    }
    Files.deleteIfExists(out);
    Run r = run("qemu-img", "convert", "-O", "raw", "json:" + spec, out.toString());
    assertThat(r.code()).as(r.toString()).isZero();
  }

  /** n writes of a random pattern at random 4 KiB-aligned places, up to 3 MiB each. */
  private static List<String> extents(Random rnd, int n, long size) {
    List<String> cmds = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long len = (1 + rnd.nextInt(768)) * 4096L;
      long off = (long) rnd.nextInt((int) ((size - len) / 4096)) * 4096;
      cmds.add("write -P " + (1 + rnd.nextInt(254)) + " " + off + " " + len);
    }
    return cmds;
  }

  private static void qemuIo(Path image, List<String> cmds) throws Exception {
    List<String> argv = new ArrayList<>(List.of("qemu-io", "-f", "parallels"));
    for (String c : cmds) {
      argv.add("-c");
      argv.add(c);
    }
    argv.add(image.toString());
    Run r = exec(argv, 120);
    assertThat(r.code()).as(r.toString()).isZero();
  }

  private static Run jploop(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int rc =
        PloopCli.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true))
            .execute(args);
    return new Run(rc, out.toString(), err.toString());
  }

  private static Run real(String... args) throws Exception {
    List<String> argv = new ArrayList<>(List.of(realploop.toString()));
    argv.addAll(List.of(args));
    return exec(argv, 120);
  }

  private static Run run(String... argv) throws Exception {
    return exec(List.of(argv), 120);
  }

  private static Run exec(List<String> argv, int timeoutSeconds) throws Exception {
    Path err = Files.createTempFile("realploop", ".err");
    try {
      Process p = new ProcessBuilder(argv).redirectError(err.toFile()).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + argv);
      }
      return new Run(
          p.exitValue(),
          new String(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(err);
    }
  }
}
