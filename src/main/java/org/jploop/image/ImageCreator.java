package org.jploop.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.function.LongConsumer;
import org.jploop.format.FormatVersion;
import org.jploop.format.ImageGeometry;
import org.jploop.format.ImageHeader;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.io.BlockFile;
import org.jploop.io.DiskLock;
import org.jploop.io.FileBlockFile;
import org.jploop.io.ImageWriter;
import org.jploop.io.SuppressForbidden;

/**
 * Creates a new disk the way {@code ploop init} does (steps 2-7): the image file (ploop1 expanded
 * or preallocated, v1 or v2, or raw) created O_EXCL with mode 0600 and fsynced, then {@code
 * DiskDescriptor.xml} beside it naming the image {@code {TOPDELTA, parent NONE}} with a relative
 * path. On any failure both files are removed again. Stateless; the caller owns locking (a new disk
 * has no lock yet, and O_EXCL on both files keeps two creators apart).
 */
public final class ImageCreator {
  /** Raw images are zero-filled in chunks of this many bytes (ploop writes 1 MiB at a time). */
  static final int FILL_CHUNK = 1 << 20;

  private ImageCreator() {}

  /**
   * What to create.
   *
   * @param image path of the image file; its directory must exist
   * @param sizeSectors requested virtual size in sectors, rounded to the cluster by {@link
   *     #roundSize}
   * @param clusterSectors cluster size in sectors (a power of two in 64..131072)
   * @param version ploop1 format version (ignored for raw)
   * @param format expanded, preallocated or raw
   * @param sparse for raw: create the file with ftruncate instead of writing zeros ({@code -S})
   */
  public record Request(
      Path image,
      long sizeSectors,
      int clusterSectors,
      FormatVersion version,
      ImageFormat format,
      boolean sparse) {

    /** A default request: v2, 1 MiB clusters, expanded. */
    public static Request of(Path image, long sizeSectors) {
      return new Request(
          image,
          sizeSectors,
          ImageGeometry.DEFAULT_CLUSTER_SECTORS,
          FormatVersion.V2,
          ImageFormat.EXPANDED,
          false);
    }

    /** Returns a copy with another cluster size. */
    public Request withClusterSectors(int sectors) {
      return new Request(image, sizeSectors, sectors, version, format, sparse);
    }

    /** Returns a copy with another version. */
    public Request withVersion(FormatVersion v) {
      return new Request(image, sizeSectors, clusterSectors, v, format, sparse);
    }

    /** Returns a copy with another format and sparse setting. */
    public Request withFormat(ImageFormat f, boolean sparseRaw) {
      return new Request(image, sizeSectors, clusterSectors, version, f, sparseRaw);
    }
  }

  /**
   * What was created.
   *
   * @param descriptorFile the new DiskDescriptor.xml
   * @param imageFile the new image file
   * @param descriptor its content
   */
  public record Created(Path descriptorFile, Path imageFile, DiskDescriptor descriptor) {}

  /**
   * Returns {@code realpath(dirname(image))/DiskDescriptor.xml}, where init puts the descriptor.
   */
  public static Path descriptorFor(Path image) throws IOException {
    Path parent = image.toAbsolutePath().getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new NoSuchFileException(String.valueOf(parent), null, "No such directory");
    }
    return parent.toRealPath().resolve(DiskDescriptor.FILE_NAME);
  }

  /** Largest virtual size in sectors of this format: u32 sectors for v1, u32 clusters for v2. */
  public static long maxSizeSectors(FormatVersion version, int clusterSectors) {
    return version == FormatVersion.V1 ? 0xFFFFFFFFL : 0xFFFFFFFFL * clusterSectors;
  }

  /**
   * ploop's round_bdsize: rounds {@code sizeSectors} up to a whole cluster, or down when rounding
   * up would pass the format's limit.
   */
  public static long roundSize(long sizeSectors, int clusterSectors, FormatVersion version) {
    long up = (sizeSectors + clusterSectors - 1) / clusterSectors * clusterSectors;
    long max = maxSizeSectors(version, clusterSectors);
    return up > max ? sizeSectors / clusterSectors * clusterSectors : up;
  }

  /**
   * Creates the image and its descriptor.
   *
   * @param progress told the number of bytes written so far while a raw image is zero-filled
   * @throws FileAlreadyExistsException if the descriptor or the image exists (nothing is touched)
   * @throws IllegalArgumentException for an invalid size or cluster size, with ploop's message
   */
  public static Created create(Request req, LongConsumer progress) throws IOException {
    if (!ImageGeometry.isValidClusterSectors(req.clusterSectors())) {
      throw new IllegalArgumentException("Incorrect blocksize specified: " + req.clusterSectors());
    }
    if (req.sizeSectors() <= 0) {
      throw new IllegalArgumentException("Invalid disk size: " + req.sizeSectors() + " sectors");
    }
    FormatVersion version = req.format() == ImageFormat.RAW ? FormatVersion.V2 : req.version();
    long size = roundSize(req.sizeSectors(), req.clusterSectors(), version);
    long max = maxSizeSectors(version, req.clusterSectors());
    if (size <= 0 || size > max) {
      throw new IllegalArgumentException(
          "An incorrect block device size is specified: "
              + req.sizeSectors()
              + " sectors. The maximum allowed size is "
              + max
              + " sectors");
    }
    ImageGeometry geometry = ImageGeometry.forSize(size, req.clusterSectors());
    Path xml = descriptorFor(req.image());
    Path image = xml.getParent().resolve(req.image().getFileName());
    return createAt(
        req, version, geometry, xml, image, image.getFileName().toString(), null, progress);
  }

  /**
   * Creates a ploop-volume's disk ({@code ploop-volume create}): the image at {@code image} (which
   * may be outside the volume directory, {@code --image}) and {@code VOL/DiskDescriptor.xml} with
   * an empty {@code <Volume/>} and the image's path as ploop 9 names it from there.
   */
  public static Created createVolume(Request req, Path volumeDir, LongConsumer progress)
      throws IOException {
    if (!ImageGeometry.isValidClusterSectors(req.clusterSectors())) {
      throw new IllegalArgumentException("Incorrect blocksize specified: " + req.clusterSectors());
    }
    FormatVersion version = req.format() == ImageFormat.RAW ? FormatVersion.V2 : req.version();
    long size = roundSize(req.sizeSectors(), req.clusterSectors(), version);
    long max = maxSizeSectors(version, req.clusterSectors());
    if (req.sizeSectors() <= 0 || size <= 0 || size > max) {
      throw new IllegalArgumentException(
          "An incorrect block device size is specified: "
              + req.sizeSectors()
              + " sectors. The maximum allowed size is "
              + max
              + " sectors");
    }
    Path dir = volumeDir.toRealPath();
    Path parent = req.image().toAbsolutePath().getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new NoSuchFileException(String.valueOf(parent), null, "No such directory");
    }
    Path image = parent.toRealPath().resolve(req.image().getFileName());
    if (req.format() == ImageFormat.RAW && !image.startsWith(dir)) {
      throw new IllegalArgumentException(
          "A raw image of a volume must be inside "
              + dir
              + " (jploop refuses raw images outside the descriptor's directory)");
    }
    return createAt(
        req,
        version,
        ImageGeometry.forSize(size, req.clusterSectors()),
        dir.resolve(DiskDescriptor.FILE_NAME),
        image,
        DiskDescriptor.relativePath(dir, image),
        new DiskDescriptor.Volume(null, null, false),
        progress);
  }

  private static Created createAt(
      Request req,
      FormatVersion version,
      ImageGeometry geometry,
      Path xml,
      Path image,
      String fileName,
      DiskDescriptor.Volume volume,
      LongConsumer progress)
      throws IOException {
    if (Files.exists(xml)) {
      throw new FileAlreadyExistsException(xml.toString(), null, "File exists");
    }
    if (Files.exists(image)) {
      throw new FileAlreadyExistsException(image.toString(), null, "File exists");
    }
    boolean imageCreated = false;
    try {
      switch (req.format()) {
        case EXPANDED -> ImageWriter.createEmpty(image, ImageHeader.create(version, geometry));
        case PREALLOCATED -> createPreallocated(image, version, geometry);
        case RAW -> createRaw(image, geometry.sizeBytes(), req.sparse(), progress);
        default -> throw new IllegalStateException(req.format().toString());
      }
      imageCreated = true;
      DiskDescriptor d =
          DiskDescriptor.forNewImage(geometry, fileName, req.format() == ImageFormat.RAW)
              .withVolume(volume);
      if (req.format() == ImageFormat.PREALLOCATED) {
        d =
            new DiskDescriptor(
                d.diskSizeSectors(),
                d.maxDeltaSize(),
                d.cylinders(),
                d.heads(),
                d.sectors(),
                d.encryptionKeyId(),
                d.blocksize(),
                true,
                d.images(),
                d.topGuid(),
                d.shots(),
                d.volume());
      }
      createDescriptor(xml, d);
      return new Created(xml, image, d);
    } catch (IOException | RuntimeException e) {
      if (imageCreated || !(e instanceof FileAlreadyExistsException)) {
        Files.deleteIfExists(image);
      }
      throw e;
    }
  }

  /** Removes what {@link #create} made, for a later init step that fails (ploop's step 9). */
  public static void remove(Created created) throws IOException {
    Files.deleteIfExists(created.imageFile());
    Files.deleteIfExists(created.descriptorFile());
    Files.deleteIfExists(
        created.descriptorFile().resolveSibling(created.descriptorFile().getFileName() + ".tmp"));
    // the lock file a temporary mount (init's mkfs step) left beside the descriptor it locked
    Files.deleteIfExists(DiskLock.lockFileFor(created.descriptorFile()));
  }

  /** Creates {@code xml} (O_EXCL, 0644) holding {@code d}; removes it again if writing fails. */
  static void createDescriptor(Path xml, DiskDescriptor d) throws IOException {
    // Claim the name first (O_EXCL), so a concurrent init cannot be overwritten by the rename.
    Files.newByteChannel(
            xml,
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")))
        .close();
    try {
      d.write(xml);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(xml);
      throw e;
    }
  }

  private static void createPreallocated(Path image, FormatVersion version, ImageGeometry geometry)
      throws IOException {
    long fbo = geometry.firstBlockOffsetSectors();
    if (version == FormatVersion.V1 && fbo + geometry.sizeSectors() > 0xFFFFFFFFL) {
      throw new IllegalArgumentException(
          "A preallocated v1 image must stay below 2 TiB: "
              + geometry.sizeSectors()
              + " sectors is too large");
    }
    ImageWriter.createEmpty(image, ImageHeader.create(version, geometry));
    try (BlockFile f = FileBlockFile.open(image, false)) {
      long total = geometry.dataOffsetBytes() + geometry.sizeBytes();
      try {
        f.allocate(0, total);
      } catch (IOException e) {
        if (e instanceof org.jploop.io.NoSpaceException) {
          throw e;
        }
        // fallocate unsupported by the host filesystem: ploop falls back to ftruncate.
        warn("Warning: fallocate failed on " + image + ", using ftruncate: " + e.getMessage());
        f.truncate(total);
      }
      ByteBuffer buf = ByteBuffer.allocate(FILL_CHUNK).order(ByteOrder.LITTLE_ENDIAN);
      long pos = ImageHeader.SIZE;
      long headerClusters = geometry.headerClusters();
      for (long i = 0; i < geometry.batEntries(); i++) {
        long value =
            version == FormatVersion.V2 ? headerClusters + i : fbo + i * geometry.clusterSectors();
        buf.putInt((int) value);
        if (!buf.hasRemaining()) {
          buf.flip();
          f.write(buf, pos);
          pos += FILL_CHUNK;
          buf.clear();
        }
      }
      buf.flip();
      f.write(buf, pos);
      f.force();
    }
  }

  private static void createRaw(Path image, long bytes, boolean sparse, LongConsumer progress)
      throws IOException {
    try (FileChannel ch =
        FileChannel.open(
            image,
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
      if (sparse) {
        ch.write(ByteBuffer.allocate(1), bytes - 1);
      } else {
        ByteBuffer zeros = ByteBuffer.allocateDirect(FILL_CHUNK);
        long pos = 0;
        while (pos < bytes) {
          zeros.clear().limit((int) Math.min(FILL_CHUNK, bytes - pos));
          while (zeros.hasRemaining()) {
            pos += ch.write(zeros, pos);
          }
          progress.accept(pos);
        }
      }
      ch.force(true);
    }
  }

  /** Prints a warning to stderr, as ploop's image creation does (the verb's stderr). */
  @SuppressForbidden(
      "ploop prints this warning to stderr from the image code; no writer reaches here")
  private static void warn(String line) {
    System.err.println(line);
  }
}
