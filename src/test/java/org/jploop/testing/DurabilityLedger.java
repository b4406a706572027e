package org.jploop.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the logs a {@link CrashWriter} left behind and checks that everything it recorded as
 * durable is still there, byte for byte: every logged file in the filesystem (files whose deletion
 * was in flight may be present or absent, but not damaged), and every completed raw write or punch
 * on disk.img (ranges of writes in flight at the crash may hold anything). Not thread-safe.
 */
public final class DurabilityLedger {
  private long bytesVerified;
  private long filesVerified;
  private long rawWritesLogged;

  /** Raw writer log → what it has said so far (see {@link #verifyRaw}). */
  private final Map<Path, RawState> raw = new HashMap<>();

  /** Returns the bytes compared so far. */
  public long bytesVerified() {
    return bytesVerified;
  }

  /** Returns the files compared so far. */
  public long filesVerified() {
    return filesVerified;
  }

  /** Returns the completed raw writes and punches seen in the last raw check. */
  public long rawWritesLogged() {
    return rawWritesLogged;
  }

  /** A logged file: size and content seed. */
  private record LoggedFile(int size, long seed) {}

  /**
   * Checks the files of an {@code fs} writer's log against {@code dir}; throws AssertionError
   * naming the file and the first bad byte.
   */
  public void verifyFilesystem(Path dir, Path log) throws IOException {
    Map<String, LoggedFile> live = new LinkedHashMap<>();
    Map<String, LoggedFile> maybe = new LinkedHashMap<>();
    for (String l : lines(log)) {
      String[] f = l.split(" ");
      switch (f[0]) {
        case "add" -> live.put(f[1], new LoggedFile(Integer.parseInt(f[2]), Long.parseLong(f[3])));
        case "delintent" -> {
          LoggedFile x = live.remove(f[1]);
          if (x != null) {
            maybe.put(f[1], x);
          }
        }
        case "del" -> maybe.remove(f[1]);
        default -> {}
      }
    }
    for (Map.Entry<String, LoggedFile> e : live.entrySet()) {
      Path p = dir.resolve(e.getKey());
      if (!Files.exists(p)) {
        throw new AssertionError(
            "fsync'ed file lost: " + p + " (" + e.getValue().size() + " bytes)");
      }
      compareFile(p, e.getValue());
    }
    for (Map.Entry<String, LoggedFile> e : maybe.entrySet()) {
      Path p = dir.resolve(e.getKey());
      if (Files.exists(p)) {
        compareFile(p, e.getValue());
      }
    }
  }

  private void compareFile(Path p, LoggedFile f) throws IOException {
    byte[] actual = Files.readAllBytes(p);
    if (actual.length != f.size()) {
      throw new AssertionError(
          "fsync'ed file "
              + p
              + " has "
              + actual.length
              + " bytes, "
              + f.size()
              + " were fsync'ed");
    }
    byte[] want = CrashWriter.content(f.seed(), f.size());
    int bad = mismatch(want, actual);
    if (bad >= 0) {
      throw new AssertionError("fsync'ed file " + p + " differs at byte " + bad);
    }
    bytesVerified += actual.length;
    filesVerified++;
  }

  /**
   * Checks {@code [start, end)} of {@code image} against a {@code raw} writer's log: completed
   * writes and punches must be there; bytes of an operation in flight at a crash are not checked
   * until a later completed operation covers them. The region starts as zeros. The expected
   * contents are kept between calls for the same log, and only the lines appended since the last
   * call are applied (the log only grows), so each call costs one read of the region, not a replay
   * of every write since the start.
   */
  public void verifyRaw(Path image, Path log, long start, long end) throws IOException {
    RawState state = raw.computeIfAbsent(log, l -> new RawState());
    List<String> all = lines(log);
    for (String l : all.subList(state.linesApplied, all.size())) {
      state.apply(l, start);
    }
    state.linesApplied = all.size();
    rawWritesLogged = state.done;
    ContentModel model = state.model;
    BitSet unknown = state.unknown;
    int chunk = 1 << 20;
    try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
      for (long pos = start; pos < end; pos += chunk) {
        int n = (int) Math.min(chunk, end - pos);
        ByteBuffer bb = ByteBuffer.allocate(n);
        while (bb.hasRemaining()) {
          if (ch.read(bb, pos + bb.position()) < 0) {
            throw new AssertionError(image + ": EOF at " + (pos + bb.position()));
          }
        }
        byte[] actual = bb.array();
        byte[] want = new byte[n];
        model.read(pos, want, 0, n);
        int rel0 = (int) (pos - start);
        for (int i = Arrays.mismatch(want, actual); i >= 0 && i < n; ) {
          if (!unknown.get(rel0 + i)) {
            throw new AssertionError(
                "fsync'ed raw byte lost at disk offset "
                    + (pos + i)
                    + ": expected 0x"
                    + Integer.toHexString(want[i] & 0xff)
                    + " got 0x"
                    + Integer.toHexString(actual[i] & 0xff)
                    + " ("
                    + state.done
                    + " completed writes)");
          }
          int next = Arrays.mismatch(want, i + 1, n, actual, i + 1, n);
          i = next < 0 ? -1 : i + 1 + next;
        }
        bytesVerified += n - unknown.get(rel0, rel0 + n).cardinality();
      }
    }
  }

  /** What a raw writer's log has said so far: expected contents, bytes in doubt, lines seen. */
  private static final class RawState {
    final ContentModel model = new ContentModel();
    final BitSet unknown = new BitSet();
    int linesApplied;
    long done;

    void apply(String line, long start) {
      String[] f = line.split(" ");
      long off = Long.parseLong(f[1]);
      int len = Integer.parseInt(f[2]);
      int from = (int) (off - start);
      switch (f[0]) {
        case "wintent", "pintent" -> unknown.set(from, from + len);
        case "wdone" -> {
          model.write(off, CrashWriter.rawContent(Long.parseLong(f[3]), len), 0, len);
          unknown.clear(from, from + len);
          done++;
        }
        case "pdone" -> {
          model.zero(off, len);
          unknown.clear(from, from + len);
          done++;
        }
        default -> throw new IllegalStateException("bad raw log line: " + line);
      }
    }
  }

  private static List<String> lines(Path log) throws IOException {
    if (!Files.exists(log)) {
      return List.of();
    }
    // A line cut by the kill has no newline yet: it was never acknowledged, drop it.
    String s = Files.readString(log);
    int last = s.lastIndexOf('\n');
    return last < 0 ? List.of() : s.substring(0, last).lines().filter(x -> !x.isBlank()).toList();
  }

  private static int mismatch(byte[] a, byte[] b) {
    return Arrays.mismatch(a, b);
  }
}
