/**
 * Bytes ↔ values of the ploop1 on-disk format, with no threads, clocks or I/O policy.
 *
 * <p>An image file is: the 64-byte {@link org.jploop.format.ImageHeader}, then the BAT (one
 * little-endian u32 per virtual cluster; the header takes the first 16 slots of that u32 array),
 * zero padding up to {@code m_FirstBlockOffset}, then data clusters. {@link
 * org.jploop.format.ImageGeometry} holds the size arithmetic, {@link org.jploop.format.BatLayout}
 * the mapping of BAT entries to the 4 KiB md pages the engine caches and writes, {@link
 * org.jploop.format.FormatVersion} the v1 (sector) and v2 (cluster) BAT units. A cleanly closed
 * image may also carry a Format Extension cluster ({@link org.jploop.format.FormatExtension}) with
 * a {@link org.jploop.format.DirtyBitmap} (ploop's CBT) whose pieces sit in clusters at the end of
 * the file; a bad one is a {@link org.jploop.format.BadExtensionException}. Decoding validates in
 * the order ploop and QEMU do and reports the first bad field as a {@link
 * org.jploop.format.CorruptImageException} naming the file and the byte offset.
 */
package org.jploop.format;
