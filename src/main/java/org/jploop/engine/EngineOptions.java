package org.jploop.engine;

import java.util.function.LongSupplier;

/**
 * How a {@link PloopDisk} is opened and tuned. Immutable; start from {@link #defaults()} and derive
 * variants with the same-named one-argument methods, e.g. {@code
 * EngineOptions.defaults().mdSubmitDelayMs(0).backgroundThreads(false)}.
 *
 * @param readOnly open every delta read-only; writes, punches and zero-ranges are refused
 * @param allowDirty open a top delta whose header still says "in use" (after a crash)
 * @param mdSubmitDelayMs {@code md_submit_delay_ms}: how long a dirty md page waits for more
 *     changes before it is written; 0 writes at once
 * @param mdMaxDelayMs upper bound of a page's dirty time, however often it is re-dirtied
 * @param preallocSize {@code PREALLOC_SIZE}: step in bytes by which the top file grows
 * @param fallocNewClusters {@code falloc_new_clu}: grow with real blocks (fallocate) instead of
 *     sparse truncate
 * @param enospcRetryMs how long a write parked on ENOSPC waits before it is retried
 * @param enospcTimeoutMs how long a write stays parked in total before it fails; 0 fails at once
 * @param backgroundThreads run the writeback and preallocator threads; tests turn them off and
 *     drive the work by hand
 * @param nanoClock monotonic clock in nanoseconds used for md page deadlines
 */
public record EngineOptions(
    boolean readOnly,
    boolean allowDirty,
    long mdSubmitDelayMs,
    long mdMaxDelayMs,
    long preallocSize,
    boolean fallocNewClusters,
    long enospcRetryMs,
    long enospcTimeoutMs,
    boolean backgroundThreads,
    LongSupplier nanoClock) {

  /** Default {@code PREALLOC_SIZE}: 128 MiB. */
  public static final long DEFAULT_PREALLOC_SIZE = 128L << 20;

  public EngineOptions {
    if (mdSubmitDelayMs < 0 || mdMaxDelayMs < 0) {
      throw new IllegalArgumentException(
          "md delays must be >= 0: " + mdSubmitDelayMs + ", " + mdMaxDelayMs);
    }
    if (preallocSize <= 0) {
      throw new IllegalArgumentException("preallocSize must be positive: " + preallocSize);
    }
    if (enospcRetryMs <= 0 || enospcTimeoutMs < 0) {
      throw new IllegalArgumentException(
          "enospcRetryMs ("
              + enospcRetryMs
              + ") must be positive and enospcTimeoutMs ("
              + enospcTimeoutMs
              + ") >= 0");
    }
    if (nanoClock == null) {
      throw new IllegalArgumentException("nanoClock must not be null");
    }
  }

  /**
   * Returns the defaults: read-write, 1 s md delay (10 s cap), 128 MiB prealloc, 5 s / 300 s
   * ENOSPC.
   */
  public static EngineOptions defaults() {
    return new EngineOptions(
        false,
        false,
        1000,
        10_000,
        DEFAULT_PREALLOC_SIZE,
        false,
        5000,
        300_000,
        true,
        System::nanoTime);
  }

  /** Returns a copy with another read-only setting. */
  public EngineOptions readOnly(boolean v) {
    return new EngineOptions(
        v,
        allowDirty,
        mdSubmitDelayMs,
        mdMaxDelayMs,
        preallocSize,
        fallocNewClusters,
        enospcRetryMs,
        enospcTimeoutMs,
        backgroundThreads,
        nanoClock);
  }

  /** Returns a copy with another allow-dirty setting. */
  public EngineOptions allowDirty(boolean v) {
    return new EngineOptions(
        readOnly,
        v,
        mdSubmitDelayMs,
        mdMaxDelayMs,
        preallocSize,
        fallocNewClusters,
        enospcRetryMs,
        enospcTimeoutMs,
        backgroundThreads,
        nanoClock);
  }

  /** Returns a copy with another md submit delay; the cap becomes 10 times the delay. */
  public EngineOptions mdSubmitDelayMs(long v) {
    return new EngineOptions(
        readOnly,
        allowDirty,
        v,
        v * 10,
        preallocSize,
        fallocNewClusters,
        enospcRetryMs,
        enospcTimeoutMs,
        backgroundThreads,
        nanoClock);
  }

  /** Returns a copy with another cap on a page's dirty time. */
  public EngineOptions mdMaxDelayMs(long v) {
    return new EngineOptions(
        readOnly,
        allowDirty,
        mdSubmitDelayMs,
        v,
        preallocSize,
        fallocNewClusters,
        enospcRetryMs,
        enospcTimeoutMs,
        backgroundThreads,
        nanoClock);
  }

  /** Returns a copy with another {@code PREALLOC_SIZE}. */
  public EngineOptions preallocSize(long v) {
    return new EngineOptions(
        readOnly,
        allowDirty,
        mdSubmitDelayMs,
        mdMaxDelayMs,
        v,
        fallocNewClusters,
        enospcRetryMs,
        enospcTimeoutMs,
        backgroundThreads,
        nanoClock);
  }

  /** Returns a copy with another {@code falloc_new_clu} setting. */
  public EngineOptions fallocNewClusters(boolean v) {
    return new EngineOptions(
        readOnly,
        allowDirty,
        mdSubmitDelayMs,
        mdMaxDelayMs,
        preallocSize,
        v,
        enospcRetryMs,
        enospcTimeoutMs,
        backgroundThreads,
        nanoClock);
  }

  /** Returns a copy with another ENOSPC retry period. */
  public EngineOptions enospcRetryMs(long v) {
    return new EngineOptions(
        readOnly,
        allowDirty,
        mdSubmitDelayMs,
        mdMaxDelayMs,
        preallocSize,
        fallocNewClusters,
        v,
        enospcTimeoutMs,
        backgroundThreads,
        nanoClock);
  }

  /** Returns a copy with another ENOSPC give-up time. */
  public EngineOptions enospcTimeoutMs(long v) {
    return new EngineOptions(
        readOnly,
        allowDirty,
        mdSubmitDelayMs,
        mdMaxDelayMs,
        preallocSize,
        fallocNewClusters,
        enospcRetryMs,
        v,
        backgroundThreads,
        nanoClock);
  }

  /** Returns a copy with or without the writeback and preallocator threads. */
  public EngineOptions backgroundThreads(boolean v) {
    return new EngineOptions(
        readOnly,
        allowDirty,
        mdSubmitDelayMs,
        mdMaxDelayMs,
        preallocSize,
        fallocNewClusters,
        enospcRetryMs,
        enospcTimeoutMs,
        v,
        nanoClock);
  }

  /** Returns a copy with another clock for md page deadlines. */
  public EngineOptions nanoClock(LongSupplier v) {
    return new EngineOptions(
        readOnly,
        allowDirty,
        mdSubmitDelayMs,
        mdMaxDelayMs,
        preallocSize,
        fallocNewClusters,
        enospcRetryMs,
        enospcTimeoutMs,
        backgroundThreads,
        v);
  }
}
