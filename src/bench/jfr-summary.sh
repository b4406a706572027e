#!/usr/bin/env bash
# Summarises a daemon JFR recording: the hottest top frames (CPU samples), the hottest jploop
# frames, and the allocation sites by sampled weight. Usage: jfr-summary.sh FILE.jfr
set -euo pipefail
f="$1"
echo "== $f"
jfr summary "$f" | grep -E 'jdk.(ExecutionSample|ObjectAllocationSample|JavaMonitorEnter|ThreadPark|FileWrite|FileRead) ' || true
echo "-- top frames of CPU samples (count, frame)"
jfr print --json --stack-depth 1 --events jdk.ExecutionSample "$f" \
  | jq -r '.recording.events[].values.stackTrace.frames[0] // empty
           | "\(.method.type.name).\(.method.name):\(.lineNumber)"' | sort | uniq -c | sort -rn | head -20
echo "-- first org.jploop frame of CPU samples (count, frame)"
jfr print --json --stack-depth 64 --events jdk.ExecutionSample "$f" \
  | jq -r '.recording.events[].values.stackTrace.frames
           | map(.method.type.name |= gsub("/"; ".")) | map(select((.method.type.name | startswith("org.jploop")) and (.method.type.name | contains("$$Lambda") | not))) | .[0] // empty
           | "\(.method.type.name).\(.method.name):\(.lineNumber)"' | sort | uniq -c | sort -rn | head -15
echo "-- allocation sites by sampled weight (MiB, class, first frame, first org.jploop frame)"
jfr print --json --stack-depth 64 --events jdk.ObjectAllocationSample "$f" \
  | jq -r '.recording.events[].values
           | (.stackTrace.frames //= [])
           | [(.weight // 0), .objectClass.name,
              ((.stackTrace.frames[0] // {method: {type: {name: "?"}, name: "?"}}) | "\(.method.type.name).\(.method.name)"),
              ((.stackTrace.frames | map(.method.type.name |= gsub("/"; ".")) | map(select((.method.type.name | startswith("org.jploop")) and (.method.type.name | contains("$$Lambda") | not))) | .[0]
                | if . == null then "-" else "\(.method.type.name).\(.method.name):\(.lineNumber)" end))]
           | @tsv' \
  | awk -F'\t' '{ w[$2" "$3" "$4] += $1 } END { for (k in w) printf "%10.1f %s\n", w[k] / 1048576, k }' \
  | sort -rn | head -20
echo "-- threads in native code, by top frame (count, thread, frame): where the daemon waits"
jfr print --json --stack-depth 3 --events jdk.NativeMethodSample "$f" \
  | jq -r '.recording.events[].values
           | "\(.sampledThread.javaName // .sampledThread.osName) \((.stackTrace.frames // [])[0] | if . == null then "?" else "\(.method.type.name).\(.method.name)" end)"' \
  | sed -E 's/-[0-9]+ / /' | sort | uniq -c | sort -rn | head -10
echo "-- monitor/park contention (count, first org.jploop frame)"
jfr print --json --stack-depth 64 --events jdk.JavaMonitorEnter,jdk.ThreadPark "$f" \
  | jq -r '.recording.events[].values.stackTrace.frames
           | map(.method.type.name |= gsub("/"; ".")) | map(select((.method.type.name | startswith("org.jploop")) and (.method.type.name | contains("$$Lambda") | not))) | .[0] // empty
           | "\(.method.type.name).\(.method.name):\(.lineNumber)"' | sort | uniq -c | sort -rn | head -10
