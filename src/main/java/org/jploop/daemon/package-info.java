/**
 * The mount daemon and the commands that talk to it.
 *
 * <p>Data flow: {@link org.jploop.daemon.MountDaemon} is the long-lived process behind {@code
 * ploop mount}: it holds the {@link org.jploop.io.DiskLock}, opens the disk through {@link
 * org.jploop.daemon.DiskOpener}, serves it through a front end, publishes a {@link
 * org.jploop.daemon.MountStatus} file and answers the {@link org.jploop.daemon.ControlServer}
 * socket. The command side ({@link org.jploop.daemon.DiskMounter}) starts that daemon, attaches a
 * loop device and mounts the inner filesystem, and asks the daemon to stop.
 *
 * <p>Online operations: the daemon serves a {@link org.jploop.daemon.SwappableDisk} (the suspend
 * gate). The control verbs {@code snapshot}, {@code merge}, {@code resize} and {@code compact}
 * ({@link org.jploop.daemon.OnlineOperations}) close the gate, close the engine, run the {@code
 * image} operation on the files under the daemon's lock, reopen the chain and open the gate; after
 * a grow, {@link org.jploop.host.FilesystemGrower} grows the loop device, partition and filesystem.
 */
package org.jploop.daemon;
