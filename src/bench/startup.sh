#!/usr/bin/env bash
# Start-up latency breakdown of short jploop commands (issue 13), two builds side by side in one
# run: BEFORE (a tree with ./ploop and target/jploop.jar, e.g. an older commit built with mvn
# package) and AFTER (this tree, or --after DIR). Run as root; needs /dev/fuse, mkfs.ext4.
#
# Per build and verb, runs alternate (before, after, before, ...) and every figure is the median
# of --runs runs:
#   jvm          `java OPTS -cp jploop.jar -version`, OPTS those the build's launcher gives a short
#                verb (an archive's class path must match, hence -cp)
#   info         `ploop info` of an unmounted 1 GiB ext4 disk
#   info-mnt     `ploop info` of it mounted (reads the daemon's status file)
#   list         `ploop list`
#   mount        `ploop mount -m DIR` (starts the daemon, losetup, mount)
#   umount       `ploop umount`
# For info/info-mnt/list: wall and CPU (user+sys) time, classes loaded and how many of them came
# from a class-data-sharing archive, and phases from the uptime stamps of -Xlog:class+load (a
# separate, logged run): JVM boot (to org.jploop.cli.PloopCli), picocli (to the first Jackson
# class), Jackson+descriptor (to the first jnr class), jnr/libc and the rest (to the last class).
# For mount/umount the phases come from the daemon's log stamps: command JVM + daemon JVM start
# (to the daemon's first line), daemon open+FUSE (to "ready"), losetup+partx+mount (to
# "attached"), command exit; for umount: command JVM + control request (to "unmounting"),
# daemon teardown (to "stopped cleanly"), command's wait for the exit. The load average is
# printed with the results: the machine is shared, so only the ratios within one run count.
#
# All state lives under --workdir (default a fresh mktemp dir): its own run and log directories
# (-Djploop.run.dir/-Djploop.log.dir, passed on to the daemon), disk and mount point; a trap
# unmounts what this run mounted and removes the directory.
set -uo pipefail

usage() {
  cat <<'EOF'
usage: startup.sh --before DIR [--after DIR] [--runs N] [--workdir DIR] [--keep]
  --before DIR  tree of the build to compare against (DIR/ploop, DIR/target/jploop.jar)
  --after DIR   tree of the new build (default: this repository)
  --runs N      runs per figure (default 5; the median is printed)
  --workdir DIR scratch directory (default: mktemp -d /var/tmp/jploop-startup-XXXX)
  --keep        keep the scratch directory
EOF
}

repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
before="" after="$repo" runs=5 work="" keep=0
while (($#)); do
  case "$1" in
    --before) before="$(readlink -f "$2")"; shift 2 ;;
    --after) after="$(readlink -f "$2")"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --workdir) work="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
[[ -n "$before" && -x "$before/ploop" && -f "$before/target/jploop.jar" ]] || {
  echo "startup.sh: --before DIR must hold ./ploop and target/jploop.jar" >&2; exit 2; }
[[ -f "$after/target/jploop.jar" ]] || { echo "startup.sh: no $after/target/jploop.jar" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "startup.sh: run as root" >&2; exit 2; }
[[ -z "$work" ]] && work="$(mktemp -d /var/tmp/jploop-startup-XXXX)"
mkdir -p "$work"
work="$(readlink -f "$work")"
builds=(before after)
declare -A tree=([before]="$before" [after]="$after")

cleanup() {
  for b in "${builds[@]}"; do
    local xml="$work/$b/disk/DiskDescriptor.xml"
    if [[ -f "$xml" ]] && JPLOOP_JAVA_OPTS="$(props "$b")" "${tree[$b]}/ploop" list 2>/dev/null \
        | grep -qF "$xml"; then
      JPLOOP_JAVA_OPTS="$(props "$b")" "${tree[$b]}/ploop" umount "$xml" >/dev/null 2>&1
    fi
  done
  ((keep)) || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

props() { echo "-Djploop.run.dir=$work/$1/run -Djploop.log.dir=$work/$1/log"; }
# ploop BUILD ARGS...: the build's launcher with its own run/log dirs; extra JVM options in $xopts
ploop_as() {
  local b="$1"; shift
  JPLOOP_JAVA_OPTS="$(props "$b") ${xopts:-}" "${tree[$b]}/ploop" "$@"
}
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END{if(NR==0){print "-"} else if(NR%2){print a[(NR+1)/2]} else {printf "%.0f\n",(a[NR/2]+a[NR/2+1])/2}}'; }
# the JVM options a build's launcher gives a short verb (those in its exec line; the archive only if
# the launcher would use it)
launcher_opts() {
  local b="$1" t="${tree[$1]}" o=""
  if grep -q 'SharedArchiveFile' "$t/ploop" && [[ -f "$t/target/jploop.jsa" ]] \
      && ! [[ "$t/target/jploop.jar" -nt "$t/target/jploop.jsa" ]]; then
    o="-Xshare:auto -XX:SharedArchiveFile=$t/target/jploop.jsa -Xlog:cds=off"
    grep -q 'ArchiveRelocationMode=0' "$t/ploop" \
      && o="$o -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0"
  fi
  grep -q 'TieredStopAtLevel=1' "$t/ploop" && o="$o -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
  echo "$o"
}
# log_ms FILE PATTERN: the stamp (epoch ms) of the last daemon log line matching PATTERN
log_ms() {
  local line; line="$(grep -E "$2" "$1" | tail -1)"
  [[ -z "$line" ]] && { echo ""; return; }
  date -d "${line%%Z *}Z" +%s%3N
}
# uptime_ms FILE REGEX [first|last]: -Xlog:class+load:uptime stamp of the first class matching
uptime_ms() {
  local l
  if [[ "${3:-first}" == last ]]; then l="$(tail -1 "$1")"; else l="$(grep -m1 -E "$2" "$1")"; fi
  [[ -z "$l" ]] && { echo ""; return; }
  echo "$l" | sed -E 's/^\[([0-9.]+)s\].*/\1/' | awk '{printf "%.0f\n", $1*1000}'
}

declare -A samples
add() { samples["$1"]+="$2 "; }

echo "startup.sh: before=$before ($(git -C "$before" log -1 --format=%h 2>/dev/null || echo ?))" \
  "after=$after ($(git -C "$after" log -1 --format=%h 2>/dev/null || echo ?)), runs=$runs," \
  "workdir=$work"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for b in "${builds[@]}"; do
  mkdir -p "$work/$b/mnt" "$work/$b/disk"
  ploop_as "$b" init -s 1G -t ext4 "$work/$b/disk/root.hdd" >/dev/null || exit 1
done

# one_verb BUILD KEY ARGS...: wall, cpu, classes, shared classes and phases of a short verb
one_verb() {
  local b="$1" k="$2"; shift 2
  local t0 t1 cpu
  t0=$(now_ms)
  cpu=$( { /usr/bin/time -f "%U %S" bash -c 'JPLOOP_JAVA_OPTS="$0" exec "$1" "${@:2}" >/dev/null' \
      "$(props "$b")" "${tree[$b]}/ploop" "$@" ; } 2>&1 | tail -1 | awk '{printf "%.0f", ($1+$2)*1000}')
  t1=$(now_ms)
  add "$b.$k.wall" $((t1 - t0)); add "$b.$k.cpu" "$cpu"
  local cl="$work/$b/classes.log"
  rm -f "$cl"
  xopts="-Xlog:class+load:file=$cl:uptime" ploop_as "$b" "$@" >/dev/null 2>&1
  add "$b.$k.classes" "$(wc -l < "$cl")"
  add "$b.$k.shared" "$(grep -c 'source: shared objects' "$cl")"
  local m j n e
  m=$(uptime_ms "$cl" ' org\.jploop\.cli\.PloopCli ')
  j=$(uptime_ms "$cl" ' com\.fasterxml\.')
  n=$(uptime_ms "$cl" ' (jnr\.|com\.kenai\.)')
  e=$(uptime_ms "$cl" . last)
  add "$b.$k.boot" "$m"
  [[ -n "$j" ]] && add "$b.$k.picocli" $((j - m)) || add "$b.$k.picocli" $(( ${n:-$e} - m ))
  [[ -n "$j" ]] && add "$b.$k.jackson" $(( ${n:-$e} - j ))
  [[ -n "$n" ]] && add "$b.$k.jnr" $((e - n))
}

for ((r = 1; r <= runs; r++)); do
  for b in "${builds[@]}"; do
    xml="$work/$b/disk/DiskDescriptor.xml" mnt="$work/$b/mnt" lg=""
    o="$(launcher_opts "$b")"
    t0=$(now_ms); java $o -cp "${tree[$b]}/target/jploop.jar" -version >/dev/null 2>&1; t1=$(now_ms); add "$b.jvm.wall" $((t1 - t0))
    one_verb "$b" info info "$xml"
    one_verb "$b" list list
    t0=$(now_ms); ploop_as "$b" mount -m "$mnt" "$xml" >/dev/null 2>&1 || { echo "mount failed ($b)" >&2; exit 1; }
    t1=$(now_ms); add "$b.mount.wall" $((t1 - t0))
    lg="$(ls -t "$work/$b/log/"*.log | head -1)"
    d0=""
    while read -r line; do
      s=$(date -d "${line%%Z *}Z" +%s%3N 2>/dev/null) || continue
      ((s >= t0)) && { d0=$s; break; }
    done < "$lg"
    ready=$(log_ms "$lg" ': ready: ')
    att=$(log_ms "$lg" ': attached: ')
    add "$b.mount.to_daemon_log" $((d0 - t0)); add "$b.mount.daemon_ready" $((ready - d0))
    add "$b.mount.loop_mount" $((att - ready)); add "$b.mount.exit" $((t1 - att))
    one_verb "$b" info-mnt info "$xml"
    t0=$(now_ms); ploop_as "$b" umount "$xml" >/dev/null 2>&1 || { echo "umount failed ($b)" >&2; exit 1; }
    t1=$(now_ms); add "$b.umount.wall" $((t1 - t0))
    u0=$(log_ms "$lg" ': unmounting /')
    u1=$(log_ms "$lg" ': stopped cleanly')
    add "$b.umount.to_request" $((u0 - t0)); add "$b.umount.teardown" $((u1 - u0))
    add "$b.umount.exit" $((t1 - u1))
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

row() {  # row LABEL KEY
  local bm am
  bm=$(tr ' ' '\n' <<<"${samples[before.$2]:-}" | grep -v '^$' | median)
  am=$(tr ' ' '\n' <<<"${samples[after.$2]:-}" | grep -v '^$' | median)
  local ratio="-"
  [[ "$bm" =~ ^[0-9]+$ && "$am" =~ ^[0-9]+$ && "$bm" != 0 ]] && ratio=$(awk -v a="$am" -v b="$bm" 'BEGIN{printf "%.2f", a/b}')
  printf '| %-44s | %8s | %8s | %6s |\n' "$1" "$bm" "$am" "$ratio"
}
echo
echo "medians of $runs runs (ms, classes); ratio = after/before"
printf '| %-44s | %8s | %8s | %6s |\n' "figure" "before" "after" "ratio"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "----------" "----------" "--------"
row "java -version (launcher's short-verb options)" jvm.wall
for k in info info-mnt list; do
  row "$k: wall" "$k.wall"; row "$k: CPU user+sys" "$k.cpu"
  row "$k: classes loaded" "$k.classes"; row "$k: of them from a CDS archive" "$k.shared"
  row "$k: JVM boot to PloopCli (logged run)" "$k.boot"; row "$k: picocli setup" "$k.picocli"
  row "$k: Jackson + descriptor" "$k.jackson"; row "$k: jnr/libc + rest" "$k.jnr"
done
row "mount -m: wall" mount.wall
row "mount: command + daemon JVM start" mount.to_daemon_log
row "mount: daemon lock, open, FUSE (to ready)" mount.daemon_ready
row "mount: losetup, partx, mount (to attached)" mount.loop_mount
row "mount: command exit" mount.exit
row "umount: wall" umount.wall
row "umount: command JVM + request" umount.to_request
row "umount: daemon teardown" umount.teardown
row "umount: wait for the daemon's exit" umount.exit
