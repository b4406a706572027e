/**
 * The original front end, {@code jnr-fuse}: libfuse 2.9 through jnr-fuse. {@link
 * org.jploop.frontend.jnrfuse.JnrFuseFrontend} is the {@link org.jploop.frontend.Frontend}; {@link
 * org.jploop.frontend.jnrfuse.DiskFilesystem} answers libfuse's callbacks for the one file by
 * calling {@link org.jploop.frontend.DiskImageFile}; {@link
 * org.jploop.frontend.jnrfuse.FuseSession} runs the blocking libfuse session on its own thread and
 * unmounts it (never lazily). libfuse 2.9 serves one request at a time and at most 128 KiB per
 * request, and cannot ask for FUSE_ASYNC_DIO.
 */
package org.jploop.frontend.jnrfuse;
