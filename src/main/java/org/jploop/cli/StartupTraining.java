package org.jploop.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The training run behind the class-data-sharing archive {@code target/jploop.jsa}: {@code mvn
 * package} runs it once as {@code java -XX:DumpLoadedClassList=target/jploop.classlist -cp
 * target/jploop.jar org.jploop.cli.StartupTraining DIR JAR}, then dumps every class listed into a
 * static archive ({@code -Xshare:dump}), parsed and verified; the launcher and the mount daemon map
 * it instead of reading and verifying the jar. It runs the offline verbs a management tool calls
 * most (init of an image with no filesystem, info, snapshot, snapshot-list, check, list, a usage
 * text) on a scratch image in {@code DIR} through the same {@link PloopCli#newCommandLine} as
 * {@code main}, then loads (without initialising) every jploop class in the jar, which covers the
 * daemon's own classes (engine, front ends) that need root and FUSE to run. Output is discarded; a
 * verb that fails is named on stderr and does not fail the build (the archive only speeds
 * start-up). Single-threaded.
 */
public final class StartupTraining {
  private StartupTraining() {}

  /** Trains in {@code args[0]} (created, then emptied again), with the jar {@code args[1]}. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]).toAbsolutePath();
    deleteTree(dir);
    Files.createDirectories(dir);
    String xml = dir.resolve("DiskDescriptor.xml").toString();
    List<List<String>> runs =
        List.of(
            List.of("init", "-s", "64M", "-t", "none", dir.resolve("root.hdd").toString()),
            List.of("info", xml),
            List.of("snapshot", xml),
            List.of("snapshot-list", xml),
            List.of("check", dir.resolve("root.hdd").toString()),
            List.of("info", xml),
            List.of("list"),
            List.of("mount", "--help"));
    for (List<String> run : runs) {
      String[] argv = run.toArray(String[]::new);
      StringWriter sink = new StringWriter();
      int rc =
          PloopCli.newCommandLine(new PrintWriter(sink), new PrintWriter(sink), argv).execute(argv);
      if (rc != 0 && !run.get(0).equals("list")) {
        System.err.println(
            "jploop startup training: ploop "
                + String.join(" ", run)
                + " exited "
                + rc
                + ": "
                + sink.toString().strip());
      }
    }
    int loaded = loadAll(Path.of(args[1]));
    deleteTree(dir);
    System.err.println(
        "jploop startup training: "
            + runs.size()
            + " verbs run, "
            + loaded
            + " jploop classes loaded");
  }

  /** Loads every {@code org/jploop} class of {@code jar} without initialising it. */
  private static int loadAll(Path jar) throws IOException {
    int n = 0;
    ClassLoader cl = StartupTraining.class.getClassLoader();
    try (JarFile jf = new JarFile(jar.toFile())) {
      for (Enumeration<JarEntry> e = jf.entries(); e.hasMoreElements(); ) {
        String name = e.nextElement().getName();
        if (!name.startsWith("org/jploop/")
            || !name.endsWith(".class")
            || name.endsWith("package-info.class")) {
          continue;
        }
        try {
          Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false, cl);
          n++;
        } catch (ClassNotFoundException | LinkageError ex) {
          // not loadable here (an optional dependency missing): it loads from the jar at run time
        }
      }
    }
    return n;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
