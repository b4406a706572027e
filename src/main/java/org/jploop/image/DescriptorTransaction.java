package org.jploop.image;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.jploop.format.descriptor.DiskDescriptor;

/**
 * The two-phase store ploop uses for multi-step operations: the new state is written and fsynced to
 * {@code DiskDescriptor.xml.tmp} before the image files change ({@link #stage}), and renamed over
 * {@code DiskDescriptor.xml} once they have ({@link #commit}). A crash in between leaves the old
 * descriptor in force and the staged one beside it for recovery.
 */
public final class DescriptorTransaction {
  /** The descriptor file. */
  private final Path xml;

  /** Its staging file, {@code <xml>.tmp}. */
  private final Path tmp;

  public DescriptorTransaction(Path xml) {
    this.xml = xml;
    this.tmp = tempFor(xml);
  }

  /** Returns the staging path for a descriptor: {@code <xml>.tmp}. */
  public static Path tempFor(Path xml) {
    return xml.resolveSibling(xml.getFileName() + ".tmp");
  }

  /** Writes and fsyncs the new state to the staging file. */
  public void stage(DiskDescriptor next) throws IOException {
    next.writeTemp(tmp);
  }

  /** Atomically replaces the descriptor with the staged state and fsyncs the directory. */
  public void commit() throws IOException {
    Files.move(tmp, xml, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    fsyncDirectory(xml);
  }

  /** Removes a staged state that will not be committed. */
  public void abandon() throws IOException {
    Files.deleteIfExists(tmp);
  }

  /** Fsyncs the directory holding {@code file}, so renames and unlinks in it are durable. */
  public static void fsyncDirectory(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
