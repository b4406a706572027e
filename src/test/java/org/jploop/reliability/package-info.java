/**
 * The reliability suite (issue 6), run by Failsafe as root with real mounts: crash consistency
 * ({@code CrashIT}: kill -9 of the mount daemon, recovery, every fsync'ed byte checked), randomized
 * I/O ({@code FsxIT}: fsx and fio on disk.img and a loop device), ENOSPC parking ({@code
 * EnospcIT}), hostile input through the real jar and mount ({@code HostileInputIT}), concurrency on
 * shared md pages ({@code ConcurrencyIT}) and access rights ({@code PermissionsIT}). Data flow:
 * each test drives the real {@code jploop.jar} through {@link org.jploop.testing.PloopProcess} and
 * {@link org.jploop.testing.MountedDisk}, generates load with {@link org.jploop.testing.Fsx} or
 * {@link org.jploop.testing.CrashWriter}, and judges the result against its own model, {@code
 * qemu-img check} and {@code e2fsck}. Each prints one summary line of figures.
 */
package org.jploop.reliability;
