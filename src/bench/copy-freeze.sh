#!/usr/bin/env bash
# Live copy freeze time (issue 16): a 1 GiB disk (ext4, ploop init -t ext4) mounted with
# `ploop mount -m`, fio writing into a file on it at full speed (randwrite, 64 KiB, O_DIRECT,
# QD 8) for the whole copy, no -F (the writer does not stop: the frozen passes must catch up with
# it), then `ploop copy -s DiskDescriptor.xml -d FILE` and its figures: clusters and bytes per
# pass, total time, time frozen (goal < 1000 ms). Repeats --runs times (default 3) and prints
# the median frozen time. Not a timed test: figures only, no pass/fail exit code.
#
# Run as root; needs /dev/fuse, fio, mkfs.ext4. Everything lives under --workdir (default a
# fresh mktemp dir in /var/tmp) and is unmounted and removed at the end, also on failure or ^C.
# The machine may be shared: the load average is printed with the figures.
set -uo pipefail

repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
launcher="$repo/ploop" work="" runs=3 size=1G
while (($#)); do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --workdir) work="$2"; shift 2 ;;
    -h|--help) echo "usage: copy-freeze.sh [--runs N] [--size SIZE] [--workdir DIR]"; exit 0 ;;
    *) echo "usage: copy-freeze.sh [--runs N] [--size SIZE] [--workdir DIR]" >&2; exit 2 ;;
  esac
done
[[ -n "$work" ]] || work="$(mktemp -d /var/tmp/jploop-copy-freeze-XXXX)"
mkdir -p "$work/mnt"
fio_pid=""
cleanup() {
  [[ -n "$fio_pid" ]] && kill "$fio_pid" 2>/dev/null && wait "$fio_pid" 2>/dev/null
  "$launcher" umount "$work/DiskDescriptor.xml" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$launcher" init -s "$size" -t ext4 "$work/root.hds" >/dev/null || exit 1
"$launcher" mount -m "$work/mnt" "$work/DiskDescriptor.xml" >/dev/null || exit 1
echo "copy-freeze: $size disk, fio randwrite 64k QD8 O_DIRECT during the copy; load: $(cut -d' ' -f1-3 /proc/loadavg)"
frozen=()
for ((i = 1; i <= runs; i++)); do
  fio --name=w --filename="$work/mnt/fio.dat" --size=512M --rw=randwrite --bs=64k --direct=1 \
      --ioengine=libaio --iodepth=8 --time_based --runtime=600 >"$work/fio.log" 2>&1 &
  fio_pid=$!
  sleep 3
  rm -f "$work/copy.hdd"
  out="$("$launcher" copy -s "$work/DiskDescriptor.xml" -d "$work/copy.hdd" 2>&1)"
  rc=$?
  kill "$fio_pid" 2>/dev/null; wait "$fio_pid" 2>/dev/null; fio_pid=""
  echo "--- run $i (exit $rc)"
  echo "$out" | sed 's/^/  /'
  ms="$(echo "$out" | sed -n 's/.*frozen \([0-9]*\) ms$/\1/p')"
  [[ -n "$ms" ]] && frozen+=("$ms")
done
if ((${#frozen[@]})); then
  median="$(printf '%s\n' "${frozen[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
  echo "copy-freeze: frozen ms per run: ${frozen[*]}; median $median ms (goal < 1000 ms); load: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
