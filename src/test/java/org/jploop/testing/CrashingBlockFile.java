package org.jploop.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jploop.io.BlockFile;

/**
 * A {@link BlockFile} that remembers what a crash could leave behind: a durable image plus the list
 * of operations (writes, punches, truncates, allocations) done since the last {@code force()}.
 * {@link #crash(Random)} returns a new file with the durable state plus a seeded random prefix or
 * subset of the unsynced operations, possibly with one write torn at 512-byte sectors. Reads see
 * every operation. Thread-safe (synchronized).
 */
public final class CrashingBlockFile implements BlockFile {
  private sealed interface Op permits Write, Punch, Truncate, Allocate {}

  private record Write(long pos, byte[] data) implements Op {}

  private record Punch(long pos, long len) implements Op {}

  private record Truncate(long size) implements Op {}

  private record Allocate(long pos, long len) implements Op {}

  private final MemoryBlockFile current;
  private final MemoryBlockFile durable;
  private final List<Op> unsynced = new ArrayList<>();

  /** Starts from {@code initial}'s contents, all durable. */
  public CrashingBlockFile(MemoryBlockFile initial) {
    this.current = initial.copy(false);
    this.durable = initial.copy(false);
  }

  /** Returns the number of operations not yet forced. */
  public synchronized int unsyncedOps() {
    return unsynced.size();
  }

  /** Sets a fault hook on the live file. */
  public void setFault(MemoryBlockFile.Fault f) {
    current.setFault(f);
  }

  /** Returns a copy of the durable state only. */
  public synchronized MemoryBlockFile durableCopy() {
    return durable.copy(false);
  }

  /**
   * Returns what a crash now could leave: the durable state plus a random prefix (mode 0) or random
   * ordered subset (mode 1, 2) of the unsynced operations; mode 2 also tears one write.
   */
  public synchronized MemoryBlockFile crash(Random rnd) throws IOException {
    MemoryBlockFile img = durable.copy(false);
    int mode = rnd.nextInt(3);
    int prefix = rnd.nextInt(unsynced.size() + 1);
    int tear = unsynced.isEmpty() ? -1 : rnd.nextInt(unsynced.size());
    for (int i = 0; i < unsynced.size(); i++) {
      Op op = unsynced.get(i);
      boolean keep = mode == 0 ? i < prefix : rnd.nextBoolean();
      if (!keep) {
        continue;
      }
      if (mode == 2 && i == tear && op instanceof Write w && w.data().length > 512) {
        for (int s = 0; s < w.data().length; s += 512) {
          if (rnd.nextBoolean()) {
            int n = Math.min(512, w.data().length - s);
            img.write(ByteBuffer.wrap(w.data(), s, n), w.pos() + s);
          }
        }
        continue;
      }
      apply(img, op);
    }
    return img;
  }

  private static void apply(MemoryBlockFile f, Op op) throws IOException {
    if (op instanceof Write w) {
      f.write(ByteBuffer.wrap(w.data()), w.pos());
    } else if (op instanceof Punch p) {
      f.punchHole(p.pos(), p.len());
    } else if (op instanceof Truncate t) {
      f.truncate(t.size());
    } else if (op instanceof Allocate a) {
      f.allocate(a.pos(), a.len());
    }
  }

  @Override
  public Path path() {
    return current.path();
  }

  @Override
  public boolean readOnly() {
    return false;
  }

  @Override
  public synchronized long size() {
    return current.size();
  }

  @Override
  public synchronized void read(ByteBuffer dst, long pos) throws IOException {
    current.read(dst, pos);
  }

  @Override
  public synchronized void write(ByteBuffer src, long pos) throws IOException {
    byte[] data = new byte[src.remaining()];
    src.duplicate().get(data);
    current.write(src, pos);
    unsynced.add(new Write(pos, data));
  }

  @Override
  public synchronized void force() throws IOException {
    current.force();
    for (Op op : unsynced) {
      apply(durable, op);
    }
    unsynced.clear();
  }

  @Override
  public synchronized void truncate(long size) throws IOException {
    current.truncate(size);
    unsynced.add(new Truncate(size));
  }

  @Override
  public synchronized void punchHole(long pos, long len) throws IOException {
    current.punchHole(pos, len);
    unsynced.add(new Punch(pos, len));
  }

  @Override
  public synchronized void allocate(long pos, long len) throws IOException {
    current.allocate(pos, len);
    unsynced.add(new Allocate(pos, len));
  }

  @Override
  public void close() {
    current.close();
  }
}
