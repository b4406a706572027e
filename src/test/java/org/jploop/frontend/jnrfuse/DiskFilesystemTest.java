package org.jploop.frontend.jnrfuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.jploop.engine.RawDisk;
import org.jploop.engine.VirtualDisk;
import org.jploop.frontend.DiskImageFile;
import org.jploop.host.EventLog;
import org.jploop.io.NoSpaceException;
import org.jploop.testing.MemoryBlockFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;

/**
 * Tests for {@link DiskFilesystem}, calling the callbacks directly (no mount): data goes through
 * real native buffers into a real {@link RawDisk}, and every failure of a disk that throws becomes
 * the right negative errno instead of an exception.
 */
class DiskFilesystemTest {
  private static final long SIZE = 1 << 20;
  private static final Runtime RT = Runtime.getSystemRuntime();
  private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
  private final EventLog log =
      new EventLog(new PrintStream(logBytes, true, StandardCharsets.UTF_8));
  private VirtualDisk failing;
  private DiskFilesystem failingFs;

  @BeforeEach
  void setUp() throws IOException {
    failing = mock(VirtualDisk.class);
    when(failing.size()).thenReturn(SIZE);
    failingFs = fs(failing, 0, 0);
  }

  private DiskFilesystem fs(VirtualDisk disk, long uid, long gid) {
    return new DiskFilesystem(
        new DiskImageFile(disk, new ReentrantReadWriteLock().readLock(), uid, gid, log), log);
  }

  private static RawDisk rawDisk() throws IOException {
    MemoryBlockFile f = new MemoryBlockFile("raw");
    f.truncate(SIZE);
    return new RawDisk(f);
  }

  private static Pointer buffer(int n) {
    return Memory.allocateDirect(RT, n);
  }

  @Test
  void testWriteThenRead_roundTripsThroughNativeBuffers() throws IOException {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    DiskFilesystem fs = fs(rawDisk(), 0, 0);
    byte[] data = new byte[131072];
    rnd.nextBytes(data);
    Pointer in = buffer(data.length);
    in.put(0, data, 0, data.length);
    long off = 4096L * rnd.nextInt(100);
    assertThat(fs.write("/disk.img", in, data.length, off, null))
        .as("seed %d", seed)
        .isEqualTo(data.length);
    Pointer out = buffer(data.length);
    assertThat(fs.read("/disk.img", out, data.length, off, null)).isEqualTo(data.length);
    byte[] back = new byte[data.length];
    out.get(0, back, 0, back.length);
    assertThat(back).as("seed %d", seed).isEqualTo(data);
  }

  @Test
  void testRead_atAndPastEndIsShort() throws IOException {
    DiskFilesystem fs = fs(rawDisk(), 0, 0);
    Pointer out = buffer(8192);
    assertThat(fs.read("/disk.img", out, 8192, SIZE - 4096, null)).isEqualTo(4096);
    assertThat(fs.read("/disk.img", out, 8192, SIZE, null)).isZero();
  }

  @Test
  void testWrite_noSpaceIsEnospc() throws IOException {
    doThrow(new NoSpaceException(Path.of("root.hds"), "write", 0, 4096))
        .when(failing)
        .write(any(ByteBuffer.class), anyLong());
    assertThat(failingFs.write("/disk.img", buffer(4096), 4096, 0, null))
        .isEqualTo(-ErrorCodes.ENOSPC());
    assertThat(logBytes.toString(StandardCharsets.UTF_8))
        .contains("write offset=0", "ENOSPC", "No space left");
    assertThat(failingFs.meter().requests()).isEqualTo(1);
  }

  @Test
  void testWrite_pastEndIsEinval() throws IOException {
    DiskFilesystem fs = fs(rawDisk(), 0, 0);
    assertThat(fs.write("/disk.img", buffer(8192), 8192, SIZE - 4096, null))
        .isEqualTo(-ErrorCodes.EINVAL());
  }

  @Test
  void testRead_ioErrorIsEio() throws IOException {
    doThrow(new IOException("disk gone")).when(failing).read(any(ByteBuffer.class), anyLong());
    assertThat(failingFs.read("/disk.img", buffer(512), 512, 0, null)).isEqualTo(-ErrorCodes.EIO());
  }

  @Test
  void testCallbacks_uncheckedThrowableIsEioNotAnException() throws IOException {
    doThrow(new IllegalStateException("bug")).when(failing).flush();
    doThrow(new OutOfMemoryError("oom")).when(failing).read(any(ByteBuffer.class), anyLong());
    assertThat(failingFs.write("/disk.img", buffer(512), 512, 0, null)).isEqualTo(512);
    assertThat(failingFs.fsync("/disk.img", 0, null)).isEqualTo(-ErrorCodes.EIO());
    assertThat(failingFs.flush("/disk.img", null)).isEqualTo(-ErrorCodes.EIO());
    assertThat(failingFs.read("/disk.img", buffer(512), 512, 0, null)).isEqualTo(-ErrorCodes.EIO());
  }

  @Test
  void testReadOnly_writesPunchesAndRwOpenAreErofs() throws IOException {
    when(failing.readOnly()).thenReturn(true);
    assertThat(failingFs.write("/disk.img", buffer(512), 512, 0, null))
        .isEqualTo(-ErrorCodes.EROFS());
    assertThat(failingFs.fallocate("/disk.img", 3, 0, 4096, null)).isEqualTo(-ErrorCodes.EROFS());
    FuseFileInfo fi = FuseFileInfo.of(buffer(64));
    fi.flags.set(2); // O_RDWR
    assertThat(failingFs.open("/disk.img", fi)).isEqualTo(-ErrorCodes.EROFS());
    fi.flags.set(0);
    assertThat(failingFs.open("/disk.img", fi)).isZero();
    verify(failing, never()).write(any(ByteBuffer.class), anyLong());
  }

  @Test
  void testGetattr_rootDiskAndMissing() {
    FileStat st = new FileStat(RT);
    DiskFilesystem fs = fs(failing, 1234, 5678);
    assertThat(fs.getattr("/disk.img", st)).isZero();
    assertThat(st.st_mode.intValue()).isEqualTo(FileStat.S_IFREG | 0600);
    assertThat(st.st_size.longValue()).isEqualTo(SIZE);
    assertThat(st.st_uid.longValue()).isEqualTo(1234);
    assertThat(st.st_gid.longValue()).isEqualTo(5678);
    FileStat root = new FileStat(RT);
    assertThat(fs.getattr("/", root)).isZero();
    assertThat(root.st_mode.intValue() & FileStat.S_IFMT).isEqualTo(FileStat.S_IFDIR);
    assertThat(fs.getattr("/other", new FileStat(RT))).isEqualTo(-ErrorCodes.ENOENT());
  }

  @Test
  void testGetattr_failingSizeIsEio() {
    when(failing.size()).thenThrow(new IllegalStateException("closed"));
    assertThat(failingFs.getattr("/disk.img", new FileStat(RT))).isEqualTo(-ErrorCodes.EIO());
  }

  @Test
  void testTruncate_onlySameSize() {
    assertThat(failingFs.truncate("/disk.img", SIZE)).isZero();
    assertThat(failingFs.truncate("/disk.img", SIZE - 1)).isEqualTo(-ErrorCodes.EPERM());
    assertThat(failingFs.truncate("/nope", SIZE)).isEqualTo(-ErrorCodes.ENOENT());
  }

  @Test
  void testStatfs_reportsDiskSize() {
    Statvfs s = new Statvfs(RT);
    assertThat(failingFs.statfs("/", s)).isZero();
    assertThat(s.f_blocks.longValue() * s.f_frsize.longValue()).isEqualTo(SIZE);
  }

  @Test
  void testFsyncAndFlush_areTheDiskBarrier_freeWhenNothingWasWritten() throws IOException {
    assertThat(failingFs.flush("/disk.img", null)).isZero();
    verify(failing, never()).flush();
    assertThat(failingFs.write("/disk.img", buffer(512), 512, 0, null)).isEqualTo(512);
    assertThat(failingFs.fsync("/disk.img", 1, null)).isZero();
    assertThat(failingFs.flush("/disk.img", null)).isZero();
    verify(failing).flush();
  }

  @Test
  void testUmount_isNotALazyUnmount() {
    // jnr-fuse's shutdown hook calls umount(); the owner's hook tears down instead
    failingFs.umount();
    assertThat(logBytes.toString(StandardCharsets.UTF_8)).isEmpty();
  }
}
