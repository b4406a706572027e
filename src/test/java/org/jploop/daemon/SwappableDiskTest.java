package org.jploop.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jploop.engine.DiskStats;
import org.jploop.engine.VirtualDisk;
import org.jploop.frontend.DiskImageFile;
import org.jploop.frontend.Errno;
import org.jploop.host.EventLog;
import org.junit.jupiter.api.Test;

/**
 * The suspend gate of {@link SwappableDisk}: a call in progress finishes on the old disk before the
 * reload starts, calls arriving meanwhile wait and then run on the new disk (each caller in its own
 * order), and a failed reload makes every call fail instead of touching a closed disk.
 */
class SwappableDiskTest {

  /** An in-memory disk that records every call in a shared journal; writes can be held. */
  static final class JournalDisk implements VirtualDisk {
    final String name;
    final long size;
    final List<String> journal;
    volatile CountDownLatch holdWrites;
    final CountDownLatch writeEntered = new CountDownLatch(1);
    volatile boolean closed;

    JournalDisk(String name, long size, List<String> journal) {
      this.name = name;
      this.size = size;
      this.journal = journal;
    }

    @Override
    public long size() {
      return size;
    }

    @Override
    public boolean readOnly() {
      return false;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
      check();
      journal.add(name + " read " + offset);
    }

    @Override
    public void write(ByteBuffer src, long offset) throws IOException {
      check();
      writeEntered.countDown();
      CountDownLatch h = holdWrites;
      if (h != null) {
        try {
          h.await();
        } catch (InterruptedException e) {
          throw new IOException(e);
        }
      }
      journal.add(name + " write " + offset);
    }

    private void check() throws IOException {
      if (closed) {
        throw new IOException(name + " is closed");
      }
    }

    @Override
    public void punchHole(long offset, long length) {}

    @Override
    public void zeroRange(long offset, long length) {}

    @Override
    public void flush() throws IOException {
      check();
      journal.add(name + " flush");
    }

    @Override
    public boolean takeEnospcEvent() {
      return false;
    }

    @Override
    public DiskStats stats() {
      return null;
    }

    @Override
    public void close() {
      closed = true;
      journal.add(name + " close");
    }
  }

  private static Thread start(String name, IoAction a) {
    Thread t =
        new Thread(
            () -> {
              try {
                a.run();
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            },
            name);
    t.start();
    return t;
  }

  @FunctionalInterface
  interface IoAction {
    void run() throws IOException;
  }

  private static void awaitState(Thread t, Thread.State s) throws InterruptedException {
    long end = System.currentTimeMillis() + 5_000;
    while (t.getState() != s) {
      assertThat(System.currentTimeMillis()).as("%s reaching %s", t.getName(), s).isLessThan(end);
      Thread.sleep(5);
    }
  }

  @Test
  void inFlightWriteFinishesFirstAndHeldBackCallsRunOnTheNewDisk() throws Exception {
    List<String> journal = new CopyOnWriteArrayList<>();
    JournalDisk old = new JournalDisk("old", 1 << 20, journal);
    JournalDisk next = new JournalDisk("new", 2 << 20, journal);
    SwappableDisk disk = new SwappableDisk(old);
    CountDownLatch release = new CountDownLatch(1);
    old.holdWrites = release;

    Thread inFlight = start("in-flight", () -> disk.write(ByteBuffer.allocate(1), 0));
    assertThat(old.writeEntered.await(5, TimeUnit.SECONDS)).isTrue();
    Thread op =
        start(
            "online-op",
            () ->
                disk.suspended(
                    cur -> {
                      journal.add("reload");
                      cur.close();
                      return next;
                    }));
    awaitState(op, Thread.State.WAITING);
    Thread later1 = start("later-1", () -> disk.write(ByteBuffer.allocate(1), 4096));
    awaitState(later1, Thread.State.WAITING);
    Thread later2 = start("later-2", () -> disk.flush());
    awaitState(later2, Thread.State.WAITING);
    assertThat(journal).as("nothing runs while the in-flight write holds the gate").isEmpty();

    release.countDown();
    for (Thread t : List.of(inFlight, op, later1, later2)) {
      t.join(5_000);
      assertThat(t.isAlive()).as(t.getName()).isFalse();
    }
    // The two held-back calls were waiting together; the gate admits them together, as the
    // kernel, which had sent both without waiting for either reply, allows.
    assertThat(journal.subList(0, 3)).containsExactly("old write 0", "reload", "old close");
    assertThat(journal.subList(3, journal.size()))
        .containsExactlyInAnyOrder("new write 4096", "new flush");
    assertThat(disk.size()).isEqualTo(2 << 20);
  }

  @Test
  void failedReloadFailsEveryCallButKeepsTheSize() throws Exception {
    List<String> journal = new CopyOnWriteArrayList<>();
    JournalDisk old = new JournalDisk("old", 1 << 20, journal);
    SwappableDisk disk = new SwappableDisk(old);
    assertThatThrownBy(
            () ->
                disk.suspended(
                    cur -> {
                      cur.close();
                      throw new IOException("cannot reopen");
                    }))
        .hasMessage("cannot reopen");
    assertThat(disk.failed()).isTrue();
    assertThatThrownBy(() -> disk.read(ByteBuffer.allocate(1), 0))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cannot reopen");
    assertThatThrownBy(() -> disk.write(ByteBuffer.allocate(1), 0)).isInstanceOf(IOException.class);
    assertThatThrownBy(disk::flush).isInstanceOf(IOException.class);
    assertThat(Errno.of(new IOException("x"))).isEqualTo(ru.serce.jnrfuse.ErrorCodes.EIO());
    assertThat(disk.size()).isEqualTo(1 << 20);
    assertThat(journal).containsExactly("old close");
    disk.close();
    assertThatThrownBy(() -> disk.suspended(cur -> cur)).isInstanceOf(IOException.class);
  }

  @Test
  void manyThreadsNeverTouchAClosedDisk() throws Exception {
    List<String> journal = new CopyOnWriteArrayList<>();
    SwappableDisk disk = new SwappableDisk(new JournalDisk("d0", 1 << 20, journal));
    long seed = System.nanoTime();
    java.util.Random rnd = new java.util.Random(seed);
    List<Thread> writers = new java.util.ArrayList<>();
    java.util.concurrent.atomic.AtomicReference<Throwable> err =
        new java.util.concurrent.atomic.AtomicReference<>();
    for (int w = 0; w < 4; w++) {
      int id = w;
      Thread t =
          new Thread(
              () -> {
                try {
                  for (int i = 0; i < 2_000; i++) {
                    disk.write(ByteBuffer.allocate(1), id * 1_000_000L + i);
                  }
                } catch (Throwable e) {
                  err.set(e);
                }
              },
              "writer-" + w);
      writers.add(t);
      t.start();
    }
    for (int s = 1; s <= 20; s++) {
      String name = "d" + s;
      disk.suspended(
          cur -> {
            cur.close();
            return new JournalDisk(name, 1 << 20, journal);
          });
      Thread.sleep(rnd.nextInt(3));
    }
    for (Thread t : writers) {
      t.join(30_000);
    }
    assertThat(err.get()).as("seed %d", seed).isNull();
    assertThat(journal.stream().filter(l -> l.contains("write")).count())
        .as("seed %d", seed)
        .isEqualTo(8_000);
    for (int w = 0; w < 4; w++) {
      long prev = -1;
      for (String l : journal) {
        if (!l.contains(" write ")) {
          continue;
        }
        long off = Long.parseLong(l.substring(l.lastIndexOf(' ') + 1));
        if (off / 1_000_000 == w) {
          assertThat(off).as("writer %d order, seed %d", w, seed).isGreaterThan(prev);
          prev = off;
        }
      }
    }
  }

  @Test
  void diskImageFileHoldsTheGateForAWholeRequest() throws Exception {
    List<String> journal = new CopyOnWriteArrayList<>();
    JournalDisk old = new JournalDisk("old", 1 << 20, journal);
    JournalDisk next = new JournalDisk("new", 2 << 20, journal);
    SwappableDisk disk = new SwappableDisk(old);
    EventLog log =
        new EventLog(
            new java.io.PrintStream(
                java.io.OutputStream.nullOutputStream(),
                false,
                java.nio.charset.StandardCharsets.UTF_8));
    DiskImageFile fs = new DiskImageFile(disk, disk.admission(), 0, 0, log);
    CountDownLatch release = new CountDownLatch(1);
    old.holdWrites = release;
    int[] rc = new int[2];
    Thread cb =
        start(
            "fuse-request", () -> rc[0] = fs.write(java.nio.ByteBuffer.allocateDirect(4096), 8192));
    assertThat(old.writeEntered.await(5, TimeUnit.SECONDS)).isTrue();
    Thread op =
        start(
            "online-op",
            () ->
                disk.suspended(
                    cur -> {
                      journal.add("reload");
                      cur.close();
                      return next;
                    }));
    awaitState(op, Thread.State.WAITING);
    Thread later =
        start("later-request", () -> rc[1] = fs.read(java.nio.ByteBuffer.allocateDirect(4096), 0));
    awaitState(later, Thread.State.WAITING);
    release.countDown();
    for (Thread t : List.of(cb, op, later)) {
      t.join(5_000);
      assertThat(t.isAlive()).as(t.getName()).isFalse();
    }
    assertThat(rc).containsExactly(4096, 4096);
    assertThat(journal).containsExactly("old write 8192", "reload", "old close", "new read 0");
    assertThat(fs.errorCount()).isZero();
  }
}
