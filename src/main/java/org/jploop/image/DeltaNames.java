package org.jploop.image;

import java.util.regex.Pattern;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;

/**
 * ploop's file names for new deltas: {@code <base image>.<fileGUID>}, where the prefix is the first
 * {@code <Image>}'s file with any trailing {@code .{GUID}} removed, and the file GUID is a fresh
 * random GUID distinct from any snapshot GUID.
 */
public final class DeltaNames {
  private static final Pattern GUID_SUFFIX = Pattern.compile("\\.\\{[0-9a-fA-F-]{36}}$");

  private DeltaNames() {}

  /** Returns a fresh delta file name (relative, like the descriptor's entries). */
  public static String newDeltaFile(DiskDescriptor d) {
    String base = GUID_SUFFIX.matcher(d.images().get(0).file()).replaceFirst("");
    return base + "." + Guid.random();
  }
}
