package org.jploop.format.descriptor;

import java.nio.file.FileSystemException;
import java.nio.file.Path;

/**
 * A DiskDescriptor.xml that cannot be used: malformed XML, a required element missing, an invalid
 * value, a broken snapshot chain or an image path that leaves the image directory. The message
 * names the file and, where known, the element path or the line.
 */
public class DescriptorException extends FileSystemException {
  private static final long serialVersionUID = 1L;

  /** Creates the error for {@code file}. */
  public DescriptorException(Path file, String reason) {
    super(String.valueOf(file), null, reason);
  }

  @Override
  public String getMessage() {
    return getFile() + ": " + getReason();
  }
}
