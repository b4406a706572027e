/**
 * The FUSE front end and the mount daemon.
 *
 * <p>Data flow: the kernel sends requests on {@code disk.img} (usually from a loop device with
 * direct I/O) to {@link org.jploop.fuse.DiskFilesystem}, which turns read, write, fallocate and
 * fsync into calls on one {@link org.jploop.engine.VirtualDisk} and every failure into an errno.
 * {@link org.jploop.fuse.MountDaemon} is the long-lived process behind {@code ploop mount}: it
 * holds the {@link org.jploop.io.DiskLock}, opens the disk through {@link org.jploop.fuse.DiskOpener},
 * mounts the filesystem with {@link org.jploop.fuse.FuseSession}, publishes a {@link
 * org.jploop.fuse.MountStatus} file and answers the {@link org.jploop.fuse.ControlServer} socket.
 * The command side ({@link org.jploop.fuse.DiskMounter}) starts that daemon, attaches a loop device
 * ({@link org.jploop.fuse.LoopDevice}) and mounts the inner filesystem; {@link
 * org.jploop.fuse.FilesystemMaker} uses the same path to partition and mkfs a new disk. Where
 * things live on the host is decided by {@link org.jploop.fuse.RunPaths}.
 *
 * <p>Online operations: the daemon serves a {@link org.jploop.fuse.SwappableDisk} (the suspend
 * gate). The control verbs {@code snapshot}, {@code merge}, {@code resize} and {@code compact}
 * ({@link org.jploop.fuse.OnlineOperations}) close the gate, close the engine, run the {@code
 * image} operation on the files under the daemon's lock, reopen the chain and open the gate; after
 * a grow, {@link org.jploop.fuse.FilesystemGrower} grows the loop device, partition and filesystem.
 */
package org.jploop.fuse;
