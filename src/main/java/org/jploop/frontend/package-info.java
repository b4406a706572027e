/**
 * The FUSE front ends: how {@code disk.img} is shown to the kernel. Each front end turns the
 * kernel's requests on {@code disk.img} (usually from a loop device with direct I/O) into calls on
 * one {@link org.jploop.engine.VirtualDisk}, and every failure into an errno ({@link
 * org.jploop.frontend.Errno}). {@code jnrfuse} is the original front end (libfuse 2.9 through
 * jnr-fuse, one request in flight). Front ends use the {@code host} package for the mount table
 * and loop devices and know nothing of the daemon that owns them.
 */
package org.jploop.frontend;
