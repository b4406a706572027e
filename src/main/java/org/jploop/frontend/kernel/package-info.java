/**
 * The default front end, {@code kernel}: jploop's own server of the kernel's FUSE protocol on
 * {@code /dev/fuse} (fuse-protocol.md), through jnr-ffi, without libfuse. Data flow: {@link
 * org.jploop.frontend.kernel.KernelFrontend} opens and mounts the device ({@code FuseDevice}) and
 * starts the workers; each {@code FuseWorker} thread blocks in read(2) on the one descriptor with
 * its own page-aligned {@code FuseBuffers}, hands each request to the {@code FuseDispatcher}, which
 * decodes it by the offsets of {@code FuseLayout}, calls {@link org.jploop.frontend.DiskImageFile}
 * on direct-buffer views of those buffers (no copy), and answers through the worker's {@code
 * FuseReplier}: one checked writev(2) per reply. The worker that reads INIT settles the {@code
 * FuseConnection} (minor, flags ANDed with the kernel's offer, 1 MiB requests capped by
 * max_pages_limit, max_background from the worker count). {@code FuseNotifier} sends
 * NOTIFY_INVAL_INODE from its own thread after an online grow; {@code FuseMetrics} counts. {@code
 * FuseChannel} is the seam the unit tests feed bytes through.
 */
package org.jploop.frontend.kernel;
