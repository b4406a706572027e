package org.jploop.format.descriptor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.xml.XmlMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jploop.format.ImageGeometry;
import org.jploop.format.descriptor.DiskDescriptor.ImageEntry;
import org.jploop.format.descriptor.DiskDescriptor.Shot;
import org.jploop.format.descriptor.DiskDescriptor.Volume;

/**
 * Reads DiskDescriptor.xml into a {@link DiskDescriptor} with ploop's lib/xml.c rules, and for a
 * ploop-volume layout appends the parent volumes' images and snapshots (read from their own
 * descriptors, following {@code <Parent>} at most {@value #MAX_PARENTS} times) as alien entries.
 *
 * <p>Values are taken as ploop's libxml2 code takes them: text is used verbatim (a blank in {@code
 * <File>} is part of the name, a blank around a GUID makes it invalid); numbers go through {@code
 * strtoul(s, 0)} semantics: leading blanks, decimal, {@code 0x} hex or {@code 0} octal, and nothing
 * after the digits. A number with trailing characters (a blank included) is ignored, except {@code
 * Blocksize} and {@code Preallocated}, which are refused ("Invalid Blocksize"). Stateless.
 */
final class DescriptorParser {
  /** ploop_read_dd follows at most this many {@code <Parent>} links. */
  static final int MAX_PARENTS = 256;

  private DescriptorParser() {}

  /**
   * Returns the one mapper for descriptors, built on first use: building one and introspecting the
   * tree classes costs a short command more than reading the file, and a configured mapper is
   * thread-safe.
   */
  static XmlMapper mapper() {
    return Mapper.INSTANCE;
  }

  /** Holds the mapper (lazy: initialised when {@link #mapper} is first called). */
  private static final class Mapper {
    static final XmlMapper INSTANCE = build();

    private static XmlMapper build() {
      XmlMapper m = XmlMapper.builder().defaultUseWrapper(false).build();
      m.enable(SerializationFeature.INDENT_OUTPUT);
      m.disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
      return m;
    }
  }

  /** Reads and validates {@code xml}, with the parents of a volume layout as alien entries. */
  static DiskDescriptor read(Path xml) throws IOException {
    DiskDescriptor d = readOwn(xml);
    List<ImageEntry> images = new ArrayList<>(d.images());
    List<Shot> shots = new ArrayList<>(d.shots());
    if (d.volume() == null) {
      if (images.size() != shots.size()
          && shots.stream().noneMatch(s -> Guid.same(s.guid(), Guid.TOP_DELTA))) {
        shots.add(new Shot(Guid.TOP_DELTA, Guid.NONE, null)); // lib/xml.c compatibility rule
      }
    } else {
      appendParents(xml, d.volume(), images, shots);
    }
    String top = d.topGuid();
    if (top == null && shots.stream().anyMatch(s -> Guid.same(s.guid(), Guid.TOP_DELTA))) {
      top = Guid.TOP_DELTA;
    }
    if (top == null || !Guid.isValid(top)) {
      throw new DescriptorException(xml, "Invalid TopGUID " + top);
    }
    String topFinal = top;
    Shot topShot =
        shots.stream()
            .filter(s -> Guid.same(s.guid(), topFinal))
            .findFirst()
            .orElseThrow(
                () -> new DescriptorException(xml, "Can't find snapshot by uuid " + topFinal));
    if (topShot.temporary() != null) {
      throw new DescriptorException(xml, "The top snapshot " + top + " is temporary");
    }
    if (images.size() != shots.size()) {
      throw new DescriptorException(
          xml,
          "Inconsistency detected: "
              + images.size()
              + " images but "
              + shots.size()
              + " snapshots");
    }
    unique(xml, images, shots);
    DiskDescriptor full =
        new DiskDescriptor(
            d.diskSizeSectors(),
            d.maxDeltaSize(),
            d.cylinders(),
            d.heads(),
            d.sectors(),
            d.encryptionKeyId(),
            d.blocksize(),
            d.preallocated(),
            images,
            top,
            shots,
            d.volume());
    full.chain(xml, top);
    for (ImageEntry e : full.images()) {
      full.fileOf(xml, e); // path rules (containment, raw images of a volume) checked on read
    }
    return full;
  }

  /**
   * Appends the images and snapshots of every parent volume as alien entries, files made absolute
   * against the parent's directory.
   */
  private static void appendParents(Path xml, Volume vol, List<ImageEntry> images, List<Shot> shots)
      throws IOException {
    Set<Path> seen = new HashSet<>();
    seen.add(xml.toAbsolutePath().normalize());
    Path child = xml;
    Volume v = vol;
    for (int n = 0; v != null && v.parent() != null; n++) {
      if (n >= MAX_PARENTS) {
        throw new DescriptorException(xml, "More than " + MAX_PARENTS + " parent volumes");
      }
      Path parentXml = v.parentDir(child).resolve(DiskDescriptor.FILE_NAME);
      if (!seen.add(parentXml)) {
        throw new DescriptorException(xml, "Parent volume loop at " + parentXml);
      }
      DiskDescriptor p = readOwn(parentXml);
      for (ImageEntry e : p.images()) {
        images.add(new ImageEntry(e.guid(), e.type(), p.fileOf(parentXml, e).toString(), true));
      }
      for (Shot s : p.shots()) {
        shots.add(new Shot(s.guid(), s.parentGuid(), s.temporary(), true));
      }
      child = parentXml;
      v = p.volume();
    }
  }

  private static void unique(Path xml, List<ImageEntry> images, List<Shot> shots)
      throws DescriptorException {
    for (int i = 0; i < images.size(); i++) {
      for (int j = 0; j < i; j++) {
        if (Guid.same(images.get(i).guid(), images.get(j).guid())) {
          throw new DescriptorException(xml, "Duplicate image GUID " + images.get(i).guid());
        }
        if (!images.get(i).alien()
            && !images.get(j).alien()
            && images.get(i).file().equals(images.get(j).file())) {
          throw new DescriptorException(
              xml, "Image file " + images.get(i).file() + " is listed twice");
        }
      }
    }
    for (int i = 0; i < shots.size(); i++) {
      for (int j = 0; j < i; j++) {
        if (Guid.same(shots.get(i).guid(), shots.get(j).guid())) {
          throw new DescriptorException(xml, "Duplicate snapshot GUID " + shots.get(i).guid());
        }
      }
    }
  }

  /** Parses one file into its own entries (no parents, no cross-checks of the chain). */
  private static DiskDescriptor readOwn(Path xml) throws IOException {
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
      String where =
          e.getLocation() == null
              ? ""
              : " at line "
                  + e.getLocation().getLineNr()
                  + " column "
                  + e.getLocation().getColumnNr();
      throw new DescriptorException(
          xml,
          "malformed XML" + where + ": " + e.getOriginalMessage().lines().findFirst().orElse(""));
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

    if (st.blocksize != null && parse(st.blocksize) < 0) {
      throw new DescriptorException(
          xml, "Invalid disk descriptor file format: Invalid Blocksize " + st.blocksize);
    }
    long blocksize = st.blocksize == null ? 0 : parse(st.blocksize);
    if (!ImageGeometry.isValidClusterSectors(blocksize)) {
      throw new DescriptorException(xml, "Invalid block size " + blocksize);
    }
    long pre = st.preallocated == null ? 0 : parse(st.preallocated);
    if (pre != 0 && pre != 1) {
      throw new DescriptorException(
          xml,
          "Invalid disk descriptor file format: Invalid "
              + "Preallocated value "
              + st.preallocated);
    }
    List<ImageEntry> images = new ArrayList<>();
    boolean raw = false;
    for (XmlTree.Image im : st.images == null ? List.<XmlTree.Image>of() : st.images) {
      String guid = required(xml, im.guid, "/StorageData/Storage/Image/GUID");
      String file = required(xml, im.file, "/StorageData/Storage/Image/File");
      if (!Guid.isValid(guid)) {
        throw new DescriptorException(xml, "Invalid image GUID " + guid);
      }
      String type = im.type == null ? DiskDescriptor.TYPE_COMPRESSED : im.type;
      if (!type.equals(DiskDescriptor.TYPE_COMPRESSED) && !type.equals(DiskDescriptor.TYPE_PLAIN)) {
        throw new DescriptorException(xml, "Unknown image type " + type + " for " + file);
      }
      raw |= type.equals(DiskDescriptor.TYPE_PLAIN);
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
      String guid = required(xml, s.guid, "/Snapshots/Shot/GUID");
      String parent = required(xml, s.parentGuid, "/Snapshots/Shot/ParentGUID");
      if (!Guid.isValid(guid) || !Guid.isValid(parent)) {
        throw new DescriptorException(xml, "Invalid snapshot GUID " + guid + " / parent " + parent);
      }
      String temp =
          s.temporary != null
              ? "Temporary"
              : s.temporaryZero != null
                  ? "TemporaryZero"
                  : s.temporaryZeroSwap != null ? "TemporaryZeroSwap" : null;
      shots.add(new Shot(guid, parent, temp));
    }
    Volume volume = null;
    if (sd.volume != null) {
      XmlTree.Volume v = sd.volume;
      if (v.snapshotGuid != null && !Guid.isValid(v.snapshotGuid)) {
        throw new DescriptorException(xml, "Invalid Volume/SnapshotGUID " + v.snapshotGuid);
      }
      if (v.parent != null && v.parent.isEmpty()) {
        throw missing(xml, "/StorageData/Volume/Parent");
      }
      volume = new Volume(v.parent, v.snapshotGuid, v.readOnly != null);
    }
    long size = optional(dp.diskSize, -1);
    if (size < 0) {
      size = optional(st.end, 0);
    }
    if (size <= 0) {
      throw new DescriptorException(xml, "Invalid disk size " + size + " sectors");
    }
    return new DiskDescriptor(
        size,
        optional(dp.maxDeltaSize, 0),
        optional(dp.cylinders, 0),
        optional(dp.heads, 0),
        optional(dp.sectors, 0),
        dp.encryption == null ? null : dp.encryption.keyId,
        (int) blocksize,
        pre == 1,
        images,
        sn.topGuid,
        shots,
        volume);
  }

  private static <T> T required(Path xml, T value, String node) throws DescriptorException {
    if (value == null) {
      throw missing(xml, node);
    }
    return value;
  }

  private static DescriptorException missing(Path xml, String node) {
    return new DescriptorException(
        xml, "Invalid disk descriptor file format: '" + node + "' node not found");
  }

  /** An optional number: {@code dflt} when absent or not a whole number (lib/xml.c ignores it). */
  private static long optional(String s, long dflt) {
    if (s == null) {
      return dflt;
    }
    long v = parse(s);
    return v < 0 ? dflt : v;
  }

  /**
   * Parses like {@code strtoul(s, &end, 0)} with {@code *end == '\0'} required: leading blanks, an
   * optional {@code +}, then decimal, {@code 0x} hex or {@code 0} octal digits to the end of the
   * text. Returns -1 if the text is not such a number or does not fit in 63 bits.
   */
  static long parse(String s) {
    int i = 0;
    while (i < s.length() && isSpace(s.charAt(i))) {
      i++;
    }
    if (i < s.length() && s.charAt(i) == '+') {
      i++;
    }
    String t = s.substring(i);
    int radix = 10;
    if (t.length() > 2 && (t.startsWith("0x") || t.startsWith("0X"))) {
      radix = 16;
      t = t.substring(2);
    } else if (t.length() > 1 && t.startsWith("0")) {
      radix = 8;
      t = t.substring(1);
    }
    if (t.isEmpty()) {
      return -1;
    }
    for (int k = 0; k < t.length(); k++) {
      if (Character.digit(t.charAt(k), radix) < 0) {
        return -1;
      }
    }
    try {
      return Long.parseLong(t, radix);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** C's isspace in the "C" locale. */
  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
  }
}
