/**
 * Offline operations on a disk's images: snapshot, snapshot-switch, snapshot-delete,
 * snapshot-merge, resize (grow), compaction and format conversion.
 *
 * <p>Data flow: a verb opens an {@link org.jploop.image.OfflineDisk} (takes the {@code DiskLock},
 * reads {@code DiskDescriptor.xml}, refuses dirty images), opens the deltas it changes as {@link
 * org.jploop.image.DeltaFile}s (header and whole BAT in memory, I/O through {@code BlockFile}),
 * moves data clusters, and makes each step durable in crash-safe order: data fsynced, then the BAT
 * page that points at it, then the header, then the descriptor via {@link
 * org.jploop.image.DescriptorTransaction} ({@code .tmp}, fsync, rename), then deletion of files no
 * longer referenced. Every step reports to a {@link org.jploop.image.StepHook}, which crash tests use
 * to stop an operation at any point. Long loops report to a {@link org.jploop.image.Progress}.
 *
 * <p>Depends only on {@code io} and {@code format}. The classes that work on an open {@code
 * DeltaFile} ({@link org.jploop.image.DeltaMerger}, {@link org.jploop.image.DeltaGrower}, {@link
 * org.jploop.image.Compactor}) and the two halves of {@link org.jploop.image.SnapshotCreator} are
 * meant to be driven by the mount daemon too, under its own locking.
 */
package org.jploop.image;
