package org.jploop;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Enforces the package layering of the README "Layout" section on the compiled main classes
 * (ArchUnit reads their byte code, so a fully qualified use counts as much as an import): {@code
 * cli} on top, {@code format} at the bottom, {@code cli → daemon → frontend → host}, {@code daemon
 * → image → engine → io → format} (with {@code check} beside {@code image}) and {@code cli → volume
 * → image}. A package may use itself, its sub-packages and the packages listed for it in {@link
 * #ALLOWED}, nothing else of jploop, and the packages have no cycles. No shared state.
 */
class ArchitectureTest {
  private static final String ROOT = "org.jploop";

  /** Top-level package → the jploop packages it may use. */
  private static final Map<String, Set<String>> ALLOWED = new LinkedHashMap<>();

  static {
    ALLOWED.put(
        "cli",
        Set.of(
            "copy",
            "daemon",
            "frontend",
            "host",
            "engine",
            "io",
            "format",
            "check",
            "image",
            "volume"));
    ALLOWED.put("copy", Set.of("daemon", "host", "engine", "io", "format", "image"));
    ALLOWED.put("daemon", Set.of("frontend", "host", "engine", "io", "format", "check", "image"));
    ALLOWED.put("frontend", Set.of("host", "engine", "io", "format"));
    ALLOWED.put("host", Set.of("io", "format"));
    ALLOWED.put("volume", Set.of("image", "io", "format"));
    ALLOWED.put("image", Set.of("io", "format", "engine", "check"));
    ALLOWED.put("check", Set.of("io", "format", "engine"));
    ALLOWED.put("engine", Set.of("io", "format"));
    ALLOWED.put("io", Set.of("format"));
    ALLOWED.put("format", Set.of());
  }

  private static JavaClasses mainClasses;

  @BeforeAll
  static void importMainClasses() {
    mainClasses =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages(ROOT);
  }

  /** The {@link #ALLOWED} table as an ArchUnit layered architecture, one layer a package. */
  static LayeredArchitecture layering() {
    LayeredArchitecture layers = layeredArchitecture().consideringOnlyDependenciesInLayers();
    for (String pkg : ALLOWED.keySet()) {
      layers = layers.layer(pkg).definedBy(ROOT + "." + pkg + "..");
    }
    for (Map.Entry<String, Set<String>> e : ALLOWED.entrySet()) {
      layers =
          e.getValue().isEmpty()
              ? layers.whereLayer(e.getKey()).mayNotAccessAnyLayer()
              : layers
                  .whereLayer(e.getKey())
                  .mayOnlyAccessLayers(e.getValue().toArray(String[]::new));
    }
    return layers;
  }

  @Test
  void packagesDependOneWay() {
    layering()
        .because(
            "the README \"Layout\" section: packages depend one way, cli on top, format at"
                + " the bottom; move the code or the dependency, or change the README and the table"
                + " in ArchitectureTest together")
        .check(mainClasses);
  }

  @Test
  void topLevelPackagesHaveNoCycles() {
    slices()
        .matching(ROOT + ".(*)..")
        .should()
        .beFreeOfCycles()
        .because("packages depend one way (README \"Layout\")")
        .check(mainClasses);
  }

  @Test
  void everyPackageIsInTheLayeringTable() {
    Set<String> unknown = new TreeSet<>();
    for (JavaClass c : mainClasses) {
      String rel =
          c.getPackageName().equals(ROOT) ? "" : c.getPackageName().substring(ROOT.length() + 1);
      String top = rel.contains(".") ? rel.substring(0, rel.indexOf('.')) : rel;
      if (!ALLOWED.containsKey(top)) {
        unknown.add(c.getName());
      }
    }
    assertThat(unknown)
        .as("classes outside the packages of ArchitectureTest.ALLOWED (README \"Layout\")")
        .isEmpty();
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
