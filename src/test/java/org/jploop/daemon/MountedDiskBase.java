package org.jploop.daemon;

import static org.jploop.daemon.MountFixture.forceCleanup;
import static org.jploop.daemon.MountFixture.sh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base of the balloon, shrink and device mount tests: a temporary directory with the paths of one
 * disk in it ({@code root.hds}, {@code DiskDescriptor.xml}, the mount point {@code mnt/}), a
 * seeded random whose seed is printed, a loud skip without FUSE or root, and a cleanup that
 * unmounts whatever the test left mounted, also when it failed.
 */
abstract class MountedDiskBase {
  static final long MIB = 1 << 20;
  @TempDir Path dir;
  Path xml;
  Path image;
  Path mnt;
  final long seed = System.nanoTime();
  final Random rnd = new Random(seed);

  @BeforeEach
  void setUpDisk() throws Exception {
    MountFixture.requireFuse();
    System.out.println(getClass().getSimpleName() + ": seed " + seed);
    xml = dir.resolve("DiskDescriptor.xml");
    image = dir.resolve("root.hds");
    mnt = Files.createDirectory(dir.resolve("mnt"));
  }

  @AfterEach
  void tearDownDisk() throws Exception {
    forceCleanup(xml);
    sh(30, "umount", mnt.toString());
  }
}
