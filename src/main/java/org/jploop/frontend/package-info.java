/**
 * The FUSE front ends: how {@code disk.img} is shown to the kernel. The daemon holds one {@link
 * org.jploop.frontend.Frontend} (made from {@link org.jploop.frontend.FrontendOptions}, known to it
 * by name only) and mounts a {@link org.jploop.engine.VirtualDisk} with it. Data flow: the kernel's
 * request (usually from a loop device with direct I/O) is decoded by the front end, which calls one
 * method of {@link org.jploop.frontend.DiskImageFile}, the semantics both front ends share (EOF
 * clamp, EROFS, fallocate modes, size policy, the FLUSH/FSYNC barrier, the admission lock, errno
 * mapping by {@link org.jploop.frontend.Errno}, the rate-limited error log); that calls the disk,
 * and the front end encodes the result as its reply. {@code kernel} is the default: our own server
 * of the kernel protocol on {@code /dev/fuse}, many requests in flight, 1 MiB each. {@code jnrfuse}
 * is the original: libfuse 2.9 through jnr-fuse, one request at a time, 128 KiB. Front ends use the
 * {@code host} package for the mount table and loop devices and know nothing of the daemon that
 * owns them; {@link org.jploop.frontend.StaleMount} clears what a killed daemon left.
 */
package org.jploop.frontend;
