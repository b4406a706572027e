/**
 * The wire format of ploop 9's {@code ploop copy} stream (lib/ploop-copy.c; §3.2 of the verbs
 * notes): {@link CopyPacket} is one packet (the 24-byte descriptor, the MD5 once negotiated, the
 * payload), {@link CopyStreamReader} and {@link CopyStreamWriter} decode and encode packets and the
 * receiver's 4-byte replies on byte streams, {@link CbtBatch} is the {@code struct
 * blk_user_cbt_info} a DATA_CBT packet carries. Pure codec: no file, no disk; the sender and
 * receiver that give the packets meaning are in {@code org.jploop.copy}.
 *
 * <p>Data flow: sender --packets--> receiver, receiver --int reply per packet (not DATA_ASYNC)-->
 * sender. All fields little-endian (ploop writes host order; every ploop host is x86-64).
 */
package org.jploop.format.stream;
