package org.jploop.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.jploop.io.BlockFile;

/**
 * A {@link BlockFile} that passes every call to another one; tests override the calls they want to
 * watch or break (cut power before an fsync, snapshot a crash image before each change). Thread
 * safety is the delegate's.
 */
public class ForwardingBlockFile implements BlockFile {
  protected final BlockFile delegate;

  public ForwardingBlockFile(BlockFile delegate) {
    this.delegate = delegate;
  }

  @Override
  public Path path() {
    return delegate.path();
  }

  @Override
  public boolean readOnly() {
    return delegate.readOnly();
  }

  @Override
  public long size() throws IOException {
    return delegate.size();
  }

  @Override
  public void read(ByteBuffer dst, long pos) throws IOException {
    delegate.read(dst, pos);
  }

  @Override
  public void write(ByteBuffer src, long pos) throws IOException {
    delegate.write(src, pos);
  }

  @Override
  public void force() throws IOException {
    delegate.force();
  }

  @Override
  public void truncate(long size) throws IOException {
    delegate.truncate(size);
  }

  @Override
  public void punchHole(long pos, long len) throws IOException {
    delegate.punchHole(pos, len);
  }

  @Override
  public void allocate(long pos, long len) throws IOException {
    delegate.allocate(pos, len);
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
