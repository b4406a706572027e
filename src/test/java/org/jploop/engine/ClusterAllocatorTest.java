package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.jploop.testing.MemoryBlockFile;
import org.junit.jupiter.api.Test;

/** ClusterAllocator: lowest free cluster, punch before reuse, prealloc wait, failure rollback. */
class ClusterAllocatorTest {
  static final int CB = 64 * 1024;

  final ReentrantLock lock = new ReentrantLock();
  final MemoryBlockFile file = new MemoryBlockFile("a.hds");

  ClusterAllocator allocator(long fileLength, boolean falloc) throws IOException {
    file.truncate(fileLength);
    Preallocator p = new Preallocator(lock, file, fileLength, 4L * CB, CB, falloc);
    return new ClusterAllocator(lock, new FreeClusterBitmap(100, 1), p, file, CB, falloc);
  }

  @Test
  void appendsPastUsedAreaWithoutPunching() throws Exception {
    ClusterAllocator a = allocator(CB, false);
    assertThat(a.allocate()).isEqualTo(1);
    assertThat(a.allocate()).isEqualTo(2);
    assertThat(file.punches.get()).isZero();
    assertThat(file.size()).as("grown by PREALLOC_SIZE steps").isEqualTo(CB + 4L * CB);
    assertThat(a.usedEnd()).isEqualTo(3L * CB);
  }

  @Test
  void clusterBelowPreallocatedAreaIsPunchedBeforeReuse() throws Exception {
    ClusterAllocator a = allocator(10L * CB, false); // whole existing file may hold old data
    AtomicInteger punched = new AtomicInteger();
    file.setFault(
        (op, pos, len) -> {
          if (op.equals("punch")) {
            assertThat(pos).isEqualTo(CB);
            assertThat(len).isEqualTo(CB);
            punched.incrementAndGet();
          }
          return null;
        });
    assertThat(a.allocate()).isEqualTo(1);
    assertThat(punched).hasValue(1);
    assertThat(a.holesReusedCount()).isEqualTo(1);
    a.release(List.of(1L));
    assertThat(a.freedCount()).isEqualTo(1);
    assertThat(a.isFree(1)).isTrue();
  }

  @Test
  void failureReturnsTheCluster() throws Exception {
    ClusterAllocator a = allocator(CB, false);
    file.setFault((op, pos, len) -> op.equals("truncate") ? new IOException("injected") : null);
    assertThatThrownBy(a::allocate).isInstanceOf(IOException.class);
    assertThat(a.isFree(1)).isTrue();
    file.setFault(null);
    assertThat(a.allocate()).isEqualTo(1);
  }

  @Test
  void fallocModeAllocatesRealSpace() throws Exception {
    ClusterAllocator a = allocator(CB, true);
    AtomicInteger allocs = new AtomicInteger();
    file.setFault(
        (op, pos, len) -> {
          if (op.equals("allocate")) {
            allocs.incrementAndGet();
          }
          return null;
        });
    a.allocate();
    assertThat(allocs).hasValue(1);
    assertThat(file.size()).isEqualTo(CB + 4L * CB);
  }
}
