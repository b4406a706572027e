/**
 * File access for images: everything the engine and the offline tools do to a file goes through
 * {@link org.jploop.io.BlockFile}.
 *
 * <p>{@link org.jploop.io.FileBlockFile} is the real file (positional FileChannel I/O, plus {@code
 * fallocate} through {@link org.jploop.io.LibC} for hole punching and preallocation); a full host
 * filesystem surfaces as {@link org.jploop.io.NoSpaceException} so the engine can park the write.
 * {@link org.jploop.io.ImageReader} and {@link org.jploop.io.ImageWriter} read the header and raw
 * BAT and create empty images; {@link org.jploop.io.CbtStore} reads, appends and cuts off the dirty
 * bitmap (CBT) a delta keeps in its Format Extension; {@link org.jploop.io.DiskLock} is the
 * per-disk lock file that keeps a mount and offline operations apart.
 */
package org.jploop.io;
