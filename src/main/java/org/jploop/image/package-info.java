/**
 * Offline operations on whole images, run while no daemon serves the disk.
 *
 * <p>Data flow: {@link org.jploop.image.ImageCreator} turns a {@link
 * org.jploop.image.ImageCreator.Request} (size, cluster size, format, version) into an image file
 * written through {@code io} plus a DiskDescriptor.xml written through {@code format.descriptor};
 * {@link org.jploop.image.DeltaInfo} and {@link org.jploop.image.DiskInfo} read headers and BATs
 * through {@code io.ImageReader} and summarise them for {@code ploop info}. Nothing here holds
 * state between calls; callers take the {@code io.DiskLock} when they modify a disk.
 */
package org.jploop.image;
