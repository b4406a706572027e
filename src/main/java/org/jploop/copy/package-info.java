/**
 * {@code ploop copy}: the live copy of a disk, ploop 9's sender and receiver (lib/ploop-copy.c, §3
 * of the verbs notes) on the stream codec of {@code org.jploop.format.stream}.
 *
 * <p>Receiver ({@link CopyReceiver}): stream in, one reply per packet out; INIT creates FILE
 * through the engine ({@link ReceivedImage}, an in-process {@code PloopDisk} on an {@link
 * UnfinishedImageFile} whose signature stays a "partial" mark until FINISH), DATA_DEVICE packets
 * are written at their virtual offsets, DATA_CBT batches become the image's CBT, UMOUNT closes the
 * engine (CBT saved), FINISH makes the file a valid image. Any failure removes FILE.
 *
 * <p>Sender ({@link CopySender}): asks the source through a {@link CopySource} (the mount daemon's
 * control socket for a mounted disk, the engine in-process for an unmounted one) to start tracking,
 * sends the clusters the top delta maps, then what changed, runs the stop command, freezes writes,
 * sends the last changes and the CBT, and thaws; the packets go to a stream (a remote receiver) or
 * straight into a {@link ReceivedImage} ({@code -d FILE}).
 */
package org.jploop.copy;
