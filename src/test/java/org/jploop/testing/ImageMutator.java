package org.jploop.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;

/**
 * A seeded mutation fuzzer for ploop disks: from pristine images ({@link PristineDisks}) it
 * produces cases with corrupted headers (bit and byte flips, fields set to boundary values),
 * corrupted BATs (duplicates, entries past EOF or into the header, non-zero padding), truncated or
 * extended files, and hostile DiskDescriptor.xml files (elements deleted, duplicated or renamed,
 * garbage text, huge or negative numbers, broken XML, entity tricks, snapshot loops and path
 * tricks: absolute paths, {@code ..}, symlinks out of the image directory). Each case is
 * reproducible from the run seed and its number; {@link Case#mustFail} is set when a mutation
 * certainly makes the disk unusable. Single-threaded: one mutator per thread.
 */
public final class ImageMutator {
  /** Header fields: offset and width in bytes. */
  private static final int[][] HEADER_FIELDS = {
    {ImageHeader.OFFSET_TYPE, 4},
    {ImageHeader.OFFSET_HEADS, 4},
    {ImageHeader.OFFSET_CYLINDERS, 4},
    {ImageHeader.OFFSET_SECTORS, 4},
    {ImageHeader.OFFSET_SIZE, 4},
    {ImageHeader.OFFSET_SIZE_IN_SECTORS, 8},
    {ImageHeader.OFFSET_DISK_IN_USE, 4},
    {ImageHeader.OFFSET_FIRST_BLOCK, 4},
    {ImageHeader.OFFSET_FLAGS, 4},
    {ImageHeader.OFFSET_EXTENSION, 8},
  };

  /** Boundary values tried on header fields and BAT entries. */
  private static final long[] BOUNDARY = {
    0,
    1,
    2,
    63,
    64,
    65,
    127,
    511,
    512,
    2047,
    2048,
    2049,
    4096,
    131072,
    131073,
    0x7FFFFFFFL,
    0x80000000L,
    0xFFFFFFFEL,
    0xFFFFFFFFL,
    0x100000000L,
    Long.MAX_VALUE,
    -1L,
    ImageHeader.IN_USE,
    ImageHeader.CLOSED_V21,
  };

  /** XML elements a valid descriptor needs (deleting or renaming one must be refused). */
  private static final String[] REQUIRED = {
    "Disk_Parameters",
    "StorageData",
    "Storage",
    "Image",
    "GUID",
    "File",
    "Snapshots",
    "Shot",
    "ParentGUID",
    "Blocksize",
  };

  private static final String[] ELEMENTS = {
    "Disk_Parameters",
    "Disk_size",
    "Cylinders",
    "Heads",
    "Sectors",
    "Padding",
    "StorageData",
    "Storage",
    "Start",
    "End",
    "Blocksize",
    "Image",
    "GUID",
    "Type",
    "File",
    "Snapshots",
    "TopGUID",
    "Shot",
    "ParentGUID",
  };

  /** One generated case: a directory holding DiskDescriptor.xml and root.hds (possibly broken). */
  public record Case(
      int number,
      long seed,
      String shape,
      Path dir,
      Path xml,
      Path image,
      List<String> mutations,
      boolean imageMustFail,
      boolean xmlMustFail) {
    /** Says how to reproduce and what was done. */
    public String describe() {
      return "case "
          + number
          + " (seed "
          + seed
          + ", shape "
          + shape
          + "): "
          + mutations
          + (imageMustFail ? " [image must fail]" : "")
          + (xmlMustFail ? " [xml must fail]" : "");
    }

    /** Returns whether opening the disk through its descriptor must fail. */
    public boolean mustFail() {
      return imageMustFail || xmlMustFail;
    }
  }

  private final long runSeed;
  private final Path work;
  private final List<PristineDisks.Spec> shapes = new ArrayList<>();
  private final List<byte[]> pristineImages = new ArrayList<>();
  private final List<String> pristineXml = new ArrayList<>();

  /** A valid image outside every case directory: the target of path tricks. */
  private final Path outsideImage;

  private int caseNo;

  /** Builds the pristine images under {@code work/pristine-*}; cases go to {@code work/case}. */
  public ImageMutator(Path work, long runSeed) throws IOException {
    this.runSeed = runSeed;
    this.work = work;
    for (int i = 0; i < PristineDisks.SHAPES.length; i++) {
      PristineDisks.Spec s = PristineDisks.SHAPES[i];
      Path d = work.resolve("pristine-" + i);
      Path xml = PristineDisks.create(d, s, runSeed + i);
      shapes.add(s);
      pristineImages.add(Files.readAllBytes(d.resolve(PristineDisks.IMAGE)));
      pristineXml.add(Files.readString(xml));
    }
    outsideImage = work.resolve("outside.hds");
    Files.write(outsideImage, pristineImages.get(0));
  }

  /** Returns the seed of the whole run. */
  public long runSeed() {
    return runSeed;
  }

  /** Returns the number of cases produced so far. */
  public int produced() {
    return caseNo;
  }

  /** Produces the next case in {@code work/case} (replacing the previous one). */
  public Case next() throws IOException {
    return make(caseNo++);
  }

  /** Re-creates case {@code n} of this run (for reproducing a failure). */
  public Case make(int n) throws IOException {
    long seed = runSeed * 0x9E3779B97F4A7C15L + n;
    Random r = new Random(seed);
    int shapeIdx = r.nextInt(shapes.size());
    Path dir = work.resolve("case");
    deleteTree(dir);
    Files.createDirectories(dir);
    byte[] image = pristineImages.get(shapeIdx).clone();
    String xml = pristineXml.get(shapeIdx);
    List<String> done = new ArrayList<>();
    boolean[] mustFail = {false};
    boolean touchesImage = false;
    int count = 1 + r.nextInt(3);
    // 0 image only, 1 descriptor only, 2 both
    int target = r.nextInt(10) < 5 ? 0 : r.nextInt(10) < 8 ? 1 : 2;
    for (int i = 0; i < count; i++) {
      boolean img = target == 0 || (target == 2 && r.nextBoolean());
      if (img) {
        image = mutateImage(image, shapes.get(shapeIdx), r, done, mustFail);
        touchesImage = true;
      } else {
        xml = mutateXml(xml, dir, r, done, mustFail);
      }
    }
    Path imagePath = dir.resolve(PristineDisks.IMAGE);
    Files.write(imagePath, image);
    Path xmlPath = dir.resolve(DiskDescriptor.FILE_NAME);
    Files.write(xmlPath, xml.getBytes(StandardCharsets.ISO_8859_1));
    return new Case(
        n,
        seed,
        shapes.get(shapeIdx).toString(),
        dir,
        xmlPath,
        imagePath,
        List.copyOf(done),
        touchesImage && headerCertainlyBroken(image),
        mustFail[0]);
  }

  // ---------------------------------------------------------------- image mutations

  /**
   * The rules every ploop reader applies to a header (ploop check and QEMU alike), restated here
   * independently of the code under test: too short, unknown signature, m_Type other than 2, a
   * cluster size that is not a power of two in 64..131072 sectors, a first block offset that is not
   * cluster-aligned or lies past the end of the file.
   */
  static boolean headerCertainlyBroken(byte[] b) {
    if (b.length < ImageHeader.SIZE) {
      return true;
    }
    ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    byte[] sig = java.util.Arrays.copyOf(b, 16);
    if (FormatVersion.ofSignature(sig) == null) {
      return true;
    }
    if (le.getInt(ImageHeader.OFFSET_TYPE) != 2) {
      return true;
    }
    long sectors = le.getInt(ImageHeader.OFFSET_SECTORS) & 0xFFFFFFFFL;
    if (Long.bitCount(sectors) != 1 || sectors < 64 || sectors > 131072) {
      return true;
    }
    long first = le.getInt(ImageHeader.OFFSET_FIRST_BLOCK) & 0xFFFFFFFFL;
    return first % sectors != 0 || first * 512 > b.length;
  }

  private byte[] mutateImage(
      byte[] in, PristineDisks.Spec spec, Random r, List<String> done, boolean[] mustFail) {
    byte[] b = in;
    ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    int clusterBytes = spec.clusterSectors() * 512;
    int firstBlock = get32(le, ImageHeader.OFFSET_FIRST_BLOCK) * 512;
    int headerEnd = Math.max(ImageHeader.SIZE + 4, Math.min(b.length, Math.max(firstBlock, 4096)));
    int batSlots = (Math.min(b.length, Math.max(firstBlock, clusterBytes)) - 64) / 4;
    switch (rnd(r, 12)) {
      case 0 -> { // flip one bit in the header
        int bit = rnd(r, 64 * 8);
        if (bit / 8 < b.length) {
          b[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        done.add("flip header bit " + bit);
      }
      case 1 -> { // random byte anywhere in the header or BAT
        int pos = rnd(r, Math.min(headerEnd, b.length));
        int v = rnd(r, 256);
        if (pos < b.length) {
          b[pos] = (byte) v;
        }
        done.add("set byte " + pos + "=" + v);
      }
      case 2, 3 -> { // header field to a boundary value
        int[] f = HEADER_FIELDS[rnd(r, HEADER_FIELDS.length)];
        long v = rnd(r, 4) == 0 ? r.nextLong() : BOUNDARY[rnd(r, BOUNDARY.length)];
        if (f[1] == 4) {
          put32(le, f[0], (int) v);
          v &= 0xFFFFFFFFL;
        } else {
          put64(le, f[0], v);
        }
        done.add("header@" + f[0] + "=" + Long.toUnsignedString(v));
      }
      case 4 -> { // signature: garbage, or the other version's
        int k = rnd(r, 3);
        byte[] sig =
            k == 0
                ? FormatVersion.V1.signature()
                : k == 1
                    ? FormatVersion.V2.signature()
                    : "WithoutFreeSpacX".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(sig, 0, b, 0, Math.min(16, b.length));
        done.add("signature=" + new String(sig, StandardCharsets.US_ASCII));
      }
      case 5 -> { // truncate
        int len =
            switch (rnd(r, 5)) {
              case 0 -> 0;
              case 1 -> rnd(r, 64);
              case 2 -> 64 + rnd(r, Math.max(1, firstBlock - 64));
              case 3 -> firstBlock + rnd(r, Math.max(1, b.length - firstBlock));
              default -> b.length - 1 - rnd(r, Math.min(b.length - 1, 600));
            };
        b = java.util.Arrays.copyOf(b, Math.max(0, len));
        done.add("truncate to " + len);
      }
      case 6 -> { // extend with garbage or zeros, aligned or not
        int extra = r.nextBoolean() ? clusterBytes : 1 + rnd(r, 3 * clusterBytes);
        byte[] n = java.util.Arrays.copyOf(b, b.length + extra);
        if (r.nextBoolean()) {
          for (int i = b.length; i < n.length; i++) {
            n[i] = (byte) rnd(r, 256);
          }
        }
        b = n;
        done.add("extend by " + extra);
      }
      case 7 -> { // duplicate a BAT entry
        int from = firstNonZeroSlot(le, batSlots, r);
        int to =
            rnd(
                r,
                Math.max(1, (int) Math.min(batSlots, spec.sizeSectors() / spec.clusterSectors())));
        put32(le, 64 + 4 * to, get32(le, 64 + 4 * from));
        done.add("BAT[" + to + "]=BAT[" + from + "]");
      }
      case 8 -> { // BAT entry past EOF, at EOF, huge or the forbidden marker
        int slot =
            rnd(
                r,
                Math.max(1, (int) Math.min(batSlots, spec.sizeSectors() / spec.clusterSectors())));
        long fileClusters = b.length / clusterBytes;
        long unit = spec.version() == FormatVersion.V1 ? spec.clusterSectors() : 1;
        long v =
            switch (rnd(r, 4)) {
              case 0 -> fileClusters * unit;
              case 1 -> (fileClusters + 1 + rnd(r, 1000)) * unit;
              case 2 -> 0xFFFFFFFFL;
              default -> 0x80000000L + rnd(r, 1000);
            };
        put32(le, 64 + 4 * slot, (int) v);
        done.add("BAT[" + slot + "]=" + v + " (file has " + fileClusters + " clusters)");
      }
      case 9 -> { // BAT entry into the header area (v2 with 2 header clusters) or misaligned (v1)
        int slot = firstNonZeroSlot(le, batSlots, r);
        if (spec.version() == FormatVersion.V1) {
          int v = get32(le, 64 + 4 * slot) + 1 + rnd(r, spec.clusterSectors() - 1);
          put32(le, 64 + 4 * slot, v);
          done.add("BAT[" + slot + "]=" + v + " (v1, misaligned)");
        } else if (firstBlock / clusterBytes > 1) {
          put32(le, 64 + 4 * slot, 1);
          done.add("BAT[" + slot + "]=1 (inside the header)");
        } else {
          put32(le, 64 + 4 * slot, get32(le, 64 + 4 * firstNonZeroSlot(le, batSlots, r)));
          done.add("BAT[" + slot + "]=another allocated entry");
        }
      }
      case 10 -> { // non-zero padding slot after m_Size
        long entries = spec.sizeSectors() / spec.clusterSectors();
        if (entries < batSlots) {
          int slot = (int) (entries + rnd(r, (int) (batSlots - entries)));
          put32(le, 64 + 4 * slot, 1 + rnd(r, 50));
          done.add("padding BAT[" + slot + "]!=0");
        } else {
          done.add("padding (none in this shape)");
        }
      }
      default -> { // several random bytes in the BAT
        int n = 1 + rnd(r, 8);
        for (int i = 0; i < n; i++) {
          int pos = 64 + rnd(r, Math.max(1, Math.min(b.length, headerEnd) - 64));
          if (pos < b.length) {
            b[pos] = (byte) rnd(r, 256);
          }
        }
        done.add(n + " random BAT bytes");
      }
    }
    return b;
  }

  /** Returns a random int in [0, bound), or 0 for an empty range. */
  private static int rnd(Random r, long bound) {
    return bound <= 1 ? 0 : r.nextInt((int) Math.min(bound, Integer.MAX_VALUE));
  }

  private static void put32(ByteBuffer b, int pos, int v) {
    if (pos >= 0 && pos + 4 <= b.capacity()) {
      b.putInt(pos, v);
    }
  }

  private static void put64(ByteBuffer b, int pos, long v) {
    if (pos >= 0 && pos + 8 <= b.capacity()) {
      b.putLong(pos, v);
    }
  }

  private static int get32(ByteBuffer b, int pos) {
    return pos >= 0 && pos + 4 <= b.capacity() ? b.getInt(pos) : 0;
  }

  private static int firstNonZeroSlot(ByteBuffer le, int slots, Random r) {
    int start = r.nextInt(Math.max(1, slots));
    for (int i = 0; i < slots; i++) {
      int s = (start + i) % slots;
      if (get32(le, 64 + 4 * s) != 0) {
        return s;
      }
    }
    return 0;
  }

  // ---------------------------------------------------------------- descriptor mutations

  private String mutateXml(String xml, Path dir, Random r, List<String> done, boolean[] mustFail)
      throws IOException {
    // Whether the descriptor must be refused is decided by the last mutation that changed it: a
    // later one can undo an earlier one (deleting the looping Shot, say).
    boolean before = mustFail[0];
    mustFail[0] = false;
    int doneBefore = done.size();
    String out = mutateXmlOnce(xml, dir, r, done, mustFail);
    if (out.equals(xml)) {
      mustFail[0] = before; // the mutation found nothing to change
    } else if (mustFail[0]) {
      // An element that was duplicated earlier may be set in one copy and read from the other.
      String what = done.get(doneBefore);
      for (String e : ELEMENTS) {
        if (done.contains("duplicate <" + e + ">")
            && (what.contains("<" + e + ">")
                || what.startsWith(e + "=")
                || what.startsWith(e + " ")
                || (e.equals("File") && what.startsWith("DOCTYPE")))) {
          mustFail[0] = false;
        }
      }
    }
    return out;
  }

  private String mutateXmlOnce(
      String xml, Path dir, Random r, List<String> done, boolean[] mustFail) throws IOException {
    switch (r.nextInt(16)) {
      case 0 -> { // delete an element
        String e = pick(r, ELEMENTS);
        String out = deleteElement(xml, e, r);
        done.add("delete <" + e + ">");
        if (isRequired(e) && !out.equals(xml)) {
          mustFail[0] = mustFail[0] || !e.equals("Shot") && !done.contains("duplicate <" + e + ">");
        }
        return out;
      }
      case 1 -> { // duplicate an element
        String e = pick(r, ELEMENTS);
        done.add("duplicate <" + e + ">");
        int[] span = span(xml, e, r);
        if (span == null) {
          return xml;
        }
        if (e.equals("Storage") || e.equals("Image")) {
          mustFail[0] = true;
        }
        String el = xml.substring(span[0], span[1]);
        return xml.substring(0, span[1]) + el + xml.substring(span[1]);
      }
      case 2 -> { // rename an element
        String e = pick(r, ELEMENTS);
        String n = r.nextBoolean() ? e.toLowerCase(java.util.Locale.ROOT) : e + "X";
        done.add("rename <" + e + "> to <" + n + ">");
        if (isRequired(e) && !e.equals("Shot") && xml.contains("<" + e + ">")) {
          mustFail[0] = true;
        }
        return xml.replace("<" + e + ">", "<" + n + ">").replace("</" + e + ">", "</" + n + ">");
      }
      case 3, 4 -> { // text of an element: garbage, huge, negative, hex, octal, empty, long
        String e = pick(r, ELEMENTS);
        String v =
            pick(
                r,
                new String[] {
                  "",
                  " ",
                  "-1",
                  "0",
                  "0x800",
                  "04000",
                  "99999999999999999999999999",
                  "18446744073709551616",
                  "9223372036854775807",
                  "4294967295",
                  "1e9",
                  "NaN",
                  "\u00ff\u00fe",
                  "{not-a-guid}",
                  "{00000000-0000-0000-0000-000000000000}",
                  "{5fbaabe3-6958-40ff-92a7-860e329aab4}",
                  "<![CDATA[x]]>",
                  "&amp;",
                  "&lt;",
                  "a".repeat(70_000),
                  "root.hds\u0000x",
                });
        done.add(
            "text <"
                + e
                + ">="
                + (v.length() > 40 ? v.substring(0, 20) + "...(" + v.length() + ")" : v));
        if (e.equals("Blocksize") && !v.equals("0x800") && !v.equals("04000")) {
          mustFail[0] = true;
        }
        return setText(xml, e, v, r);
      }
      case 5 -> { // cut the document
        int at = r.nextInt(Math.max(1, xml.length()));
        done.add("cut at " + at);
        mustFail[0] = true;
        return xml.substring(0, at);
      }
      case 6 -> { // random bytes somewhere
        StringBuilder sb = new StringBuilder(xml);
        int n = 1 + r.nextInt(6);
        for (int i = 0; i < n; i++) {
          if (sb.length() > 0) {
            sb.setCharAt(r.nextInt(sb.length()), (char) r.nextInt(256));
          }
        }
        done.add(n + " random XML bytes");
        return sb.toString();
      }
      case 7 -> { // absolute path
        String p = r.nextBoolean() ? "/etc/passwd" : dir.resolve(PristineDisks.IMAGE).toString();
        done.add("File=" + p + " (absolute)");
        mustFail[0] = true;
        return setText(xml, "File", p, r);
      }
      case 8 -> { // .. out of the directory (to a valid image)
        String p =
            pick(
                r,
                new String[] {
                  "../outside.hds", "sub/../../outside.hds", "./../outside.hds", "../case/root.hds"
                });
        done.add("File=" + p + " (..)");
        mustFail[0] = true;
        return setText(xml, "File", p, r);
      }
      case 9 -> { // symlink out of the directory
        String name = "link-" + r.nextInt(100) + ".hds";
        Path target =
            switch (r.nextInt(3)) {
              case 0 -> work.resolve("outside.hds");
              case 1 -> Path.of("/etc/shadow");
              default -> Path.of("../outside.hds");
            };
        Files.createSymbolicLink(dir.resolve(name), target);
        done.add("File=" + name + " (symlink to " + target + ")");
        mustFail[0] = true;
        return setText(xml, "File", name, r);
      }
      case 10 -> { // a directory, a missing file, a device
        String p = pick(r, new String[] {".", "", "missing.hds", "sub"});
        Files.createDirectories(dir.resolve("sub"));
        done.add("File=" + p);
        mustFail[0] = true;
        return setText(xml, "File", p, r);
      }
      case 11 -> { // external entity (XXE) and entity expansion
        String dtd =
            r.nextBoolean()
                ? "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/hostname\">]>"
                : "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                    + "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;"
                    + "&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
                    + "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">]>";
        String ref = dtd.contains("SYSTEM") ? "&x;" : "&f;";
        int decl = xml.indexOf("?>");
        String out =
            decl >= 0 ? xml.substring(0, decl + 2) + dtd + xml.substring(decl + 2) : dtd + xml;
        done.add("DOCTYPE entity " + ref);
        mustFail[0] = true;
        return setText(out, "File", ref, r);
      }
      case 12 -> { // snapshot loop: the top shot becomes its own parent
        done.add("ParentGUID=own GUID (loop)");
        mustFail[0] = true;
        return setText(xml, "ParentGUID", "{5fbaabe3-6958-40ff-92a7-860e329aab41}", r);
      }
      case 13 -> { // TopGUID naming nothing
        done.add("TopGUID unknown");
        mustFail[0] = true;
        return setText(xml, "TopGUID", "{11111111-2222-4333-8444-555555555555}", r);
      }
      case 14 -> { // empty or binary document
        done.add("empty/binary document");
        mustFail[0] = true;
        if (r.nextBoolean()) {
          return "";
        }
        char[] c = new char[1 + r.nextInt(300)];
        for (int i = 0; i < c.length; i++) {
          c[i] = (char) r.nextInt(256);
        }
        return new String(c);
      }
      default -> { // deep nesting
        int depth = 10_000 + r.nextInt(50_000);
        done.add("nesting depth " + depth);
        StringBuilder sb = new StringBuilder(xml);
        int tag = sb.indexOf("<Disk_Parameters>");
        int at = tag < 0 ? sb.length() : tag + "<Disk_Parameters>".length();
        sb.insert(at, "<n>".repeat(depth) + "</n>".repeat(depth));
        return sb.toString();
      }
    }
  }

  private static boolean isRequired(String e) {
    for (String s : REQUIRED) {
      if (s.equals(e)) {
        return true;
      }
    }
    return false;
  }

  private static String pick(Random r, String[] a) {
    return a[r.nextInt(a.length)];
  }

  /** Returns {start, end} of a random occurrence of {@code <e>...</e>}, or null. */
  private static int[] span(String xml, String e, Random r) {
    List<int[]> spans = new ArrayList<>();
    int from = 0;
    while (true) {
      int s = xml.indexOf("<" + e + ">", from);
      if (s < 0) {
        break;
      }
      int end = xml.indexOf("</" + e + ">", s);
      if (end < 0) {
        break;
      }
      spans.add(new int[] {s, end + e.length() + 3});
      from = end;
    }
    return spans.isEmpty() ? null : spans.get(r.nextInt(spans.size()));
  }

  private static String deleteElement(String xml, String e, Random r) {
    int[] s = span(xml, e, r);
    return s == null ? xml : xml.substring(0, s[0]) + xml.substring(s[1]);
  }

  private static String setText(String xml, String e, String text, Random r) {
    int[] s = span(xml, e, r);
    if (s == null) {
      return xml;
    }
    return xml.substring(0, s[0]) + "<" + e + ">" + text + "</" + e + ">" + xml.substring(s[1]);
  }

  /** Deletes a directory tree without following symlinks. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
