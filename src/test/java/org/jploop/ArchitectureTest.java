package org.jploop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Enforces the package layering {@code cli → daemon → frontend → host}, {@code daemon → image →
 * engine → io → format} (with {@code check} beside {@code image}) and {@code cli → volume → image}
 * (README "Layout") by reading the imports of every main source file. A
 * package may import itself, its sub-packages and the packages listed for it here, nothing else
 * of jploop.
 */
class ArchitectureTest {
  private static final Pattern IMPORT =
      Pattern.compile("^import\\s+(?:static\\s+)?org\\.jploop\\.([a-z]+)[.;]", Pattern.MULTILINE);

  /** Top-level package → the jploop packages it may use. */
  private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
      Map.entry("format", Set.of()),
      Map.entry("io", Set.of("format")),
      Map.entry("engine", Set.of("io", "format")),
      Map.entry("check", Set.of("io", "format", "engine")),
      Map.entry("image", Set.of("io", "format", "engine", "check")),
      Map.entry("host", Set.of("io", "format")),
      Map.entry("frontend", Set.of("host", "engine", "io", "format")),
      Map.entry("daemon", Set.of("frontend", "host", "engine", "io", "format", "check", "image")),
      Map.entry("volume", Set.of("image", "io", "format")),
      Map.entry("copy", Set.of("daemon", "host", "engine", "io", "format", "image")),
      Map.entry("cli", Set.of("copy", "daemon", "frontend", "host", "engine", "io", "format",
          "check", "image", "volume")));

  @Test
  void packagesDependOneWay() throws IOException {
    Path root = Path.of("src/main/java/org/jploop");
    List<String> violations = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Path rel = root.relativize(f);
        if (rel.getNameCount() < 2) {
          continue;
        }
        String pkg = rel.getName(0).toString();
        Set<String> allowed = ALLOWED.get(pkg);
        if (allowed == null) {
          violations.add(rel + ": package '" + pkg + "' is not in the layering table");
          continue;
        }
        Matcher m = IMPORT.matcher(Files.readString(f));
        while (m.find()) {
          String used = m.group(1);
          if (!used.equals(pkg) && !allowed.contains(used)) {
            violations.add(rel + " imports org.jploop." + used);
          }
        }
      }
    }
    assertThat(violations).as("layering violations").isEmpty();
  }

  @Test
  void everyPackageHasPackageInfo() throws IOException {
    Path root = Path.of("src/main/java/org/jploop");
    List<String> missing = new ArrayList<>();
    try (Stream<Path> dirs = Files.walk(root)) {
      for (Path d : dirs.filter(Files::isDirectory).toList()) {
        boolean hasJava;
        try (Stream<Path> s = Files.list(d)) {
          hasJava = s.anyMatch(p -> p.toString().endsWith(".java"));
        }
        if (hasJava && !Files.exists(d.resolve("package-info.java"))) {
          missing.add(root.relativize(d).toString());
        }
      }
    }
    assertThat(missing).as("packages without package-info.java").isEmpty();
  }
}
