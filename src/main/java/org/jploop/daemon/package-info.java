/**
 * The mount daemon and the commands that talk to it.
 *
 * <p>Data flow: {@link org.jploop.daemon.MountDaemon} is one mounted disk: it holds the {@link
 * org.jploop.io.DiskLock}, opens the disk through {@link org.jploop.daemon.DiskOpener}, serves it
 * through a front end, publishes a {@link org.jploop.daemon.MountStatus} file and answers the
 * disk's {@link org.jploop.daemon.ControlServer} socket. One {@link org.jploop.daemon.HostDaemon}
 * process ({@code ploop hostd}) holds the MountDaemons of every disk of the kernel front end,
 * handed over on its {@link org.jploop.daemon.HostServer} socket; a jnr-fuse or component mount is
 * a MountDaemon in a process of its own ({@code ploop daemon}). The command side ({@link
 * org.jploop.daemon.DiskMounter}) has the disk served ({@link org.jploop.daemon.HostClient}, which
 * starts a host daemon if none answers, or {@link org.jploop.daemon.DaemonLauncher}), attaches a
 * loop device and mounts the inner filesystem, and asks the disk's daemon to stop; after a dead
 * daemon it cleans up ({@link org.jploop.daemon.DeadMount}, {@link
 * org.jploop.daemon.LoopAttachments}).
 *
 * <p>Online operations: the daemon serves a {@link org.jploop.daemon.SwappableDisk} (the suspend
 * gate). The control verbs {@code snapshot}, {@code merge}, {@code resize} (grow the image) and
 * {@code compact} ({@link org.jploop.daemon.OnlineOperations}) close the gate, close the engine,
 * run the {@code image} operation on the files under the daemon's lock, reopen the chain and open
 * the gate. The daemon never does I/O through the disk it serves ({@link
 * org.jploop.host.ServingProcess}); whatever goes through {@code disk.img}, the loop device or the
 * filesystem inside runs in the {@code ploop} process, which asks the daemon only for those engine
 * steps ({@link org.jploop.daemon.OnlineCompaction}). {@code replace} swaps one delta's file the
 * same way.
 *
 * <p>Live copy ({@code ploop copy -s} of a mounted disk, run by {@code org.jploop.copy} in the
 * {@code ploop} process): {@link org.jploop.daemon.CopyTracking}'s {@code copy-*} verbs start a
 * per-cluster tracker on the served engine, page out the top-mapped and the changed clusters, and
 * freeze writes through the {@link org.jploop.daemon.WriteFreeze} every write, punch and zero-range
 * of the {@link org.jploop.daemon.SwappableDisk} passes; the data itself is read by the sender
 * through {@code disk.img}.
 *
 * <p>Component mounts ({@code mount -c}, {@code tsnapshot}): a second, read-only daemon per
 * component, its run directory keyed by descriptor and component; it takes no disk lock, and {@link
 * org.jploop.daemon.ComponentGuard} refuses what would rewrite the deltas it reads.
 *
 * <p>Space and devices, in the {@code ploop} process: {@link org.jploop.daemon.DiskAttachment}
 * reads what the block layer shows of a served disk (loop device, partition, ploop name, mount
 * point), {@link org.jploop.daemon.BalloonTarget} finds it from {@code -d}/{@code -m}/descriptor.
 * {@link org.jploop.daemon.MountedResize} resizes a mounted disk: grow = daemon {@code resize},
 * then {@link org.jploop.host.FilesystemGrower}; shrink = {@link
 * org.jploop.daemon.FilesystemResize} (balloon, or resize2fs offline), the clusters under the
 * balloon punched ({@link org.jploop.daemon.BalloonRelease}), then {@code compact}. {@link
 * org.jploop.daemon.OfflineResizer} does the same for an unmounted disk by serving it for the time
 * of it. {@link org.jploop.daemon.BalloonDiscard} measures ({@link org.jploop.daemon.DiscardStat}),
 * defragments, runs the FITRIM ladder and compacts. At mount, {@link
 * org.jploop.daemon.DirtyImageRepair} checks and repairs deltas left dirty by a crash.
 */
package org.jploop.daemon;
