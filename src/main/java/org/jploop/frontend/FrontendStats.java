package org.jploop.frontend;

/**
 * What a {@link Frontend} counted since it mounted, for {@code status.json}, {@code ploop info} and
 * the benchmarks.
 *
 * @param name the front end ({@code kernel} or {@code jnr-fuse})
 * @param requests requests answered (FORGETs, which get no answer, are not counted)
 * @param errors requests that failed because the disk failed, plus replies the kernel refused
 * @param inFlight requests being served right now
 * @param maxInFlight the most requests served at once
 * @param workers threads serving requests
 * @param barriersSkipped FLUSH/FSYNC answered without an engine flush (nothing written since the
 *     last one)
 */
public record FrontendStats(
    String name,
    long requests,
    long errors,
    long inFlight,
    long maxInFlight,
    int workers,
    long barriersSkipped) {}
