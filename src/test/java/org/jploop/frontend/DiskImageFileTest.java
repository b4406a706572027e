package org.jploop.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jploop.engine.VirtualDisk;
import org.jploop.host.EventLog;
import org.jploop.io.NoSpaceException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tests for {@link DiskImageFile}, the semantics both front ends share: EOF clamp, EROFS, fallocate
 * modes and clamping, the size policy, errno mapping with the rate-limited log, and the FLUSH/FSYNC
 * barrier that costs no engine flush when nothing was written since the last one (a mock disk
 * counts the flushes; it stands for the engine at a unit seam).
 */
class DiskImageFileTest {
  private static final long SIZE = 1 << 20;
  private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
  private final EventLog log =
      new EventLog(new PrintStream(logBytes, true, StandardCharsets.UTF_8));
  private VirtualDisk disk;
  private DiskImageFile file;

  @BeforeEach
  void setUp() {
    disk = mock(VirtualDisk.class);
    when(disk.size()).thenReturn(SIZE);
    file = new DiskImageFile(disk, new ReentrantReadWriteLock().readLock(), 0, 0, log);
  }

  @Test
  void testRead_clampedAtTheEnd() throws IOException {
    assertThat(file.read(ByteBuffer.allocateDirect(8192), SIZE - 4096)).isEqualTo(4096);
    verify(disk).read(any(ByteBuffer.class), anyLong());
    assertThat(file.read(ByteBuffer.allocateDirect(8192), SIZE)).isZero();
    assertThat(file.read(ByteBuffer.allocateDirect(8192), SIZE + 1)).isZero();
  }

  @Test
  void testErrors_mappedCountedAndLogged() throws IOException {
    doThrow(new NoSpaceException(Path.of("root.hds"), "write", 0, 4096))
        .when(disk)
        .write(any(ByteBuffer.class), anyLong());
    doThrow(new IOException("disk gone")).when(disk).read(any(ByteBuffer.class), anyLong());
    doThrow(new EOFException("outside")).when(disk).punchHole(anyLong(), anyLong());
    doThrow(new OutOfMemoryError("oom")).when(disk).zeroRange(anyLong(), anyLong());
    assertThat(file.write(ByteBuffer.allocate(4096), 0)).isEqualTo(-Errno.ENOSPC);
    assertThat(file.read(ByteBuffer.allocate(512), 0)).isEqualTo(-Errno.EIO);
    assertThat(file.fallocate(3, 0, 4096)).isEqualTo(-Errno.EINVAL);
    assertThat(file.fallocate(0x10, 0, 4096)).isEqualTo(-Errno.EIO);
    assertThat(file.errorCount()).isEqualTo(4);
    assertThat(logBytes.toString(StandardCharsets.UTF_8))
        .contains(
            "write offset=0 length=4096" + " -> ENOSPC",
            "read offset=0 length=512 -> EIO",
            "fallocate mode=0x3");
  }

  @Test
  void testErrorLog_rateLimitedAfterAHundred() throws IOException {
    doThrow(new IOException("gone")).when(disk).read(any(ByteBuffer.class), anyLong());
    for (int i = 0; i < 2000; i++) {
      file.read(ByteBuffer.allocate(1), 0);
    }
    long lines = logBytes.toString(StandardCharsets.UTF_8).lines().count();
    assertThat(lines).as("100 first, then the 1000th and 2000th").isEqualTo(102);
    assertThat(file.errorCount()).isEqualTo(2000);
  }

  @Test
  void testReadOnly_writesPunchesAndOpensForWritingAreErofs() throws IOException {
    when(disk.readOnly()).thenReturn(true);
    assertThat(file.write(ByteBuffer.allocate(512), 0)).isEqualTo(-Errno.EROFS);
    assertThat(file.fallocate(3, 0, 4096)).isEqualTo(-Errno.EROFS);
    assertThat(file.open(2)).isEqualTo(-Errno.EROFS);
    assertThat(file.open(0)).isZero();
    assertThat(file.truncate(0)).isEqualTo(-Errno.EROFS);
    assertThat(file.barrier("fsync")).isZero();
    verify(disk, never()).write(any(ByteBuffer.class), anyLong());
    verify(disk, never()).flush();
  }

  @Test
  void testFallocate_modesAndClamp() throws IOException {
    assertThat(file.fallocate(0x3, 4096, 8192)).isZero();
    verify(disk).punchHole(4096, 8192);
    assertThat(file.fallocate(0x10, 0, 4096)).isZero();
    assertThat(file.fallocate(0x11, 8192, 4096)).isZero();
    verify(disk).zeroRange(0, 4096);
    verify(disk).zeroRange(8192, 4096);
    for (int mode : new int[] {0, 0x1, 0x2, 0x8, 0x20, 0x40}) {
      assertThat(file.fallocate(mode, 0, 4096)).as("mode 0x%x", mode).isEqualTo(-Errno.EOPNOTSUPP);
    }
    assertThat(file.fallocate(0x3, SIZE - 4096, 1 << 20)).isZero();
    verify(disk).punchHole(SIZE - 4096, 4096);
    assertThat(file.fallocate(0x3, SIZE, 4096)).isZero();
    assertThat(file.fallocate(0x3, -1, 4096)).isEqualTo(-Errno.EINVAL);
    assertThat(file.fallocate(0x3, 0, 0)).isEqualTo(-Errno.EINVAL);
  }

  @Test
  void testTruncateAndOTrunc_onlyTheCurrentSize() {
    assertThat(file.truncate(SIZE)).isZero();
    assertThat(file.truncate(SIZE - 1)).isEqualTo(-Errno.EPERM);
    assertThat(file.open(2 | DiskImageFile.O_TRUNC)).isEqualTo(-Errno.EPERM);
  }

  @Test
  void testBarrier_flushesOnlyAfterAWrite() throws IOException {
    assertThat(file.barrier("flush")).as("close after open, nothing written").isZero();
    verify(disk, never()).flush();
    file.write(ByteBuffer.allocate(4096), 0);
    assertThat(file.barrier("fsync")).isZero();
    assertThat(file.barrier("flush")).as("FLUSH at close after the fsync").isZero();
    assertThat(file.barrier("fsync")).isZero();
    verify(disk, times(1)).flush();
    file.fallocate(3, 0, 4096);
    assertThat(file.barrier("fsync")).isZero();
    verify(disk, times(2)).flush();
    assertThat(file.barriersSkipped()).isEqualTo(3);
  }

  @Test
  void testBarrier_failedWriteStillNeedsAFlush_failedFlushIsRetried() throws IOException {
    doThrow(new IOException("half written")).when(disk).write(any(ByteBuffer.class), anyLong());
    file.write(ByteBuffer.allocate(4096), 0);
    doThrow(new IOException("force failed")).doNothing().when(disk).flush();
    assertThat(file.barrier("fsync")).isEqualTo(-Errno.EIO);
    assertThat(file.barrier("fsync")).as("retried, not skipped").isZero();
    assertThat(file.barrier("fsync")).isZero();
    verify(disk, times(2)).flush();
  }

  @Test
  void testBarrier_concurrentFsyncsShareOneFlushThatStartedAfterThem() throws Exception {
    file.write(ByteBuffer.allocate(4096), 0);
    CountDownLatch inFlush = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger flushes = new AtomicInteger();
    doAnswer(
            inv -> {
              if (flushes.incrementAndGet() == 1) {
                inFlush.countDown();
                release.await(5, TimeUnit.SECONDS);
              }
              return null;
            })
        .when(disk)
        .flush();
    Thread first = new Thread(() -> file.barrier("fsync"), "fsync-1");
    first.start();
    assertThat(inFlush.await(5, TimeUnit.SECONDS)).isTrue();
    // a write that returns while the first flush runs: the next barriers must not reuse it
    file.write(ByteBuffer.allocate(4096), 8192);
    List<Thread> waiters = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Thread t = new Thread(() -> file.barrier("fsync"), "fsync-w" + i);
      t.start();
      waiters.add(t);
    }
    Thread.sleep(100);
    release.countDown();
    first.join(5000);
    for (Thread t : waiters) {
      t.join(5000);
    }
    assertThat(flushes)
        .as("one flush started before the write, one after for all 4 waiters")
        .hasValue(2);
  }
}
