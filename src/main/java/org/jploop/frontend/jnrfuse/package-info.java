/**
 * The original front end: libfuse 2.9 through jnr-fuse. {@link
 * org.jploop.frontend.jnrfuse.DiskFilesystem} answers the callbacks for the one file {@code
 * disk.img}; {@link org.jploop.frontend.jnrfuse.GatedDiskFilesystem} holds the daemon's suspend
 * gate around each callback; {@link org.jploop.frontend.jnrfuse.FuseSession} runs the blocking
 * libfuse session on its own thread and unmounts it (never lazily). libfuse 2.9 serves one request
 * at a time and at most 128 KiB per request.
 */
package org.jploop.frontend.jnrfuse;
