/**
 * {@code ploop check}: verification and repair of ploop1 images, one delta or a whole chain.
 *
 * <p>Data flow: {@link org.jploop.check.ImageChecker} opens an image read-only through {@code
 * io.FileBlockFile}, decodes the header ({@code format.ImageHeader}, fatal on any bad field), reads
 * the raw BAT slots ({@code io.ImageReader}) and judges each slot in ploop's order. Every problem
 * becomes a {@link org.jploop.check.Finding} (what, where, how bad, and what was done about it),
 * reported to the caller as it is found; the verdict is a {@link org.jploop.check.CheckResult}.
 * Fixes are written through a second, read-write handle opened only when a repair flag allows one,
 * so a check without repair flags never writes to the image. {@link org.jploop.check.SparseRepair}
 * ({@code -S}) finds holes with {@code lseek(SEEK_HOLE)} through {@code io.LibC} and writes zeros
 * into those inside the header or a referenced cluster.
 */
package org.jploop.check;
