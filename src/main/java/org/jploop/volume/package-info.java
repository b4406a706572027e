/**
 * ploop-volume (ploop 9's tools/ploop-volume.c and lib/volume.c), offline: volumes are directories
 * holding a DiskDescriptor.xml with a {@code <Volume>} element and a {@code children/} directory of
 * symbolic links to child volumes ({@link org.jploop.volume.VolumeLayout}).
 *
 * <p>Data flow: an operation locks the volumes it changes through {@code image.OfflineDisk} ({@link
 * org.jploop.volume.VolumeDisk}), whose descriptor ({@code format.descriptor}) already carries the
 * parent volumes' images and snapshots as alien entries, so the whole chain resolves through {@code
 * <Parent>} links. It creates delta files with {@code io.ImageWriter}, moves data with {@code
 * image.DeltaMerger} (delete of a snapshot with one child), or snapshots in place with {@code
 * image.SnapshotCreator} (clone of a read-write volume); then it replaces the descriptor of the
 * volume users keep writing to atomically (the commit point), and only then renames the other
 * descriptors into place, moves links and deletes files no longer referenced. {@link
 * org.jploop.volume.VolumeSnapshot} does snapshot and clone, {@link org.jploop.volume.VolumeSwitch}
 * switch, {@link org.jploop.volume.VolumeDelete} delete; create is {@code image.ImageCreator}
 * {@code createVolume}. Depends on {@code image}, {@code io} and {@code format}; {@code cli} is on
 * top.
 */
package org.jploop.volume;
