/**
 * DiskDescriptor.xml: the disk's parameters and its chain of delta images.
 *
 * <p>{@code XmlTree} is the element tree as Jackson XML binds it, element for element in ploop's
 * order, values kept as text. {@link org.jploop.format.descriptor.DiskDescriptor} turns it into a
 * validated immutable model (ploop's lib/xml.c rules), walks the snapshot chain, resolves image
 * paths without letting them leave the descriptor's directory, and stores it back atomically (write
 * {@code .tmp}, fsync, rename). {@link org.jploop.format.descriptor.Guid} is ploop's braced GUID
 * form.
 */
package org.jploop.format.descriptor;
