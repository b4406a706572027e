package org.jploop.frontend.kernel;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One worker's native memory, allocated once: the request area, placed so that a WRITE's data (at
 * byte 80 of the request) starts on a page boundary, and a page-aligned area for READ data of
 * {@code maxData} bytes. The engine reads and writes through direct-buffer views of these areas
 * ({@link #view}): no copy between the kernel's buffer and the engine's. Not thread-safe; {@link
 * #free} once the owning thread is done.
 */
final class FuseBuffers {
  private static final int PAGE = 4096;
  private final long requestBase;
  private final long dataBase;

  /** Where read(2) puts a request. */
  final long request;

  /** Bytes read(2) may fill at {@link #request}: more than the kernel's 80 + max_write. */
  final int requestCapacity;

  /** A little-endian view of the request area, for the fixed-size fields. */
  final ByteBuffer requestView;

  /** Where READ data is read into. */
  final long data;

  /** Bytes available at {@link #data}. */
  final int dataCapacity;

  /** Allocates the areas for requests carrying at most {@code maxData} bytes. */
  FuseBuffers(int maxData) {
    MemoryIO io = MemoryIO.getInstance();
    long requestBytes = (long) maxData + 3 * PAGE;
    requestBase = io.allocateMemory(requestBytes, false);
    long aligned = (requestBase + PAGE - 1) & -PAGE;
    request = aligned + PAGE - FuseLayout.WRITE_DATA;
    requestCapacity = (int) (requestBase + requestBytes - request);
    requestView = io.newDirectByteBuffer(request, requestCapacity).order(ByteOrder.LITTLE_ENDIAN);
    dataBase = io.allocateMemory((long) maxData + PAGE, false);
    data = (dataBase + PAGE - 1) & -PAGE;
    dataCapacity = maxData;
  }

  /** Returns a direct buffer over {@code length} bytes of native memory at {@code address}. */
  static ByteBuffer view(long address, int length) {
    return MemoryIO.getInstance().newDirectByteBuffer(address, length);
  }

  /** Frees both areas. */
  void free() {
    MemoryIO.getInstance().freeMemory(requestBase);
    MemoryIO.getInstance().freeMemory(dataBase);
  }
}
