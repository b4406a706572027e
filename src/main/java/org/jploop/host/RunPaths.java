package org.jploop.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where a mounted disk's runtime files live. Each disk gets a run directory named after a hash of
 * its descriptor's real path, {@code /run/jploop/<hash>/} (mode 0700), holding {@code status.json}
 * (the daemon's published status), {@code control.sock} (its control socket) and, unless {@code
 * --fuse-dir} says otherwise, the FUSE mount point {@code fuse/} where {@code disk.img} appears.
 * The daemon's log is {@code /var/log/jploop/<hash>.log} (kept after unmount). A clean stop removes
 * the run directory. The root {@code /run/jploop} can be moved with the system property {@code
 * jploop.run.dir}, the log directory with {@code jploop.log.dir}.
 *
 * <p>A component mount ({@code ploop mount -c NAME}, {@code ploop tsnapshot -c NAME}) is a second
 * daemon beside the plain one; its run directory and log are keyed by descriptor and component
 * ({@code hash("<path>:<NAME>")}), as ploop keys its registry by {@code <device>:<component>}.
 *
 * @param descriptor the descriptor's real path
 * @param runDir the per-disk run directory
 * @param logFile the daemon's log file
 */
public record RunPaths(Path descriptor, Path runDir, Path logFile) {

  /** Returns the root of all run directories. */
  public static Path runRoot() {
    return Path.of(System.getProperty("jploop.run.dir", "/run/jploop"));
  }

  private static Path logRoot() {
    return Path.of(System.getProperty("jploop.log.dir", "/var/log/jploop"));
  }

  /** Returns the paths for {@code descriptor}, which must exist. */
  public static RunPaths of(Path descriptor) throws IOException {
    return of(descriptor, null);
  }

  /** Returns the paths for {@code descriptor} mounted as {@code component} (null: plain). */
  public static RunPaths of(Path descriptor, String component) throws IOException {
    Path real = descriptor.toRealPath();
    String hash = hash(component == null ? real.toString() : real + ":" + component);
    return new RunPaths(real, runRoot().resolve(hash), logRoot().resolve(hash + ".log"));
  }

  /**
   * Returns the paths of a mount recorded under {@code realPath} (a status file's descriptor,
   * already real) as {@code component}, whether or not that descriptor still exists.
   */
  public static RunPaths ofRecorded(String realPath, String component) {
    String hash = hash(component == null ? realPath : realPath + ":" + component);
    return new RunPaths(
        Path.of(realPath), runRoot().resolve(hash), logRoot().resolve(hash + ".log"));
  }

  /** Returns the host daemon's log, {@code host.log} in the log directory. */
  public static Path hostLogFile() {
    return logRoot().resolve("host.log");
  }

  static String hash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Returns the status file. */
  public Path statusFile() {
    return runDir.resolve("status.json");
  }

  /** Returns the control socket. */
  public Path controlSocket() {
    return runDir.resolve("control.sock");
  }

  /** Returns the default FUSE mount point. */
  public Path defaultFuseDir() {
    return runDir.resolve("fuse");
  }

  /** Creates the run directory (0700) and the log directory if missing. */
  public void createDirs() throws IOException {
    createPrivateDir(runDir);
    Files.createDirectories(logFile.getParent());
  }

  /**
   * Removes what {@link #createDirs} and the daemon made, once empty: {@code fuseDir} if it is the
   * default one, then the run directory. Throws if either still holds something (it is left).
   */
  public void removeEmptyDirs(Path fuseDir) throws IOException {
    if (fuseDir.equals(defaultFuseDir())) {
      Files.deleteIfExists(fuseDir);
    }
    Files.deleteIfExists(runDir);
  }

  /** Creates {@code dir} and its parents; {@code dir} itself gets mode 0700. */
  public static void createPrivateDir(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
  }
}
