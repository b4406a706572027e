package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.jploop.io.NoSpaceException;
import org.jploop.testing.MemoryBlockFile;
import org.jploop.testing.TestImages;
import org.junit.jupiter.api.Test;

/** Seed 000 arithmetic and §9 scenario 19/20 (preallocation and its failure). */
class PreallocatorTest {
  static final long MIB = 1 << 20;
  static final int CLUSTER = 64 * 1024;

  @Test
  @SuppressWarnings("GuardedBy") // lock is the bat_lock given to p, which Error Prone cannot see
  void growsInPreallocSizeStepsAndPreemptiveRequestsDoNotMultiply() throws Exception {
    ReentrantLock lock = new ReentrantLock();
    MemoryBlockFile f = new MemoryBlockFile("p.hds");
    f.truncate(CLUSTER);
    Preallocator p = new Preallocator(lock, f, CLUSTER, 128 * MIB, CLUSTER, false);
    lock.lock();
    try {
      for (int i = 0; i < 10; i++) {
        p.requestLocked(true);
      }
      assertThat(p.requestedLocked())
          .as("parallel preemptive requests count once")
          .isEqualTo(CLUSTER);
      p.requestLocked(false);
      assertThat(p.requestedLocked()).isEqualTo(2 * CLUSTER);
    } finally {
      lock.unlock();
    }
    assertThat(p.preallocate()).isNull();
    assertThat(f.size()).isEqualTo(CLUSTER + 128 * MIB);
    lock.lock();
    try {
      assertThat(p.fileSizeLocked()).isEqualTo(CLUSTER + 128 * MIB);
      assertThat(p.requestedLocked()).isZero();
      assertThat(p.areaStartLocked())
          .as("open: the whole existing file may hold old data")
          .isEqualTo(CLUSTER);
      // More than one step requested: the thread loops.
      for (int i = 0; i < (int) (200 * MIB / CLUSTER); i++) {
        p.requestLocked(false);
      }
    } finally {
      lock.unlock();
    }
    assertThat(p.preallocate()).isNull();
    assertThat(f.size()).isEqualTo(CLUSTER + 128 * MIB + 256 * MIB);
  }

  @Test
  @SuppressWarnings("GuardedBy") // lock is the bat_lock given to p, which Error Prone cannot see
  void failureLeavesFileSizeAndWakesWaiters() throws Exception {
    ReentrantLock lock = new ReentrantLock();
    MemoryBlockFile f = new MemoryBlockFile("p.hds");
    Preallocator p = new Preallocator(lock, f, 0, 128 * MIB, CLUSTER, false);
    f.setFault(
        (op, pos, len) ->
            op.equals("truncate") ? new NoSpaceException(f.path(), op, pos, len) : null);
    lock.lock();
    try {
      p.requestLocked(false);
      p.awaitNoPendingLocked(); // runs the round inline (no thread)
      assertThat(p.fileSizeLocked()).isZero();
      assertThat(p.failureLocked(0, CLUSTER)).isInstanceOf(NoSpaceException.class);
      assertThat(p.requestedLocked()).isZero();
    } finally {
      lock.unlock();
    }
  }

  @Test
  void areaStartAdvancesOneClusterPerAllocationAndCloseTruncates() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 64 * MIB, CLUSTER);
    long dataOffset = top.size();
    PloopDisk d = PloopDisk.open(List.of(top), EngineOptions.defaults().backgroundThreads(false));
    byte[] data = new byte[CLUSTER];
    data[0] = 1;
    for (int i = 0; i < 300; i++) {
      d.write(ByteBuffer.wrap(data), (long) i * CLUSTER);
      DiskStats s = d.stats();
      assertThat(s.preallocatedAreaStart()).isEqualTo(dataOffset + (long) (i + 1) * CLUSTER);
      assertThat(s.preallocatedAreaStart()).isLessThanOrEqualTo(s.fileSize());
    }
    DiskStats s = d.stats();
    assertThat(s.fileSize()).as("one 128 MiB step").isEqualTo(dataOffset + 128 * MIB);
    assertThat(s.preallocatedBytes()).isEqualTo(128 * MIB);
    d.close();
    assertThat(top.size()).as("tail truncated on close").isEqualTo(dataOffset + 300L * CLUSTER);
  }

  @Test
  void parallelAllocatorsWithThreadUseOneStep() throws Exception {
    MemoryBlockFile top = TestImages.empty("t.hds", 64 * MIB, CLUSTER);
    long dataOffset = top.size();
    try (PloopDisk d = PloopDisk.open(List.of(top), EngineOptions.defaults())) {
      Thread[] ts = new Thread[8];
      for (int t = 0; t < ts.length; t++) {
        int tt = t;
        ts[t] =
            new Thread(
                () -> {
                  byte[] data = new byte[4096];
                  data[7] = 1;
                  for (int i = 0; i < 64; i++) {
                    try {
                      d.write(ByteBuffer.wrap(data), (long) (tt * 64 + i) * CLUSTER);
                    } catch (IOException e) {
                      throw new RuntimeException(e);
                    }
                  }
                },
                "prealloc-test-writer-" + t);
        ts[t].start();
      }
      for (Thread t : ts) {
        t.join();
      }
      DiskStats s = d.stats();
      assertThat(s.clustersAllocated()).isEqualTo(512);
      assertThat(s.preallocatedAreaStart()).isEqualTo(dataOffset + 512L * CLUSTER);
      assertThat(s.fileSize())
          .as("8 parallel allocators, still one step")
          .isEqualTo(dataOffset + 128 * MIB);
    }
    assertThat(top.size()).isEqualTo(dataOffset + 512L * CLUSTER);
  }
}
