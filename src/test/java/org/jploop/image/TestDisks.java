package org.jploop.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jploop.cli.PloopCli;
import org.jploop.engine.EngineOptions;
import org.jploop.engine.PloopDisk;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageReader;
import org.jploop.io.ImageWriter;

/**
 * Test fixtures for image operations: builds disks and writes clusters into their top delta with an
 * independent little writer (append at EOF or overwrite in place, shuffled, then the BAT entry),
 * reads a chain's visible content through {@code qemu-img convert} with a nested json backing spec,
 * and runs {@code qemu-img check}.
 */
final class TestDisks {
  /** 32 KiB clusters keep test images small. */
  static final int CLUSTER_SECTORS = 64;

  static final int CLUSTER_BYTES = CLUSTER_SECTORS * 512;

  private TestDisks() {}

  /** Creates {@code dir/root.hds} of {@code clusters} clusters and its descriptor; returns xml. */
  static Path newDisk(Path dir, long clusters, FormatVersion version) throws IOException {
    ImageGeometry g = new ImageGeometry(CLUSTER_SECTORS, clusters);
    ImageWriter.createEmpty(dir.resolve("root.hds"), ImageHeader.create(version, g));
    Path xml = dir.resolve(DiskDescriptor.FILE_NAME);
    DiskDescriptor.forNewImage(g, "root.hds", false).write(xml);
    return xml;
  }

  /** Returns the file of the top delta. */
  static Path top(Path xml) throws IOException {
    DiskDescriptor d = DiskDescriptor.read(xml);
    return DiskDescriptor.read(xml).fileOf(xml, d.image(Guid.TOP_DELTA));
  }

  /**
   * Writes {@code n} random whole clusters (random positions, random bytes, some all-zero) to the
   * top delta and returns the new visible content (a modified copy of {@code model}).
   */
  static byte[] writeRandom(Path xml, byte[] model, Random rnd, int n) throws IOException {
    byte[] next = model.clone();
    long clusters = model.length / CLUSTER_BYTES;
    List<Long> picks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long c = rnd.nextInt((int) clusters);
      if (!picks.contains(c)) {
        picks.add(c);
      }
    }
    Collections.shuffle(picks, rnd);
    Path img = top(xml);
    try (FileChannel ch =
        FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ImageHeader h;
      try (FileBlockFile f = FileBlockFile.open(img, true)) {
        h = ImageReader.readHeader(f);
      }
      for (long c : picks) {
        byte[] data = new byte[CLUSTER_BYTES];
        if (rnd.nextInt(8) != 0) {
          rnd.nextBytes(data);
        }
        ByteBuffer e = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(e, ImageGeometry.batEntryOffset(c));
        long raw = Integer.toUnsignedLong(e.flip().getInt());
        long phys;
        if (raw == 0) {
          phys = (ch.size() + CLUSTER_BYTES - 1) / CLUSTER_BYTES;
        } else {
          phys = h.version() == FormatVersion.V2 ? raw : raw / CLUSTER_SECTORS;
        }
        ch.write(ByteBuffer.wrap(data), phys * CLUSTER_BYTES);
        long value = h.version() == FormatVersion.V2 ? phys : phys * CLUSTER_SECTORS;
        ByteBuffer v = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        v.putInt(0, (int) value);
        ch.write(v, ImageGeometry.batEntryOffset(c));
        System.arraycopy(data, 0, next, (int) (c * CLUSTER_BYTES), CLUSTER_BYTES);
      }
      ch.force(true);
    }
    return next;
  }

  /** Reads the visible content of the chain ending at {@code guid} (default top) via qemu-img. */
  static byte[] visible(Path xml, String guid) throws Exception {
    DiskDescriptor d = DiskDescriptor.read(xml);
    List<Path> files = new ArrayList<>();
    for (DiskDescriptor.ImageEntry e : d.chain(xml, guid == null ? d.topGuid() : guid)) {
      files.add(DiskDescriptor.read(xml).fileOf(xml, e));
    }
    return visible(files, d.raw(), d.diskSizeSectors() * 512);
  }

  /** Reads the visible content of a chain (base first) via qemu-img convert. */
  static byte[] visible(List<Path> baseFirst, boolean rawBase, long size) throws Exception {
    String spec = null;
    for (int i = 0; i < baseFirst.size(); i++) {
      boolean raw = rawBase && i == 0;
      String file = "{\"driver\":\"file\",\"filename\":\"" + baseFirst.get(i) + "\"}";
      spec =
          "{\"driver\":\""
              + (raw ? "raw" : "parallels")
              + "\",\"file\":"
              + file
              + (spec == null ? "" : ",\"backing\":" + spec)
              + "}";
    }
    Path out = Files.createTempFile("visible", ".raw");
    try {
      run("qemu-img", "convert", "-O", "raw", "json:" + spec, out.toString());
      byte[] b = Files.readAllBytes(out);
      assertThat((long) b.length).as("virtual size of " + baseFirst).isEqualTo(size);
      return b;
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** Asserts equal content, naming the first differing cluster instead of dumping bytes. */
  static void assertSameContent(byte[] actual, byte[] expected, String what) {
    assertThat(actual.length).as(what + ": length").isEqualTo(expected.length);
    for (int c = 0; c * CLUSTER_BYTES < actual.length; c++) {
      int from = c * CLUSTER_BYTES;
      int to = Math.min(actual.length, from + CLUSTER_BYTES);
      if (!java.util.Arrays.equals(actual, from, to, expected, from, to)) {
        throw new AssertionError(what + ": content differs in cluster " + c);
      }
    }
  }

  /**
   * Asserts that the chain ending at {@code guid} (null = top) reads as {@code expected}, both
   * through qemu-img and (for ploop1 chains) through the engine's {@link PloopDisk}.
   */
  static void assertVisible(Path xml, String guid, byte[] expected) throws Exception {
    String what = "chain " + (guid == null ? "top" : guid);
    assertSameContent(visible(xml, guid), expected, what + " via qemu-img");
    DiskDescriptor d = DiskDescriptor.read(xml);
    if (!d.raw()) {
      assertSameContent(visibleViaEngine(xml, guid), expected, what + " via PloopDisk");
    }
  }

  /** Reads the chain ending at {@code guid} (null = top) through a read-only {@link PloopDisk}. */
  static byte[] visibleViaEngine(Path xml, String guid) throws Exception {
    DiskDescriptor d = DiskDescriptor.read(xml);
    List<Path> files = new ArrayList<>();
    for (DiskDescriptor.ImageEntry e : d.chain(xml, guid == null ? d.topGuid() : guid)) {
      files.add(DiskDescriptor.read(xml).fileOf(xml, e));
    }
    try (PloopDisk disk = PloopDisk.openPaths(files, EngineOptions.defaults().readOnly(true))) {
      ByteBuffer b = ByteBuffer.allocate((int) disk.size());
      disk.read(b, 0);
      return b.array();
    }
  }

  /** Returns qemu-img check's exit code for a parallels image. */
  static int qemuCheck(Path image) throws Exception {
    Process p =
        new ProcessBuilder("qemu-img", "check", "-f", "parallels", image.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    if (p.exitValue() != 0) {
      System.err.println("qemu-img check " + image + ": " + out);
    }
    return p.exitValue();
  }

  /** Asserts that every ploop1 image of the descriptor passes qemu-img check with exit 0. */
  static void assertQemuClean(Path xml) throws Exception {
    DiskDescriptor d = DiskDescriptor.read(xml);
    for (DiskDescriptor.ImageEntry e : d.images()) {
      if (d.raw() && e == d.images().get(0)) {
        continue;
      }
      Path p = DiskDescriptor.read(xml).fileOf(xml, e);
      assertThat(qemuCheck(p)).as("qemu-img check " + p).isZero();
    }
  }

  /** Runs a command, failing on a non-zero exit; returns its output. */
  static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    return out;
  }

  /** Output and exit code of one CLI run. */
  record CliResult(int exitCode, String out, String err) {}

  /** Runs the ploop CLI in-process. */
  static CliResult cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int rc =
        PloopCli.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true))
            .execute(args);
    return new CliResult(rc, out.toString(), err.toString());
  }

  /** Returns the bytes the file occupies on disk (st_blocks * 512), via stat. */
  static long allocatedBytes(Path p) throws Exception {
    return Long.parseLong(run("stat", "-c", "%b", p.toString()).trim()) * 512;
  }
}
