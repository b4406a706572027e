package org.jploop.engine;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The top delta's header says {@code m_DiskInUse} = in use: it is open elsewhere or was not closed
 * cleanly. Open it with {@link EngineOptions#allowDirty(boolean)} (after {@code ploop check}).
 */
public class ImageInUseException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Creates the error for {@code file}. */
  public ImageInUseException(Path file) {
    super(file + ": Image is in use (m_DiskInUse is set); not closed cleanly or open elsewhere");
  }
}
