package org.jploop.testing;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * What a file or disk region must contain: a sparse map of 4 KiB pages, where an absent page reads
 * as zeros. The randomized exercisers apply every acknowledged write, punch and zero-range here and
 * compare every read against it. Not thread-safe: each exerciser thread owns its own model (and the
 * bytes it covers).
 */
public final class ContentModel {
  /** Bytes per model page. */
  public static final int PAGE = 4096;

  /** Page index → contents; absent means all zeros. A page that becomes all zero is dropped. */
  private final Map<Long, byte[]> pages = new HashMap<>();

  /** Returns the number of non-zero pages held. */
  public int pageCount() {
    return pages.size();
  }

  /**
   * Records that {@code len} bytes of {@code src} starting at {@code srcOff} were written at {@code
   * pos}.
   */
  public void write(long pos, byte[] src, int srcOff, int len) {
    long p = pos;
    int done = 0;
    while (done < len) {
      long page = p / PAGE;
      int in = (int) (p % PAGE);
      int n = Math.min(PAGE - in, len - done);
      byte[] data = pages.get(page);
      if (data == null) {
        if (allZero(src, srcOff + done, n)) {
          p += n;
          done += n;
          continue;
        }
        data = new byte[PAGE];
        pages.put(page, data);
      }
      System.arraycopy(src, srcOff + done, data, in, n);
      if (allZero(data, 0, PAGE)) {
        pages.remove(page);
      }
      p += n;
      done += n;
    }
  }

  /** Records that {@code [pos, pos+len)} now reads as zeros (punch hole or zero range). */
  public void zero(long pos, long len) {
    long p = pos;
    long end = pos + len;
    while (p < end) {
      long page = p / PAGE;
      int in = (int) (p % PAGE);
      int n = (int) Math.min(PAGE - in, end - p);
      byte[] data = pages.get(page);
      if (data != null) {
        if (n == PAGE) {
          pages.remove(page);
        } else {
          Arrays.fill(data, in, in + n, (byte) 0);
          if (allZero(data, 0, PAGE)) {
            pages.remove(page);
          }
        }
      }
      p += n;
    }
  }

  /** Fills {@code dst[dstOff, dstOff+len)} with the expected contents of {@code [pos, pos+len)}. */
  public void read(long pos, byte[] dst, int dstOff, int len) {
    long p = pos;
    int done = 0;
    while (done < len) {
      long page = p / PAGE;
      int in = (int) (p % PAGE);
      int n = Math.min(PAGE - in, len - done);
      byte[] data = pages.get(page);
      if (data == null) {
        Arrays.fill(dst, dstOff + done, dstOff + done + n, (byte) 0);
      } else {
        System.arraycopy(data, in, dst, dstOff + done, n);
      }
      p += n;
      done += n;
    }
  }

  static boolean allZero(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
