package org.jploop.engine;

/**
 * Counters of one open disk, for {@code ploop info}, the daemon status file and benchmarks. All
 * counts are since the disk was opened.
 *
 * @param clustersAllocated physical clusters handed out in the top delta
 * @param holesReused allocations served from a hole below the preallocated area
 * @param clustersFreed top-delta clusters released by punch/zero-range
 * @param cowCopies clusters copied up from a lower delta
 * @param mdPageWrites 4 KiB BAT page writes
 * @param flushes flush barriers served
 * @param preallocatedBytes bytes the preallocator added to the top delta file
 * @param fileSize what the engine believes the top delta file length is
 * @param preallocatedAreaStart {@code file_preallocated_area_start}: file below is in use
 * @param enospcEvents times a write was parked because the host filesystem was full
 * @param parkedWrites writes parked right now
 */
public record DiskStats(
    long clustersAllocated,
    long holesReused,
    long clustersFreed,
    long cowCopies,
    long mdPageWrites,
    long flushes,
    long preallocatedBytes,
    long fileSize,
    long preallocatedAreaStart,
    long enospcEvents,
    long parkedWrites) {}
