package org.jploop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jploop.testing.PloopProcess;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ploop} launcher script with the class-data-sharing archive the build makes ({@code
 * target/jploop.jsa}, see {@link StartupTraining}): the repository's launcher maps it (jploop
 * classes come from the archive, checked with {@code -Xlog:class+load}), and a copy of the launcher
 * and jar gives the same output, exit code and an empty stderr with no archive, with one older than
 * the jar (a rebuild), with one made for another jar, and with a corrupt one. Offline verbs only:
 * needs no root or FUSE. Each case is one short JVM; about 10 s in all.
 */
class LauncherIT {
  @TempDir Path tmp;
  private Path jar;
  private Path archive;
  private Path xml;

  @BeforeEach
  void setUp() throws IOException {
    jar = PloopProcess.jar().toAbsolutePath();
    archive = jar.resolveSibling("jploop.jsa");
    Path disk = Files.createDirectories(tmp.resolve("disk"));
    PloopProcess.must(
        120,
        PloopProcess.javaBin(),
        "-jar",
        jar.toString(),
        "init",
        "-s",
        "64M",
        "-t",
        "none",
        disk.resolve("root.hdd").toString());
    xml = disk.resolve("DiskDescriptor.xml");
  }

  @Test
  void testRepositoryLauncher_mapsTheArchiveBuiltWithTheJar() throws Exception {
    assertThat(archive).as("mvn package builds the archive").isRegularFile();
    assertThat(Files.getLastModifiedTime(archive))
        .isGreaterThanOrEqualTo(Files.getLastModifiedTime(jar));
    Path launcher = jar.getParent().getParent().resolve("ploop");
    Path classLog = tmp.resolve("classes.log");
    Launch r = launch(launcher, "-Xlog:class+load:file=" + classLog, "info", xml.toString());
    assertThat(r.exit).as(r.err).isZero();
    assertThat(r.err).isEmpty();
    assertThat(r.out).contains("size:\t\t131072 sectors (64.0 MiB)");
    String log = Files.readString(classLog);
    assertThat(log)
        .containsPattern("org\\.jploop\\.cli\\.InfoCommand source: shared objects")
        .containsPattern("picocli\\.CommandLine source: shared objects")
        .containsPattern("com\\.fasterxml\\.jackson\\.dataformat\\.xml\\.XmlMapper source: shared");
  }

  @Test
  void testLauncherCopy_sameResultWithMissingStaleForeignOrCorruptArchive() throws Exception {
    Path reference = jar.getParent().getParent().resolve("ploop");
    Launch expected = launch(reference, null, "info", xml.toString());
    assertThat(expected.exit).as(expected.err).isZero();
    Path home = Files.createDirectories(tmp.resolve("home"));
    Path target = Files.createDirectories(home.resolve("target"));
    Path launcher = Files.copy(reference, home.resolve("ploop"));
    Path jarCopy = Files.copy(jar, target.resolve("jploop.jar"));
    Path jsa = target.resolve("jploop.jsa");
    FileTime now = FileTime.fromMillis(System.currentTimeMillis());
    FileTime later = FileTime.fromMillis(now.toMillis() + 60_000);

    assertSame(expected, launch(launcher, null, "info", xml.toString()), "no archive");

    // a rebuild: the jar is newer than the archive (the launcher skips it)
    Files.copy(archive, jsa, StandardCopyOption.REPLACE_EXISTING);
    Files.setLastModifiedTime(jsa, now);
    Files.setLastModifiedTime(jarCopy, later);
    assertSame(expected, launch(launcher, null, "info", xml.toString()), "archive older");

    // newer than the jar but made for another jar path (the JVM rejects it)
    Files.setLastModifiedTime(jsa, FileTime.fromMillis(later.toMillis() + 60_000));
    assertSame(expected, launch(launcher, null, "info", xml.toString()), "foreign archive");

    long seed = System.nanoTime();
    byte[] junk = new byte[1 << 20];
    new Random(seed).nextBytes(junk);
    Files.delete(jsa);
    Files.write(jsa, junk);
    Files.setLastModifiedTime(jsa, FileTime.fromMillis(later.toMillis() + 60_000));
    assertSame(
        expected,
        launch(launcher, null, "info", xml.toString()),
        "corrupt archive (seed " + seed + ")");
    // and a verb the launcher keeps on the JVM's default compilers
    Launch check = launch(launcher, null, "check", xml.getParent().resolve("root.hdd").toString());
    assertThat(check.exit).as("check with a corrupt archive: %s", check.err).isZero();
  }

  private static void assertSame(Launch expected, Launch actual, String what) {
    assertThat(actual.exit).as("%s: exit (%s)", what, actual.err).isEqualTo(expected.exit);
    assertThat(actual.err).as("%s: stderr", what).isEmpty();
    assertThat(actual.out).as("%s: stdout", what).isEqualTo(expected.out);
  }

  private record Launch(int exit, String out, String err) {}

  /** Runs {@code launcher args} with {@code javaOpts} in JPLOOP_JAVA_OPTS (null: unset). */
  private Launch launch(Path launcher, String javaOpts, String... args)
      throws IOException, InterruptedException {
    List<String> argv = new java.util.ArrayList<>(List.of("bash", launcher.toString()));
    argv.addAll(List.of(args));
    Path out = tmp.resolve("out.txt");
    Path err = tmp.resolve("err.txt");
    ProcessBuilder pb =
        new ProcessBuilder(argv)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    pb.environment().remove("JPLOOP_JAVA_OPTS");
    if (javaOpts != null) {
      pb.environment().put("JPLOOP_JAVA_OPTS", javaOpts);
    }
    // the launcher runs the JVM on its PATH
    pb.environment()
        .put("PATH", Path.of(PloopProcess.javaBin()).getParent() + ":" + System.getenv("PATH"));
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError("launcher timed out: " + argv);
    }
    return new Launch(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }
}
