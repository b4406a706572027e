package org.jploop.format.descriptor;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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
 * {@link #write} stores one atomically (write {@code .tmp}, fsync, rename). {@link #read} is done
 * by {@link DescriptorParser}.
 *
 * <p>Rules applied on read, with ploop's messages: the required nodes exist; the blocksize is
 * valid; there is at least one image; if images and shots differ in number a {@code {TOPDELTA,
 * NONE}} shot is added; the top GUID is valid, exists among the shots and is not temporary; every
 * image and every shot GUID is unique; the chain from the top reaches the base. Image paths must
 * stay inside the descriptor's directory (no absolute paths, no {@code ..}, no symlink out), except
 * in a ploop-volume layout ({@code <Volume>}), where ploop keeps a volume's images wherever {@code
 * --image} put them and a snapshot's images in its parent volume's directory.
 *
 * <p>Volume layout: {@link #volume} is the {@code <Volume>} element; the images and shots of the
 * parent volumes ({@code <Parent>} chain) follow the descriptor's own ones as {@linkplain
 * ImageEntry#alien alien} entries (absolute paths), used to build the chain and never written back.
 *
 * @param diskSizeSectors virtual disk size ({@code Disk_size})
 * @param maxDeltaSize {@code Max_delta_size} in sectors, 0 when absent
 * @param cylinders CHS cylinders
 * @param heads CHS heads
 * @param sectors CHS sectors as written in the XML
 * @param encryptionKeyId {@code Encryption/KeyId}, or null
 * @param blocksize cluster size in sectors
 * @param preallocated whether {@code <Preallocated>1</Preallocated>} is set
 * @param images delta images, base first, in XML order, then the parents' alien ones
 * @param topGuid the top snapshot GUID, normally {@link Guid#TOP_DELTA}
 * @param shots snapshot entries, in XML order, then the parents' alien ones
 * @param volume the {@code <Volume>} element, or null for an ordinary disk
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
    List<Shot> shots,
    Volume volume) {

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
   * @param file path relative to the descriptor's directory, as written; absolute for an alien
   * @param alien whether it belongs to a parent volume's descriptor (never written here)
   */
  public record ImageEntry(String guid, String type, String file, boolean alien) {
    /** An image of this descriptor. */
    public ImageEntry(String guid, String type, String file) {
      this(guid, type, file, false);
    }
  }

  /**
   * One {@code <Shot>}.
   *
   * @param guid its GUID
   * @param parentGuid its parent's GUID, {@link Guid#NONE} for the base
   * @param temporary null, or {@code Temporary}, {@code TemporaryZero} or {@code TemporaryZeroSwap}
   * @param alien whether it belongs to a parent volume's descriptor (never written here)
   */
  public record Shot(String guid, String parentGuid, String temporary, boolean alien) {
    /** A snapshot of this descriptor. */
    public Shot(String guid, String parentGuid, String temporary) {
      this(guid, parentGuid, temporary, false);
    }
  }

  /**
   * ploop-volume's {@code <Volume>} element.
   *
   * @param parent {@code <Parent>} as written (relative to the descriptor's directory, or
   *     absolute), or null for a volume without parent
   * @param snapshotGuid {@code <SnapshotGUID>}: the parent's snapshot this volume grows from, or
   *     null
   * @param readOnly {@code <ReadOnly>}: a snapshot volume, mounted read-only
   */
  public record Volume(String parent, String snapshotGuid, boolean readOnly) {
    /** Returns the parent volume's directory, absolute and normalised. */
    public Path parentDir(Path xml) {
      return xml.toAbsolutePath().getParent().resolve(parent).normalize();
    }
  }

  public DiskDescriptor {
    images = List.copyOf(images);
    shots = List.copyOf(shots);
  }

  /** A descriptor without {@code <Volume>}. */
  public DiskDescriptor(
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
    this(
        diskSizeSectors,
        maxDeltaSize,
        cylinders,
        heads,
        sectors,
        encryptionKeyId,
        blocksize,
        preallocated,
        images,
        topGuid,
        shots,
        null);
  }

  /** Describes a fresh single-image disk of {@code geometry}, like {@code ploop init}. */
  public static DiskDescriptor forNewImage(ImageGeometry geometry, String fileName, boolean raw) {
    long size = geometry.sizeSectors();
    ChsGeometry chs = ChsGeometry.of(size);
    return new DiskDescriptor(
        size,
        0,
        chs.cylinders(),
        chs.heads(),
        chs.descriptorSectors(size),
        null,
        geometry.clusterSectors(),
        false,
        List.of(new ImageEntry(Guid.TOP_DELTA, raw ? TYPE_PLAIN : TYPE_COMPRESSED, fileName)),
        Guid.TOP_DELTA,
        List.of(new Shot(Guid.TOP_DELTA, Guid.NONE, null)));
  }

  /** Reads and validates a descriptor file (and, for a volume, its parents'). */
  public static DiskDescriptor read(Path xml) throws IOException {
    return DescriptorParser.read(xml);
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
      throw new DescriptorException(
          xml,
          "image path "
              + image.file()
              + " is absolute; only paths inside "
              + dir
              + " are accepted");
    }
    for (Path part : rel) {
      if (part.toString().equals("..")) {
        throw new DescriptorException(
            xml, "image path " + image.file() + " leaves the image directory (contains ..)");
      }
    }
    Path p = dir.resolve(rel).normalize();
    if (Files.isSymbolicLink(p) || Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      try {
        Path real = p.toRealPath();
        Path realDir = dir.toRealPath();
        if (!real.startsWith(realDir)) {
          throw new DescriptorException(
              xml,
              "image path "
                  + image.file()
                  + " is a symlink to "
                  + real
                  + ", outside the image directory");
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

  /**
   * Resolves an image of this descriptor to its file: {@link #resolveImage}'s rules for an ordinary
   * disk; in a volume layout relative ({@code ../} too) and absolute paths are taken as ploop takes
   * them, except that a raw ({@code Plain}) image must still be inside the directory; an alien
   * entry already holds its absolute path.
   */
  public Path fileOf(Path xml, ImageEntry image) throws DescriptorException {
    if (volume == null) {
      return resolveImage(xml, image);
    }
    Path dir = xml.toAbsolutePath().getParent();
    Path p = image.alien() ? Path.of(image.file()) : dir.resolve(image.file()).normalize();
    if (image.type().equals(TYPE_PLAIN) && !p.startsWith(dir)) {
      throw new DescriptorException(
          xml,
          "raw image "
              + image.file()
              + " is outside "
              + dir
              + "; jploop accepts a raw image of a volume only inside the volume directory");
    }
    return p;
  }

  /** Resolves the top chain to files, base first (see {@link #fileOf}). */
  public List<Path> topChainFiles(Path xml) throws DescriptorException {
    return chainFiles(xml, topGuid);
  }

  /** Resolves the chain from the base up to {@code guid} to files, base first. */
  public List<Path> chainFiles(Path xml, String guid) throws DescriptorException {
    List<Path> out = new ArrayList<>();
    for (ImageEntry e : chain(xml, guid)) {
      out.add(fileOf(xml, e));
    }
    return out;
  }

  /** Returns the images of this descriptor itself, without the parents' alien ones. */
  public List<ImageEntry> ownImages() {
    return images.stream().filter(i -> !i.alien()).toList();
  }

  /** Returns a copy with another image list, shot list and top GUID. */
  public DiskDescriptor withChain(List<ImageEntry> newImages, List<Shot> newShots, String top) {
    return new DiskDescriptor(
        diskSizeSectors,
        maxDeltaSize,
        cylinders,
        heads,
        sectors,
        encryptionKeyId,
        blocksize,
        preallocated,
        newImages,
        top,
        newShots,
        volume);
  }

  /** Returns a copy with another {@code <Volume>} element (null: none). */
  public DiskDescriptor withVolume(Volume v) {
    return new DiskDescriptor(
        diskSizeSectors,
        maxDeltaSize,
        cylinders,
        heads,
        sectors,
        encryptionKeyId,
        blocksize,
        preallocated,
        images,
        topGuid,
        shots,
        v);
  }

  /**
   * Returns a copy describing a disk of {@code sizeSectors}. As ploop's grow and resize do, {@code
   * <Cylinders>} and {@code <Heads>} stay and {@code <Sectors>} becomes size / (cylinders * heads);
   * only a new disk gets its CHS from the size ({@link #forNewImage}).
   */
  public DiskDescriptor withSize(long sizeSectors) {
    long chsSectors = cylinders == 0 || heads == 0 ? 0 : sizeSectors / (cylinders * heads);
    return new DiskDescriptor(
        sizeSectors,
        maxDeltaSize,
        cylinders,
        heads,
        chsSectors,
        encryptionKeyId,
        blocksize,
        preallocated,
        images,
        topGuid,
        shots,
        volume);
  }

  /** Returns a copy with every image's type set (ploop writes one disk-wide type). */
  public DiskDescriptor withType(String type) {
    List<ImageEntry> im =
        images.stream().map(i -> new ImageEntry(i.guid(), type, i.file(), i.alien())).toList();
    return new DiskDescriptor(
        diskSizeSectors,
        maxDeltaSize,
        cylinders,
        heads,
        sectors,
        encryptionKeyId,
        blocksize,
        preallocated,
        im,
        topGuid,
        shots,
        volume);
  }

  /**
   * Returns {@code target} as ploop 9 writes a path into a descriptor in {@code dir}
   * (get_relative_path): relative, with {@code ../} as needed, when the two share a directory below
   * {@code /}; otherwise absolute.
   */
  public static String relativePath(Path dir, Path target) {
    Path d = dir.toAbsolutePath().normalize();
    Path t = target.toAbsolutePath().normalize();
    if (d.getNameCount() == 0 || t.getNameCount() == 0 || !d.getName(0).equals(t.getName(0))) {
      return t.toString();
    }
    return d.relativize(t).toString();
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
    for (ImageEntry e : ownImages()) {
      XmlTree.Image im = new XmlTree.Image();
      im.guid = e.guid();
      im.type = type;
      im.file = e.file();
      st.images.add(im);
    }
    root.storageData = new XmlTree.StorageData();
    if (volume != null) {
      XmlTree.Volume v = new XmlTree.Volume();
      v.parent = volume.parent();
      v.snapshotGuid = volume.snapshotGuid();
      v.readOnly = volume.readOnly() ? "1" : null;
      root.storageData.volume = v;
    }
    root.storageData.storage.add(st);
    XmlTree.Snapshots sn = new XmlTree.Snapshots();
    sn.topGuid = topGuid;
    for (Shot s : shots) {
      if (s.alien()) {
        continue;
      }
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
      String body =
          DescriptorParser.mapper()
              .writeValueAsString(root)
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
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
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
}
