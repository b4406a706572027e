/**
 * Offline operations on whole images, run while no daemon serves the disk: creation and info, and
 * the snapshot life cycle (snapshot, snapshot-switch, snapshot-delete, snapshot-merge), resize,
 * compaction and format conversion; and the operations on image files named without a descriptor
 * ({@link org.jploop.image.BareDeltaGrower}, {@link org.jploop.image.BareDeltaMerger}, opened
 * through {@link org.jploop.image.BareDelta}, which locks a descriptor found beside them) and
 * {@link org.jploop.image.DescriptorRestorer}, which writes a descriptor for a lone image.
 *
 * <p>Creation and info: {@link org.jploop.image.ImageCreator} turns a {@link
 * org.jploop.image.ImageCreator.Request} (size, cluster size, format, version) into an image file
 * written through {@code io} plus a DiskDescriptor.xml written through {@code format.descriptor};
 * {@link org.jploop.image.DeltaInfo} and {@link org.jploop.image.DiskInfo} read headers and BATs
 * through {@code io.ImageReader} and summarise them for {@code ploop info}. Nothing there holds
 * state between calls; callers take the {@code io.DiskLock} when they modify a disk.
 *
 * <p>Snapshot life cycle, resize, compaction, conversion: a verb opens an {@link
 * org.jploop.image.OfflineDisk} (takes the {@code DiskLock}, reads {@code DiskDescriptor.xml},
 * refuses dirty images), opens the deltas it changes as {@link org.jploop.image.DeltaFile}s (header
 * and whole BAT in memory, I/O through {@code BlockFile}), moves data clusters, and makes each step
 * durable in crash-safe order: data fsynced, then the BAT page that points at it, then the header,
 * then the descriptor via {@link org.jploop.image.DescriptorTransaction} ({@code .tmp}, fsync,
 * rename), then deletion of files no longer referenced. Every step reports to a {@link
 * org.jploop.image.StepHook}, which crash tests use to stop an operation at any point. Long loops
 * report to a {@link org.jploop.image.Progress}.
 *
 * <p>Depends only on {@code io} and {@code format}. The classes that work on an open {@code
 * DeltaFile} ({@link org.jploop.image.DeltaMerger}, {@link org.jploop.image.DeltaGrower}, {@link
 * org.jploop.image.Compactor}), the two halves of {@link org.jploop.image.SnapshotCreator} and
 * {@link org.jploop.image.OfflineDisk#held} are meant to be driven by the mount daemon too, under
 * its own locking.
 */
package org.jploop.image;
