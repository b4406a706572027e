package org.jploop.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small real ext4 filesystem: a sparse backing file, {@code losetup}, {@code mkfs.ext4}, mounted
 * on a temporary directory. Used to make the host filesystem under an image run out of space.
 * {@link #close} unmounts, detaches and deletes everything, also after failures. Needs root.
 */
public final class LoopFs implements AutoCloseable {
  private final Path backing;
  private final Path mountPoint;
  private String loopDevice;
  private boolean mounted;

  private LoopFs(Path backing, Path mountPoint) {
    this.backing = backing;
    this.mountPoint = mountPoint;
  }

  /** Creates, formats and mounts an ext4 of {@code sizeMiB} MiB under {@code workDir}. */
  public static LoopFs create(Path workDir, int sizeMiB) throws IOException {
    Files.createDirectories(workDir);
    LoopFs fs = new LoopFs(workDir.resolve("hostfs.ext4"), workDir.resolve("hostfs"));
    try {
      try (RandomAccessFile raf = new RandomAccessFile(fs.backing.toFile(), "rw")) {
        raf.setLength((long) sizeMiB << 20);
      }
      fs.loopDevice = run("losetup", "--find", "--show", fs.backing.toString()).trim();
      // no reserved blocks, so root's writes hit ENOSPC at the real end
      run("mkfs.ext4", "-q", "-F", "-m", "0", "-E", "nodiscard", fs.loopDevice);
      Files.createDirectories(fs.mountPoint);
      run("mount", "-t", "ext4", fs.loopDevice, fs.mountPoint.toString());
      fs.mounted = true;
      return fs;
    } catch (IOException | RuntimeException e) {
      fs.close();
      throw e;
    }
  }

  /** Returns the mounted directory. */
  public Path dir() {
    return mountPoint;
  }

  /** Returns the loop device (e.g. /dev/loop3). */
  public String device() {
    return loopDevice;
  }

  /** Returns the free bytes left for root. */
  public long freeBytes() throws IOException {
    return Files.getFileStore(mountPoint).getUsableSpace();
  }

  /**
   * Writes a filler file until the filesystem is full, leaving about {@code leaveBytes} free.
   * Returns the filler's size.
   */
  public long fill(Path filler, long leaveBytes) throws IOException {
    long free = freeBytes();
    long want = Math.max(0, free - leaveBytes);
    byte[] chunk = new byte[1 << 20];
    java.util.Arrays.fill(chunk, (byte) 0x5a);
    long done = 0;
    try (var out = Files.newOutputStream(filler)) {
      while (done < want) {
        int n = (int) Math.min(chunk.length, want - done);
        out.write(chunk, 0, n);
        done += n;
      }
    } catch (IOException e) {
      if (!String.valueOf(e.getMessage()).contains("No space left")) {
        throw e;
      }
    }
    run("sync", "-f", filler.toString());
    return Files.size(filler);
  }

  @Override
  public void close() throws IOException {
    List<String> errors = new ArrayList<>();
    if (mounted) {
      try {
        run("umount", mountPoint.toString());
      } catch (IOException e) {
        try {
          run("umount", "-l", mountPoint.toString());
        } catch (IOException e2) {
          errors.add(e2.getMessage());
        }
      }
      mounted = false;
    }
    if (loopDevice != null) {
      try {
        run("losetup", "-d", loopDevice);
      } catch (IOException e) {
        errors.add(e.getMessage());
      }
      loopDevice = null;
    }
    Files.deleteIfExists(backing);
    try {
      Files.deleteIfExists(mountPoint);
    } catch (IOException e) {
      errors.add(e.getMessage());
    }
    if (!errors.isEmpty()) {
      throw new IOException("LoopFs cleanup: " + errors);
    }
  }

  /** Runs a command, returns stdout; throws with its output if it fails or takes over 2 min. */
  public static String run(String... cmd) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    Process p = pb.start();
    try {
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + ": timed out");
      }
      String s = new String(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + s.trim());
      }
      return s;
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(String.join(" ", cmd) + ": interrupted");
    }
  }
}
