#!/usr/bin/env bash
# Many disks on one host (issue 13): for each N (default 1 and 20; --n LIST, --with-100 adds
# 100), creates N disks of 1 GiB with ext4 (one `ploop init -t ext4`, copied), mounts them all with `ploop
# mount -m`, then prints the total PSS of the jploop processes serving them (the daemons, from
# /proc/PID/smaps_rollup), the increment per extra disk ((PSS(N) - PSS(1)) / (N - 1)), and the
# median `ploop mount -m`, `ploop info` (of a mounted disk) and `ploop umount` wall times, with
# issue 13's goals beside them. Then unmounts everything and removes its directory, also on
# failure or ^C (trap). Not a timed test: figures only, no pass/fail exit code.
#
# Run as root; needs /dev/fuse and mkfs.ext4. Everything lives under --workdir (default a fresh
# mktemp dir in /var/tmp) with its own run and log directories (-Djploop.run.dir/-Djploop.log.dir,
# which the mount command passes on to its daemons), so `ploop list` there shows only these disks
# and other users' mounts are never touched. The machine may be shared: the load average is
# printed with the figures.
set -uo pipefail

usage() {
  cat <<'EOF'
usage: disks.sh [--n LIST] [--with-100] [--launcher PATH] [--workdir DIR] [--keep]
  --n LIST        comma list of disk counts (default 1,20)
  --with-100      also N=100 (heavy: 100 daemons, 100 GiB of sparse images)
  --launcher PATH the ploop launcher to measure (default: this repository's ./ploop)
  --workdir DIR   scratch directory (default: mktemp -d /var/tmp/jploop-disks-XXXX)
  --keep          keep the scratch directory (the disks are unmounted all the same)
EOF
}

repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
ns="1,20" launcher="$repo/ploop" work="" keep=0
while (($#)); do
  case "$1" in
    --n) ns="$2"; shift 2 ;;
    --with-100) ns="$ns,100"; shift ;;
    --launcher) launcher="$(readlink -f "$2")"; shift 2 ;;
    --workdir) work="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
[[ $(id -u) == 0 ]] || { echo "disks.sh: run as root" >&2; exit 2; }
[[ -z "$work" ]] && work="$(mktemp -d /var/tmp/jploop-disks-XXXX)"
mkdir -p "$work"
work="$(readlink -f "$work")"
export JPLOOP_JAVA_OPTS="-Djploop.run.dir=$work/run -Djploop.log.dir=$work/log ${JPLOOP_JAVA_OPTS:-}"

ploop() { "$launcher" "$@"; }
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END{if(NR==0){print "-"} else if(NR%2){print a[(NR+1)/2]} else {printf "%.0f\n",(a[NR/2]+a[NR/2+1])/2}}'; }

# the descriptors mounted from this work directory, from `ploop list` (run dir is ours alone)
mounted() { ploop list 2>/dev/null | awk -F'\t' '{print $2}' | grep -F "$work/" ; }
cleanup() {
  local x
  for x in $(mounted); do ploop umount "$x" >/dev/null 2>&1 || echo "disks.sh: umount $x failed" >&2; done
  ((keep)) || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# daemon_pids: the distinct processes serving our disks (pids from their status files: one host
# daemon for all, or one per disk where a disk has its own)
daemon_pids() {
  local f
  for f in "$work"/run/*/status.json; do
    [[ -f "$f" ]] && grep -m1 '"pid"' "$f" | tr -dc '0-9' && echo
  done | sort -u
}
# pss_kib: total PSS of the daemons serving our disks, each process counted once
pss_kib() {
  local total=0 pid kb
  for pid in $(daemon_pids); do
    kb=$(awk '/^Pss:/{print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }

echo "disks.sh: launcher $launcher ($(git -C "$(dirname "$launcher")" log -1 --format=%h 2>/dev/null || echo ?)), workdir $work"
results=()
IFS=, read -ra nlist <<<"$ns"
for n in "${nlist[@]}"; do
  echo "N=$n: load $(cut -d' ' -f1-3 /proc/loadavg); creating $n disks of 1 GiB (ext4)"
  # one ploop init, then sparse copies (the copies share GUIDs and the ext4 UUID, which nothing
  # here minds): N=100 would spend minutes in init otherwise
  mkdir -p "$work/template"
  [[ -f "$work/template/DiskDescriptor.xml" ]] || ploop init -s 1G -t ext4 "$work/template/root.hdd" >/dev/null \
    || { echo "init failed" >&2; exit 1; }
  for ((i = 1; i <= n; i++)); do
    mkdir -p "$work/n$n/d$i" "$work/n$n/m$i"
    cp --sparse=always "$work/template/root.hdd" "$work/template/DiskDescriptor.xml" "$work/n$n/d$i/"
  done
  mt=() it=() ut=() first=0
  for ((i = 1; i <= n; i++)); do
    t0=$(now_ms)
    ploop mount -m "$work/n$n/m$i" "$work/n$n/d$i/DiskDescriptor.xml" >/dev/null \
      || { echo "mount $i failed" >&2; exit 1; }
    mt+=($(( $(now_ms) - t0 )))
    ((i == 1)) && first=$(pss_kib)
  done
  sleep 1  # let the last daemons settle (JIT, first status refresh) before reading PSS
  total=$(pss_kib)
  ndaemons=$(daemon_pids | wc -l)
  for ((i = 1; i <= n && i <= 20; i++)); do
    t0=$(now_ms)
    ploop info "$work/n$n/d$i/DiskDescriptor.xml" >/dev/null || echo "info $i failed" >&2
    it+=($(( $(now_ms) - t0 )))
  done
  for ((i = 1; i <= n; i++)); do
    t0=$(now_ms)
    ploop umount "$work/n$n/d$i/DiskDescriptor.xml" >/dev/null || { echo "umount $i failed" >&2; exit 1; }
    ut+=($(( $(now_ms) - t0 )))
  done
  if ((n > 1)); then per=$(( (total - first) / (n - 1) )); else per=$total; fi
  m=$(printf '%s\n' "${mt[@]}" | median); i=$(printf '%s\n' "${it[@]}" | median)
  u=$(printf '%s\n' "${ut[@]}" | median)
  results+=("$n|$ndaemons|$(mib "$total")|$(mib "$per")|$m|$u|$i|$(cut -d' ' -f1 /proc/loadavg)")
  rm -rf "$work/n$n"
done

echo
echo "| N | daemons | PSS total MiB | PSS per extra disk MiB | mount -m median ms | umount median ms | info median ms | load |"
echo "|---|---|---|---|---|---|---|---|"
for r in "${results[@]}"; do echo "| ${r//|/ | } |"; done
echo "| goal (issue 13) | | <= 400 (N=20) | <= 8 | <= 500 | <= 300 | <= 250 | |"
