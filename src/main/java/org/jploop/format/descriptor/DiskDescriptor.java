package org.jploop.format.descriptor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.xml.XmlMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.jploop.format.ChsGeometry;
import org.jploop.format.ImageGeometry;

/**
 * DiskDescriptor.xml: the disk's parameters and its chain of delta images, base first, as ploop
 * reads and writes it (lib/xml.c). Immutable; the {@code with...} methods return changed copies and
 * {@link #write} stores one atomically (write {@code .tmp}, fsync, rename).
 *
 * <p>Rules applied on read, with ploop's messages: the required nodes exist; the blocksize is
 * valid; there is at least one image; if images and shots differ in number a {@code {TOPDELTA,
 * NONE}} shot is added; the top GUID is valid, exists among the shots and is not temporary; every
 * image and every shot GUID is unique; the chain from the top reaches the base. Image paths must
 * stay inside the descriptor's directory (no absolute paths, no {@code ..}, no symlink out).
 *
 * @param diskSizeSectors virtual disk size ({@code Disk_size})
 * @param maxDeltaSize {@code Max_delta_size} in sectors, 0 when absent
 * @param cylinders CHS cylinders
 * @param heads CHS heads
 * @param sectors CHS sectors as written in the XML
 * @param encryptionKeyId {@code Encryption/KeyId}, or null
 * @param blocksize cluster size in sectors
 * @param preallocated whether {@code <Preallocated>1</Preallocated>} is set
 * @param images delta images, base first, in XML order
 * @param topGuid the top snapshot GUID, normally {@link Guid#TOP_DELTA}
 * @param shots snapshot entries, in XML order
 */
public record DiskDescriptor(
    long diskSizeSectors,
    long maxDeltaSize,
    long cylinders,
    long heads,
    long sectors,
    String encryptionKeyId,
    int blocksize,
    boolean preallocated,
    List<ImageEntry> images,
    String topGuid,
    List<Shot> shots) {

  /** The conventional file name. */
  public static final String FILE_NAME = "DiskDescriptor.xml";
  /** {@code <Type>} of a ploop1 image. */
  public static final String TYPE_COMPRESSED = "Compressed";
  /** {@code <Type>} of a raw image. */
  public static final String TYPE_PLAIN = "Plain";

  /**
   * One {@code <Image>}.
   *
   * @param guid its snapshot GUID
   * @param type {@link #TYPE_COMPRESSED} or {@link #TYPE_PLAIN}
   * @param file path relative to the descriptor's directory, as written
   */
  public record ImageEntry(String guid, String type, String file) {}

  /**
   * One {@code <Shot>}.
   *
   * @param guid its GUID
   * @param parentGuid its parent's GUID, {@link Guid#NONE} for the base
   * @param temporary null, or {@code Temporary}, {@code TemporaryZero} or {@code TemporaryZeroSwap}
   */
  public record Shot(String guid, String parentGuid, String temporary) {}

  public DiskDescriptor {
    images = List.copyOf(images);
    shots = List.copyOf(shots);
  }

  /** Describes a fresh single-image disk of {@code geometry}, like {@code ploop init}. */
  public static DiskDescriptor forNewImage(ImageGeometry geometry, String fileName, boolean raw) {
    long size = geometry.sizeSectors();
    ChsGeometry chs = ChsGeometry.of(size);
    return new DiskDescriptor(size, 0, chs.cylinders(), chs.heads(), chs.descriptorSectors(size),
        null, geometry.clusterSectors(), false,
        List.of(new ImageEntry(Guid.TOP_DELTA, raw ? TYPE_PLAIN : TYPE_COMPRESSED, fileName)),
        Guid.TOP_DELTA, List.of(new Shot(Guid.TOP_DELTA, Guid.NONE, null)));
  }

  private static XmlMapper mapper() {
    XmlMapper m = XmlMapper.builder().defaultUseWrapper(false).build();
    m.enable(SerializationFeature.INDENT_OUTPUT);
    m.disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    return m;
  }

  /** Reads and validates a descriptor file. */
  public static DiskDescriptor read(Path xml) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(xml);
    } catch (NoSuchFileException e) {
      throw new DescriptorException(xml, "No such file");
    }
    XmlTree.Root root;
    try {
      root = mapper().readValue(bytes, XmlTree.Root.class);
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? ""
          : " at line " + e.getLocation().getLineNr() + " column " + e.getLocation().getColumnNr();
      throw new DescriptorException(xml, "malformed XML" + where + ": "
          + e.getOriginalMessage().lines().findFirst().orElse(""));
    }
    if (root == null) {
      throw new DescriptorException(xml, "empty document");
    }
    return fromTree(xml, root);
  }

  private static DiskDescriptor fromTree(Path xml, XmlTree.Root root) throws DescriptorException {
    XmlTree.DiskParameters dp = required(xml, root.diskParameters, "/Disk_Parameters");
    XmlTree.StorageData sd = required(xml, root.storageData, "/StorageData");
    if (sd.storage == null || sd.storage.isEmpty()) {
      throw missing(xml, "/StorageData/Storage");
    }
    if (sd.storage.size() > 1) {
      throw new DescriptorException(xml, "splitted disk is not supported");
    }
    XmlTree.Storage st = sd.storage.get(0);
    XmlTree.Snapshots sn = required(xml, root.snapshots, "/Snapshots");

    long blocksize = number(xml, st.blocksize, "/StorageData/Storage/Blocksize", 0);
    if (!ImageGeometry.isValidClusterSectors(blocksize)) {
      throw new DescriptorException(xml, "Invalid block size " + blocksize);
    }
    long pre = number(xml, st.preallocated, "/StorageData/Storage/Preallocated", 0);
    if (pre != 0 && pre != 1) {
      throw new DescriptorException(xml, "Invalid Preallocated value " + st.preallocated);
    }
    List<ImageEntry> images = new ArrayList<>();
    boolean raw = false;
    for (XmlTree.Image im : st.images == null ? List.<XmlTree.Image>of() : st.images) {
      String guid = required(xml, im.guid, "/StorageData/Storage/Image/GUID").trim();
      String file = required(xml, im.file, "/StorageData/Storage/Image/File").trim();
      if (!Guid.isValid(guid)) {
        throw new DescriptorException(xml, "Invalid image GUID " + guid);
      }
      String type = im.type == null ? TYPE_COMPRESSED : im.type.trim();
      if (!type.equals(TYPE_COMPRESSED) && !type.equals(TYPE_PLAIN)) {
        throw new DescriptorException(xml, "Unknown image type " + type + " for " + file);
      }
      raw |= type.equals(TYPE_PLAIN);
      for (ImageEntry other : images) {
        if (Guid.same(other.guid(), guid)) {
          throw new DescriptorException(xml, "Duplicate image GUID " + guid);
        }
        if (other.file().equals(file)) {
          throw new DescriptorException(xml, "Image file " + file + " is listed twice");
        }
      }
      images.add(new ImageEntry(guid, type, file));
    }
    if (images.isEmpty()) {
      throw missing(xml, "/StorageData/Storage/Image");
    }
    if (raw && pre == 1) {
      throw new DescriptorException(xml, "Preallocated is not allowed with a Plain image");
    }
    List<Shot> shots = new ArrayList<>();
    for (XmlTree.Shot s : sn.shots == null ? List.<XmlTree.Shot>of() : sn.shots) {
      String guid = required(xml, s.guid, "/Snapshots/Shot/GUID").trim();
      String parent = required(xml, s.parentGuid, "/Snapshots/Shot/ParentGUID").trim();
      if (!Guid.isValid(guid) || !Guid.isValid(parent)) {
        throw new DescriptorException(xml, "Invalid snapshot GUID " + guid + " / parent " + parent);
      }
      String temp = s.temporary != null ? "Temporary"
          : s.temporaryZero != null ? "TemporaryZero"
          : s.temporaryZeroSwap != null ? "TemporaryZeroSwap" : null;
      for (Shot other : shots) {
        if (Guid.same(other.guid(), guid)) {
          throw new DescriptorException(xml, "Duplicate snapshot GUID " + guid);
        }
      }
      shots.add(new Shot(guid, parent, temp));
    }
    if (images.size() != shots.size() && shots.stream().noneMatch(s -> Guid.same(s.guid(), Guid.TOP_DELTA))) {
      shots.add(new Shot(Guid.TOP_DELTA, Guid.NONE, null));
    }
    String top = sn.topGuid == null ? null : sn.topGuid.trim();
    if (top == null && shots.stream().anyMatch(s -> Guid.same(s.guid(), Guid.TOP_DELTA))) {
      top = Guid.TOP_DELTA;
    }
    if (top == null || !Guid.isValid(top)) {
      throw new DescriptorException(xml, "Invalid TopGUID " + top);
    }
    String topFinal = top;
    Shot topShot = shots.stream().filter(s -> Guid.same(s.guid(), topFinal)).findFirst()
        .orElseThrow(() -> new DescriptorException(xml, "Can't find snapshot by uuid " + topFinal));
    if (topShot.temporary() != null) {
      throw new DescriptorException(xml, "The top snapshot " + top + " is temporary");
    }
    if (images.size() != shots.size()) {
      throw new DescriptorException(xml, "Inconsistency detected: " + images.size()
          + " images but " + shots.size() + " snapshots");
    }
    long size = number(xml, dp.diskSize, "/Disk_Parameters/Disk_size", -1);
    if (size < 0) {
      size = number(xml, st.end, "/StorageData/Storage/End", 0);
    }
    if (size <= 0) {
      throw new DescriptorException(xml, "Invalid disk size " + size + " sectors");
    }
    DiskDescriptor d = new DiskDescriptor(size,
        number(xml, dp.maxDeltaSize, "/Disk_Parameters/Max_delta_size", 0),
        number(xml, dp.cylinders, "/Disk_Parameters/Cylinders", 0),
        number(xml, dp.heads, "/Disk_Parameters/Heads", 0),
        number(xml, dp.sectors, "/Disk_Parameters/Sectors", 0),
        dp.encryption == null ? null : dp.encryption.keyId,
        (int) blocksize, pre == 1, images, top, shots);
    d.chain(xml, top);
    return d;
  }

  /** Returns whether the base image is raw ({@code Plain}). */
  public boolean raw() {
    return images.stream().anyMatch(i -> i.type().equals(TYPE_PLAIN));
  }

  /** Returns the image entry with {@code guid}, or null. */
  public ImageEntry image(String guid) {
    return images.stream().filter(i -> Guid.same(i.guid(), guid)).findFirst().orElse(null);
  }

  /** Returns the shot with {@code guid}, or null. */
  public Shot shot(String guid) {
    return shots.stream().filter(s -> Guid.same(s.guid(), guid)).findFirst().orElse(null);
  }

  /** Returns the shots whose parent is {@code guid}. */
  public List<Shot> children(String guid) {
    return shots.stream().filter(s -> Guid.same(s.parentGuid(), guid)).toList();
  }

  /**
   * Returns the image chain from the base up to {@code guid} (base first), following ParentGUID.
   *
   * @param xml the descriptor's path, named in errors
   */
  public List<ImageEntry> chain(Path xml, String guid) throws DescriptorException {
    List<ImageEntry> rev = new ArrayList<>();
    String g = guid;
    while (!Guid.same(g, Guid.NONE)) {
      String cur = g;
      Shot s = shot(cur);
      if (s == null) {
        throw new DescriptorException(xml, "Can't find snapshot by uuid " + cur);
      }
      ImageEntry im = image(cur);
      if (im == null) {
        throw new DescriptorException(xml, "Can't find image by guid " + cur);
      }
      if (rev.size() > images.size()) {
        throw new DescriptorException(xml, "Inconsistency detected: the snapshot chain has a loop");
      }
      rev.add(0, im);
      g = s.parentGuid();
    }
    if (rev.isEmpty()) {
      throw new DescriptorException(xml, "Inconsistency detected, base image not found");
    }
    return rev;
  }

  /** Returns the top chain, base first. */
  public List<ImageEntry> topChain(Path xml) throws DescriptorException {
    return chain(xml, topGuid);
  }

  /**
   * Resolves an image's file against the descriptor's directory, refusing paths that leave it:
   * absolute paths, {@code ..} components, and symlinks whose target is outside the directory.
   */
  public static Path resolveImage(Path xml, ImageEntry image) throws DescriptorException {
    Path dir = xml.toAbsolutePath().getParent();
    Path rel = Path.of(image.file());
    if (rel.isAbsolute()) {
      throw new DescriptorException(xml, "image path " + image.file()
          + " is absolute; only paths inside " + dir + " are accepted");
    }
    for (Path part : rel) {
      if (part.toString().equals("..")) {
        throw new DescriptorException(xml, "image path " + image.file()
            + " leaves the image directory (contains ..)");
      }
    }
    Path p = dir.resolve(rel).normalize();
    if (Files.isSymbolicLink(p) || Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      try {
        Path real = p.toRealPath();
        Path realDir = dir.toRealPath();
        if (!real.startsWith(realDir)) {
          throw new DescriptorException(xml, "image path " + image.file()
              + " is a symlink to " + real + ", outside the image directory");
        }
      } catch (IOException e) {
        if (e instanceof DescriptorException de) {
          throw de;
        }
        throw new DescriptorException(xml, "image " + p + " cannot be resolved: " + e.getMessage());
      }
    }
    return p;
  }

  /** Resolves the top chain to files, base first (see {@link #resolveImage}). */
  public List<Path> topChainFiles(Path xml) throws DescriptorException {
    return chainFiles(xml, topGuid);
  }

  /** Resolves the chain from the base up to {@code guid} to files, base first. */
  public List<Path> chainFiles(Path xml, String guid) throws DescriptorException {
    List<Path> out = new ArrayList<>();
    for (ImageEntry e : chain(xml, guid)) {
      out.add(resolveImage(xml, e));
    }
    return out;
  }

  /** Returns a copy with another image list, shot list and top GUID. */
  public DiskDescriptor withChain(List<ImageEntry> newImages, List<Shot> newShots, String top) {
    return new DiskDescriptor(diskSizeSectors, maxDeltaSize, cylinders, heads, sectors,
        encryptionKeyId, blocksize, preallocated, newImages, top, newShots);
  }

  /** Returns a copy describing a disk of {@code sizeSectors} (CHS recomputed). */
  public DiskDescriptor withSize(long sizeSectors) {
    ChsGeometry chs = ChsGeometry.of(sizeSectors);
    return new DiskDescriptor(sizeSectors, maxDeltaSize, chs.cylinders(), chs.heads(),
        chs.descriptorSectors(sizeSectors), encryptionKeyId, blocksize, preallocated, images,
        topGuid, shots);
  }

  /** Returns a copy with every image's type set (ploop writes one disk-wide type). */
  public DiskDescriptor withType(String type) {
    List<ImageEntry> im = images.stream().map(i -> new ImageEntry(i.guid(), type, i.file()))
        .toList();
    return new DiskDescriptor(diskSizeSectors, maxDeltaSize, cylinders, heads, sectors,
        encryptionKeyId, blocksize, preallocated, im, topGuid, shots);
  }

  /** Returns the XML text, as ploop's libxml2 writer lays it out. */
  public String toXml() {
    XmlTree.Root root = new XmlTree.Root();
    XmlTree.DiskParameters dp = new XmlTree.DiskParameters();
    dp.diskSize = Long.toString(diskSizeSectors);
    dp.maxDeltaSize = maxDeltaSize == 0 ? null : Long.toString(maxDeltaSize);
    dp.cylinders = Long.toString(cylinders);
    dp.heads = Long.toString(heads);
    dp.sectors = Long.toString(sectors);
    dp.padding = "0";
    if (encryptionKeyId != null) {
      dp.encryption = new XmlTree.Encryption();
      dp.encryption.keyId = encryptionKeyId;
    }
    root.diskParameters = dp;
    XmlTree.Storage st = new XmlTree.Storage();
    st.start = "0";
    st.end = Long.toString(diskSizeSectors);
    st.blocksize = Integer.toString(blocksize);
    st.preallocated = preallocated ? "1" : null;
    String type = raw() ? TYPE_PLAIN : TYPE_COMPRESSED;
    for (ImageEntry e : images) {
      XmlTree.Image im = new XmlTree.Image();
      im.guid = e.guid();
      im.type = type;
      im.file = e.file();
      st.images.add(im);
    }
    root.storageData = new XmlTree.StorageData();
    root.storageData.storage.add(st);
    XmlTree.Snapshots sn = new XmlTree.Snapshots();
    sn.topGuid = topGuid;
    for (Shot s : shots) {
      XmlTree.Shot x = new XmlTree.Shot();
      x.guid = s.guid();
      x.parentGuid = s.parentGuid();
      if ("Temporary".equals(s.temporary())) {
        x.temporary = "";
      } else if ("TemporaryZero".equals(s.temporary())) {
        x.temporaryZero = "";
      } else if ("TemporaryZeroSwap".equals(s.temporary())) {
        x.temporaryZeroSwap = "";
      }
      sn.shots.add(x);
    }
    root.snapshots = sn;
    try {
      String body = mapper().writeValueAsString(root)
          .replaceAll("<(Temporary|TemporaryZero|TemporaryZeroSwap)></\\1>", "<$1/>");
      return "<?xml version=\"1.0\"?>\n" + body.strip() + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise descriptor", e);
    }
  }

  /** Stores the descriptor atomically: write {@code <xml>.tmp}, fsync, rename over {@code xml}. */
  public void write(Path xml) throws IOException {
    Path tmp = xml.resolveSibling(xml.getFileName() + ".tmp");
    writeTemp(tmp);
    Files.move(tmp, xml, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    fsyncDir(xml.toAbsolutePath().getParent());
  }

  /** Writes the descriptor to {@code tmp} and fsyncs it (first half of {@link #write}). */
  public void writeTemp(Path tmp) throws IOException {
    byte[] data = toXml().getBytes(StandardCharsets.UTF_8);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(java.nio.ByteBuffer.wrap(data));
      ch.force(true);
    }
  }

  private static void fsyncDir(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException ignored) {
      // Directory fsync is best effort: some filesystems refuse to open directories.
    }
  }

  private static <T> T required(Path xml, T value, String node) throws DescriptorException {
    if (value == null) {
      throw missing(xml, node);
    }
    return value;
  }

  private static DescriptorException missing(Path xml, String node) {
    return new DescriptorException(xml,
        "Invalid disk descriptor file format: '" + node + "' node not found");
  }

  /**
   * Parses like strtoul(s, 0): decimal, 0x hex or 0 octal; null gives {@code dflt}. A value that
   * does not parse is ignored ({@code dflt}), as lib/xml.c does, except for Blocksize and
   * Preallocated, which are rejected.
   */
  private static long number(Path xml, String s, String node, long dflt)
      throws DescriptorException {
    if (s == null) {
      return dflt;
    }
    String t = s.trim();
    try {
      if (t.startsWith("0x") || t.startsWith("0X")) {
        return Long.parseUnsignedLong(t.substring(2), 16);
      }
      if (t.length() > 1 && t.startsWith("0")) {
        return Long.parseUnsignedLong(t.substring(1), 8);
      }
      long v = Long.parseLong(t);
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      if (node.endsWith("/Blocksize") || node.endsWith("/Preallocated")) {
        throw new DescriptorException(xml, "Invalid value '" + s + "' in " + node);
      }
      return dflt; // ploop ignores a value with trailing junk, except Blocksize and Preallocated
    }
  }
}
