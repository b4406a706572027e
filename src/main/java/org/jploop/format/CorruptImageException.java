package org.jploop.format;

import java.nio.file.FileSystemException;
import java.nio.file.Path;

/**
 * An image file whose bytes break the ploop1 format. The message names the file and, where one
 * field is at fault, its byte offset: {@code root.hds: offset 132: BAT entry 17 points past end of
 * file (cluster 912, file has 800 clusters)}.
 */
public class CorruptImageException extends FileSystemException {
  private static final long serialVersionUID = 1L;

  /** Byte offset of the offending field in the file, or -1 when no single field is at fault. */
  private final long offset;

  /** What is wrong, without file and offset. */
  private final String detail;

  /** Creates an error for {@code file} at byte {@code offset} (-1 for none). */
  public CorruptImageException(Path file, long offset, String reason) {
    super(String.valueOf(file), null, offset >= 0 ? "offset " + offset + ": " + reason : reason);
    this.offset = offset;
    this.detail = reason;
  }

  /** Returns what is wrong, without the file name and offset. */
  public String detail() {
    return detail;
  }

  /** Returns the byte offset of the offending field, or -1. */
  public long offset() {
    return offset;
  }

  @Override
  public String getMessage() {
    return getFile() + ": " + getReason();
  }
}
