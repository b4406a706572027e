/**
 * Test machinery for the reliability suite. Data flow: {@link org.jploop.testing.PristineDisks}
 * builds small valid disks; {@link org.jploop.testing.ImageMutator} copies and corrupts them into
 * seeded cases that the hostile-input tests feed to the CLI; {@link org.jploop.testing.Fsx} drives
 * random I/O at a file or block device and checks every read against a {@link
 * org.jploop.testing.ContentModel}; {@link org.jploop.testing.LoopFs} gives a small real ext4 (for
 * ENOSPC); {@link org.jploop.testing.FileDigest} proves files were left untouched.
 */
package org.jploop.testing;
