package org.jploop.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.jploop.daemon.MountStatus;
import org.jploop.host.RunPaths;
import org.jploop.testing.ImageMutator;
import org.jploop.testing.MountedDisk;
import org.jploop.testing.PloopProcess;
import org.junit.jupiter.api.Test;

/**
 * The mounted disk belongs to the mounting user (root): another uid ({@code nobody}, via {@code
 * setpriv}) can neither read nor write disk.img, nor list the FUSE directory, nor connect to the
 * daemon's control socket, nor read its status file. The image file is 0600, the run directory
 * 0700, the socket 0600. Without {@code allow_other} the kernel refuses other users at the FUSE
 * mount itself, whatever the file modes say (see README, "Permissions").
 */
class PermissionsIT {
  private static final String[] AS_NOBODY = {
    "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"
  };

  @Test
  void testOtherUid_cannotUseDiskImgOrControlPaths() throws Exception {
    PloopProcess.assumeMountable("PermissionsIT");
    Path work = Files.createTempDirectory(Path.of("/var/tmp"), "jploop-perm-");
    // let nobody traverse to the image directory, so only jploop's own modes protect it
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
    MountedDisk disk = MountedDisk.init(work.resolve("disk"), "64M");
    int refusals = 0;
    try {
      MountStatus st = disk.mount(null);
      Path img = Path.of(st.diskImage());
      RunPaths paths = RunPaths.of(disk.xml());
      // root can use everything
      assertThat(
              PloopProcess.run(30, "dd", "if=" + img, "of=/dev/null", "bs=4096", "count=1").exit())
          .isZero();
      // modes
      assertThat(mode(disk.image())).as("image file").isEqualTo("rw-------");
      assertThat(mode(paths.runDir())).as("run directory").isEqualTo("rwx------");
      assertThat(mode(paths.controlSocket())).as("control socket").isEqualTo("rw-------");
      assertThat(mode(img)).as("disk.img").isEqualTo("rw-------");
      // the socket probe must be readable by nobody, wherever the build tree is
      Path probe = work.resolve("probe/org/jploop/testing/SocketProbe.class");
      Files.createDirectories(probe.getParent());
      Files.copy(PloopProcess.testClasses().resolve("org/jploop/testing/SocketProbe.class"), probe);
      PloopProcess.must(30, "chmod", "-R", "a+rX", work.resolve("probe").toString());

      String[][] attempts = {
        {"cat", img.toString()},
        {"dd", "if=/dev/zero", "of=" + img, "bs=4096", "count=1", "conv=notrunc"},
        {"ls", st.fuseDir()},
        {"stat", img.toString()},
        {"cat", paths.statusFile().toString()},
        {"cat", disk.image().toString()},
        {
          PloopProcess.javaBin(),
          "-cp",
          work.resolve("probe").toString(),
          "org.jploop.testing.SocketProbe",
          paths.controlSocket().toString()
        },
      };
      for (String[] a : attempts) {
        String[] argv = new String[AS_NOBODY.length + a.length];
        System.arraycopy(AS_NOBODY, 0, argv, 0, AS_NOBODY.length);
        System.arraycopy(a, 0, argv, AS_NOBODY.length, a.length);
        PloopProcess.Result r = PloopProcess.run(60, argv);
        assertThat(r.exit()).as("nobody could: %s -> %s", String.join(" ", a), r.all()).isNotZero();
        assertThat(r.out() + r.err())
            .as("%s", String.join(" ", a))
            .containsAnyOf("Permission denied", "AccessDenied", "refused");
        refusals++;
      }
      // the test tools really run as nobody: they can read a world-readable file
      Path open = work.resolve("world-readable");
      Files.writeString(open, "ok");
      Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
      String[] control = new String[AS_NOBODY.length + 2];
      System.arraycopy(AS_NOBODY, 0, control, 0, AS_NOBODY.length);
      control[AS_NOBODY.length] = "cat";
      control[AS_NOBODY.length + 1] = open.toString();
      assertThat(PloopProcess.run(30, control).out()).isEqualTo("ok");
      // and the data of disk.img is unchanged by the refused write
      PloopProcess.Result um = disk.umount();
      assertThat(um.exit()).as("umount: %s", um.all()).isZero();
      System.out.println(
          "permissions: other_uid_attempts=" + attempts.length + " refused=" + refusals);
    } catch (AssertionError | Exception e) {
      throw new AssertionError(e.getMessage() + "\n" + disk.logTail(), e);
    } finally {
      if (disk.status().isPresent()) {
        disk.umount();
      }
      ImageMutator.deleteTree(work);
    }
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }
}
