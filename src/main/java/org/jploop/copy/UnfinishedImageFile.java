package org.jploop.copy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jploop.io.BlockFile;

/**
 * The top file of an image being received ({@code ploop copy -d}): a {@link BlockFile} that keeps
 * the image's 16-byte signature ({@code WithoutFreeSpace} / {@code WithouFreSpacExt}) out of the
 * file until {@link #finish} and puts {@link #MARK} there instead. The engine above sees the real
 * signature (reads of bytes 0..15 are patched, writes there are remembered); ploop, QEMU and jploop
 * itself see a file that is not an image at all. So a receiver killed mid-copy (kill -9, power
 * loss) leaves a file that nothing mistakes for a complete disk; a receiver that fails otherwise
 * removes the file. Guarded by this object's monitor (the signature bytes).
 */
final class UnfinishedImageFile implements BlockFile {
  /** What bytes 0..15 hold until the copy is complete. */
  static final byte[] MARK = "jploop-copy-part".getBytes(StandardCharsets.US_ASCII);

  private static final int SIG = 16;

  private final BlockFile file;
  private final byte[] signature = new byte[SIG];

  /** Wraps {@code file} and replaces its signature on disk by {@link #MARK} (forced). */
  UnfinishedImageFile(BlockFile file) throws IOException {
    this.file = file;
    ByteBuffer b = ByteBuffer.wrap(signature);
    file.read(b, 0);
    file.write(ByteBuffer.wrap(MARK), 0);
    file.force();
  }

  /** Puts the real signature into {@code path} (after the engine closed it) and forces it. */
  synchronized void finish(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(signature.clone());
      while (b.hasRemaining()) {
        ch.write(b, b.position());
      }
      ch.force(true);
    }
  }

  @Override
  public Path path() {
    return file.path();
  }

  @Override
  public boolean readOnly() {
    return file.readOnly();
  }

  @Override
  public long size() throws IOException {
    return file.size();
  }

  @Override
  public void read(ByteBuffer dst, long pos) throws IOException {
    int start = dst.position();
    file.read(dst, pos);
    synchronized (this) {
      for (long p = pos; p < SIG && p - pos < dst.position() - start; p++) {
        dst.put(start + (int) (p - pos), signature[(int) p]);
      }
    }
  }

  @Override
  public void write(ByteBuffer src, long pos) throws IOException {
    if (pos >= SIG) {
      file.write(src, pos);
      return;
    }
    ByteBuffer copy = ByteBuffer.allocate(src.remaining());
    copy.put(src.duplicate()).flip();
    synchronized (this) {
      for (long p = pos; p < SIG && p - pos < copy.remaining(); p++) {
        signature[(int) p] = copy.get((int) (p - pos));
        copy.put((int) (p - pos), MARK[(int) p]);
      }
    }
    file.write(copy, pos);
    src.position(src.limit());
  }

  @Override
  public void force() throws IOException {
    file.force();
  }

  @Override
  public void truncate(long size) throws IOException {
    file.truncate(size);
  }

  @Override
  public void punchHole(long pos, long len) throws IOException {
    file.punchHole(pos, len);
  }

  @Override
  public void allocate(long pos, long len) throws IOException {
    file.allocate(pos, len);
  }

  @Override
  public void close() throws IOException {
    file.close();
  }
}
