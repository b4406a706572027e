/**
 * Host plumbing: what a mounted disk needs from the machine around it, with no knowledge of FUSE or
 * of the daemon.
 *
 * <p>{@link org.jploop.host.HostCommand} runs host tools (losetup, mount, mkfs, sgdisk, fsck) with
 * a timeout and captures their output; {@link org.jploop.host.LoopDevice} attaches and detaches
 * loop devices over {@code disk.img}; {@link org.jploop.host.MountTable} reads {@code
 * /proc/self/mountinfo}; {@link org.jploop.host.InnerMount} says how the filesystem inside a disk
 * is mounted and checked; {@link org.jploop.host.FilesystemMaker} partitions a new disk and makes
 * its filesystem, {@link org.jploop.host.FilesystemGrower} grows loop device, partition and
 * filesystem after an online grow; {@link org.jploop.host.InnerFilesystem} runs the tools on the
 * filesystem inside a disk (blkid, dumpe2fs, fsck, resize2fs, tune2fs, blkdiscard), {@link
 * org.jploop.host.DeviceName} links ploop's device names to the loop device, {@link
 * org.jploop.host.BalloonFile} is ploop's hidden balloon, {@link org.jploop.host.TrimLadder}
 * ploop's FITRIM ladder and {@link org.jploop.host.ClusterPuncher} punches whole clusters through a
 * served {@code disk.img}; these last three do I/O through a served disk and refuse to run in the
 * process that serves it ({@link org.jploop.host.ServingProcess}). {@link org.jploop.host.RunPaths}
 * decides where a disk's run directory, status file, control socket and log live; {@link
 * org.jploop.host.EventLog} writes the log lines; {@link org.jploop.host.IoFlusher} marks the
 * daemon's threads PR_SET_IO_FLUSHER. Failures the user must hear about are {@link
 * org.jploop.host.MountException}s whose reason the command line maps to ploop's exit code.
 */
package org.jploop.host;
