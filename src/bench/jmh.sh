#!/usr/bin/env bash
# Runs the engine JMH benchmarks (src/test/java/org/jploop/bench/EngineBenchmark.java): builds the
# test classes (the JMH annotation processor writes META-INF/BenchmarkList), then runs JMH in a
# forked JVM. Extra arguments go to JMH, e.g.
#   src/bench/jmh.sh                                  all four paths, file and memory backing
#   src/bench/jmh.sh -p backing=memory -p ioSize=4096 'EngineBenchmark.(read|overwrite)'
#   JPLOOP_BENCH_DIR=/dev/shm src/bench/jmh.sh        image files on tmpfs (engine CPU cost only)
#   src/bench/jmh.sh -prof gc                         allocation per request (gc.alloc.rate.norm)
#   src/bench/jmh.sh -p backing=memory -p tracking=off,cbt,cbt+copy   cost of change tracking (CBT)
# Results: target/bench/jmh.json (JMH's JSON) and the console table.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
mvn -B -o -q test-compile
mkdir -p target/bench
# the dependency plugin is pinned here (the pom does not use it); first use needs the network once
mvn -B -q -o org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.outputFile=target/bench/jmh.classpath -Dmdep.includeScope=test >/dev/null \
  || mvn -B -q -ntp org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.outputFile=target/bench/jmh.classpath -Dmdep.includeScope=test
cp="target/classes:target/test-classes:$(cat target/bench/jmh.classpath)"
args=("$@")
if ((${#args[@]} == 0)) || [[ "${args[-1]}" == -* ]]; then args+=(EngineBenchmark); fi
exec java -cp "$cp" org.openjdk.jmh.Main -jvmArgsAppend "-Djploop.bench.dir=${JPLOOP_BENCH_DIR:-/tmp}" \
  -rf json -rff target/bench/jmh.json "${args[@]}"
