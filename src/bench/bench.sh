#!/usr/bin/env bash
# jploop benchmark harness (issues 7 and 12). Run as root from anywhere; needs /dev/fuse, fio,
# qemu-nbd, nbdfuse, jq (installed by .ci/setup).
#
# In one run and on one host filesystem (--workdir) it measures the same workload on:
#   raw          a plain file, O_DIRECT                      (the reference: every ratio is to it)
#   kernel       our disk.img served by the default front end (our own /dev/fuse server:
#                ploop mount --frontend kernel), opened directly (ploop init -t none)
#   kernel-loop  that disk.img through losetup --direct-io=on (the recommended way to use it)
#   jnr-fuse, jnr-fuse-loop  the same with the original front end (libfuse 2.9 through jnr-fuse,
#                ploop mount --frontend jnr-fuse)
#   peer         qemu-nbd -f parallels + nbdfuse, the FUSE file nbdfuse exposes
#   peer-loop    the peer's FUSE file through losetup --direct-io=on
#   kernel-null-loop, jnr-fuse-null-loop  the FUSE ceiling of each front end: the product's front
#                end over a disk that reads zeros and drops writes (FuseCeiling, test code), no
#                engine, no file, through losetup --direct-io=on
# Workload per row: dd 1 MiB O_DIRECT sequential write (random bytes from a tmpfs file, never
# zeros: zero writes allocate nothing) then read of --size, fio 4 KiB libaio
# iodepth 16 random write then read for --runtime seconds, one fio QD1 random read per row
# (shows whether queue depth reaches the FUSE daemon), FUSE requests in flight sampled from
# /sys/fs/fuse/connections/N/waiting, peak daemon RSS (VmHWM), mount and umount time, BAT page
# writes per GiB (daemon status). Extra scenarios: daemon RSS for a 1 TiB disk and the seed
# scenario's du figures (seeds/000). Page cache is dropped before every read test.
#
# Results: --out DIR (default target/bench) gets results.md, results.json, metrics.jsonl (one
# line per raw figure with its exact command) and the logs of every command.
set -uo pipefail

usage() {
  cat <<'EOF'
usage: bench.sh [options]
  --out DIR          results directory (default: <repo>/target/bench)
  --workdir DIR      where the images live; all rows use it, so they share one host disk
                     (default: <out>/work, removed at the end unless --keep)
  --size SIZE        bytes per sequential test and fio file size, dd/qemu-img syntax (default 1G)
  --runtime SECS     fio time per random test (default 20)
  --rows LIST        comma list of raw,kernel,kernel-loop,jnr-fuse,jnr-fuse-loop,peer,peer-loop,
                     kernel-null-loop,jnr-fuse-null-loop, or none (default: all)
  --fuse-threads N   worker threads of the kernel front end (default: the product's default)
  --rss-size SIZE    disk size for the daemon-RSS scenario (default 1T)
  --rss-write SIZE   data written, spread over that disk, in the RSS scenario (default 2G)
  --no-rss           skip the 1 TiB RSS scenario
  --rss-alt-opts OPT repeat the RSS scenario with these extra daemon JVM options, as row
                     rss-1t-alt (default "-Xmx64m -XX:+UseSerialGC"; "" skips it)
  --no-seed          skip the seed du scenario (10G disk, ext4, 1 GiB of urandom)
  --no-qd1           skip the QD1 random-read probe (shows whether QD16 reaches the daemon)
  --reqsize          strace the FUSE daemons during a 64 MiB O_DIRECT write to histogram the
                     request sizes they receive (slows that write; off by default)
  --jfr              record the daemon with JFR (via JPLOOP_DAEMON_JAVA_OPTS, which is also
                     honoured from the environment for all our daemons) and summarise the
                     hottest frames and allocation sites into the results
  --keep             keep the workdir
  -h, --help         this text
EOF
}

# ---------------------------------------------------------------------------------------------
# options
repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
out="$repo/target/bench"
workdir=""
size_arg="1G"
runtime=20
rows_arg="raw,kernel,kernel-loop,jnr-fuse,jnr-fuse-loop,peer,peer-loop,kernel-null-loop,jnr-fuse-null-loop"
fuse_threads=""
rss_size="1T"
rss_write="2G"
rss_alt_opts="-Xmx64m -XX:+UseSerialGC"
do_rss=1 do_seed=1 do_qd1=1 do_reqsize=0 do_jfr=0 keep=0
while (($#)); do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --workdir) workdir="$2"; shift 2 ;;
    --size) size_arg="$2"; shift 2 ;;
    --runtime) runtime="$2"; shift 2 ;;
    --rows) rows_arg="$2"; shift 2 ;;
    --fuse-threads) fuse_threads="$2"; shift 2 ;;
    --rss-size) rss_size="$2"; shift 2 ;;
    --rss-write) rss_write="$2"; shift 2 ;;
    --no-rss) do_rss=0; shift ;;
    --rss-alt-opts) rss_alt_opts="$2"; shift 2 ;;
    --no-seed) do_seed=0; shift ;;
    --no-qd1) do_qd1=0; shift ;;
    --reqsize) do_reqsize=1; shift ;;
    --jfr) do_jfr=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $EUID -eq 0 ]] || { echo "bench: must run as root (loop devices, FUSE, drop_caches)" >&2; exit 2; }
for tool in fio jq qemu-img qemu-nbd nbdfuse losetup fusermount3 dd mkfs.ext4 fstrim du; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (run .ci/setup)" >&2; exit 2; }
done
[[ -c /dev/fuse ]] || { echo "bench: /dev/fuse is missing" >&2; exit 2; }

to_bytes() { numfmt --from=iec "${1^^}" 2>/dev/null || { echo "bench: bad size $1" >&2; exit 2; }; }
size_bytes=$(to_bytes "$size_arg")
rss_size_bytes=$(to_bytes "$rss_size")
rss_write_bytes=$(to_bytes "$rss_write")
((size_bytes >= 16 << 20 && size_bytes % (1 << 20) == 0)) \
  || { echo "bench: --size must be a multiple of 1M and at least 16M" >&2; exit 2; }
size_mib=$((size_bytes >> 20))

mkdir -p "$out" || exit 2
out="$(cd "$out" && pwd)"
[[ -n "$workdir" ]] || workdir="$out/work"
mkdir -p "$workdir" && workdir="$(cd "$workdir" && pwd)"
logs="$out/logs"
rm -rf "$logs" && mkdir -p "$logs"
metrics="$out/metrics.jsonl"
: >"$metrics"
# what the sequential writes write: random bytes on tmpfs, made once. Not /dev/zero: the engine
# (like dm-ploop) does not allocate clusters for all-zero writes, so zeros would measure nothing.
pattern="/dev/shm/jploop-bench-pattern.$$"
ploop="$repo/ploop"

log() { printf '%s bench: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# results: one JSON line per figure; results.json/results.md are built from these at the end

# record ROW METRIC VALUE UNIT COMMAND [NOTE]: VALUE "" means "not measured", NOTE then says why.
record() {
  local row="$1" metric="$2" value="$3" unit="$4" cmd="$5" note="${6:-}"
  jq -cn --arg row "$row" --arg metric "$metric" --arg value "$value" --arg unit "$unit" \
    --arg cmd "$cmd" --arg note "$note" \
    '{row:$row, metric:$metric, value:(if $value=="" then null else ($value|tonumber) end),
      unit:$unit, command:$cmd, note:(if $note=="" then null else $note end)}' >>"$metrics"
  if [[ -n "$value" ]]; then log "$row $metric = $value $unit"; else log "$row $metric: not measured: $note"; fi
}
not_measured() { record "$1" "$2" "" "$3" "${5:-}" "$4"; }

# ---------------------------------------------------------------------------------------------
# resources and cleanup: everything the run creates is listed here and torn down by the trap

declare -a loops=() fuse_mounts=() fs_mounts=() our_descriptors=() nbd_pidfiles=()
fusectl_mounted=0

cleanup() {
  local m d f
  for m in "${fs_mounts[@]}"; do mountpoint -q "$m" && umount "$m"; done
  for d in "${loops[@]}"; do losetup "$d" >/dev/null 2>&1 && losetup -d "$d"; done
  for f in "${our_descriptors[@]}"; do
    "$ploop" umount "$f" >>"$logs/cleanup.log" 2>&1 || true
  done
  for m in "${fuse_mounts[@]}"; do mountpoint -q "$m" && fusermount3 -u "$m"; done
  for f in "${nbd_pidfiles[@]}"; do
    [[ -s "$f" ]] && kill "$(cat "$f")" 2>/dev/null
  done
  ((fusectl_mounted)) && umount /sys/fs/fuse/connections 2>/dev/null
  rm -f "$pattern"
  ((keep)) || [[ "$workdir" != "$out/work" ]] || rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget() { # forget ARRAY_NAME VALUE: drop a torn-down resource from its list
  local -n arr="$1"
  local keep_list=() x
  for x in "${arr[@]}"; do [[ "$x" == "$2" ]] || keep_list+=("$x"); done
  arr=("${keep_list[@]}")
}

# ---------------------------------------------------------------------------------------------
# measuring primitives

now_ns() { date +%s%N; }
secs_since() { echo "scale=3; ($(now_ns) - $1) / 1000000000" | bc; }

# drop_caches FILE...: nothing a read test reads may come from the page cache. Only the
# filesystems of FILE... are synced (sync -f = syncfs), never all of them: a global sync waits for
# every filesystem on the host, and on a shared machine one whose FUSE daemon is stuck (someone
# else's) would hang the run, and with it anything that waits for the run.
drop_caches() {
  local f
  for f in "$@"; do
    if [[ -b "$f" ]]; then blockdev --flushbufs "$f"; else sync -f "$f"; dd if="$f" iflag=nocache count=0 status=none; fi
  done
  echo 3 >/proc/sys/vm/drop_caches
}

# dd_rate LOGFILE: prints bytes/s*1e-6 (MB/s) from dd's summary line
dd_rate() {
  LC_ALL=C awk '/copied/ { b=$1; s=$(NF-3); if (s > 0) printf "%.1f\n", b / s / 1e6 }' "$1"
}

# fuse_conn FILE: prints the /sys/fs/fuse/connections entry of the FUSE file system FILE is on
fuse_conn() {
  local dev
  dev=$(stat -c '%d' "$1") || return 1
  [[ -d /sys/fs/fuse/connections/$dev ]] && echo "/sys/fs/fuse/connections/$dev"
}

# waiting sampler: FUSE requests queued or being served, sampled every 20 ms while a test runs
sampler_pid=""
start_sampler() { # start_sampler CONN OUTFILE
  local conn="$1" file="$2"
  : >"$file"
  [[ -n "$conn" ]] || return 0
  (while :; do cat "$conn/waiting" 2>/dev/null || break; sleep 0.02; done >"$file") &
  sampler_pid=$!
}
stop_sampler() { # stop_sampler ROW TEST OUTFILE: records max and mean
  local row="$1" test="$2" file="$3" stats
  [[ -n "$sampler_pid" ]] || return 0
  kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null
  sampler_pid=""
  stats=$(awk 'NF { n++; s+=$1; if ($1>m) m=$1 } END { if (n) printf "%d %.2f %d", m, s/n, n }' "$file")
  if [[ -n "$stats" ]]; then
    read -r max mean n <<<"$stats"
    record "$row" "${test}_fuse_inflight_max" "$max" "requests" "cat $conn_of_row/waiting every 20 ms ($n samples)"
    record "$row" "${test}_fuse_inflight_mean" "$mean" "requests" "cat $conn_of_row/waiting every 20 ms ($n samples)"
  fi
}

# daemon CPU: utime+stime of the serving processes (daemon_pids, set per row), in clock ticks
daemon_pids=()
cpu_ticks() { # prints "user system"
  local u=0 s=0 p v
  for p in "${daemon_pids[@]}"; do
    read -r v < <(awk '{ print $14, $15 }' "/proc/$p/stat" 2>/dev/null) || continue
    u=$((u + ${v% *})) s=$((s + ${v#* }))
  done
  echo "$u $s"
}
# record_cpu ROW METRIC TICKS_BEFORE OPS: daemon CPU microseconds per operation of the test
record_cpu() {
  local row="$1" metric="$2" before="$3" ops="$4" hz
  ((${#daemon_pids[@]})) && [[ -n "$ops" ]] && ((ops > 0)) || return 0
  hz=$(getconf CLK_TCK)
  local now u0 s0 u1 s1
  now=$(cpu_ticks)
  read -r u0 s0 <<<"$before"
  read -r u1 s1 <<<"$now"
  record "$row" "${metric}_daemon_cpu_us_per_op" \
    "$(echo "scale=2; ($u1 + $s1 - $u0 - $s0) * 1000000 / $hz / $ops" | bc)" "us" \
    "utime+stime of pids ${daemon_pids[*]} (/proc/PID/stat) over the test / requests issued"
  record "$row" "${metric}_daemon_user_cpu_share" \
    "$(echo "scale=2; ($u1 - $u0) / ($u1 + $s1 - $u0 - $s0 + 0.0001)" | bc)" "fraction" \
    "utime / (utime+stime) of the serving processes over the test: the rest is kernel time"
}

# seq_write ROW TARGET: dd 1 MiB O_DIRECT over --size
seq_write() {
  local row="$1" target="$2" cmd rate
  cmd="dd if=$pattern of=$target bs=1M count=$size_mib oflag=direct conv=fsync,notrunc"
  start_sampler "$conn_of_row" "$logs/$row.seqw.waiting"
  local ticks
  ticks="$(cpu_ticks)"
  $cmd 2>"$logs/$row.seqw.log"
  local rc=$?
  record_cpu "$row" seq_write "$ticks" "$size_mib"
  stop_sampler "$row" seq_write "$logs/$row.seqw.waiting"
  rate=$(dd_rate "$logs/$row.seqw.log")
  if ((rc == 0)) && [[ -n "$rate" ]]; then
    record "$row" seq_write "$rate" "MB/s" "$cmd"
  else
    not_measured "$row" seq_write "MB/s" "dd failed (rc $rc): $(tail -1 "$logs/$row.seqw.log")" "$cmd"
  fi
}

# seq_read ROW TARGET CACHED_FILE...: dd 1 MiB O_DIRECT over --size, caches dropped first
seq_read() {
  local row="$1" target="$2" cmd rate
  shift 2
  drop_caches "$target" "$@"
  cmd="dd if=$target of=/dev/null bs=1M count=$size_mib iflag=direct"
  start_sampler "$conn_of_row" "$logs/$row.seqr.waiting"
  local ticks
  ticks="$(cpu_ticks)"
  $cmd 2>"$logs/$row.seqr.log"
  local rc=$?
  record_cpu "$row" seq_read "$ticks" "$size_mib"
  stop_sampler "$row" seq_read "$logs/$row.seqr.waiting"
  rate=$(dd_rate "$logs/$row.seqr.log")
  if ((rc == 0)) && [[ -n "$rate" ]]; then
    record "$row" seq_read "$rate" "MB/s" "$cmd"
  else
    not_measured "$row" seq_read "MB/s" "dd failed (rc $rc): $(tail -1 "$logs/$row.seqr.log")" "$cmd"
  fi
}

# rand_io ROW TARGET randwrite|randread IODEPTH METRIC CACHED_FILE...: fio 4 KiB libaio O_DIRECT
rand_io() {
  local row="$1" target="$2" rw="$3" qd="$4" metric="$5" cmd iops dir
  shift 5
  [[ "$rw" == randread ]] && drop_caches "$target" "$@"
  dir=${rw#rand}
  cmd="fio --name=$metric --filename=$target --rw=$rw --bs=4k --iodepth=$qd --ioengine=libaio"
  cmd+=" --direct=1 --runtime=$runtime --time_based --size=$size_bytes --norandommap"
  cmd+=" --randrepeat=0 --output-format=json"
  start_sampler "$conn_of_row" "$logs/$row.$metric.waiting"
  local ticks
  ticks="$(cpu_ticks)"
  $cmd >"$logs/$row.$metric.json" 2>"$logs/$row.$metric.err"
  local rc=$?
  stop_sampler "$row" "$metric" "$logs/$row.$metric.waiting"
  record_cpu "$row" "$metric" "$ticks" "$(jq -r ".jobs[0].$dir.total_ios" "$logs/$row.$metric.json" 2>/dev/null)"
  iops=$(jq -r ".jobs[0].$dir.iops | floor" "$logs/$row.$metric.json" 2>/dev/null)
  if ((rc == 0)) && [[ "$iops" =~ ^[0-9]+$ ]] && ((iops > 0)); then
    record "$row" "$metric" "$iops" "IOPS" "$cmd"
    record "$row" "${metric}_lat_p99" \
      "$(jq -r ".jobs[0].$dir.clat_ns.percentile[\"99.000000\"] / 1000 | floor" "$logs/$row.$metric.json")" \
      "us" "$cmd"
  else
    not_measured "$row" "$metric" "IOPS" "fio failed (rc $rc): $(tail -1 "$logs/$row.$metric.err")" "$cmd"
  fi
}

# workload ROW TARGET CACHED_FILE...: the per-row test list
workload() {
  local row="$1" target="$2"
  shift 2
  seq_write "$row" "$target"
  seq_read "$row" "$target" "$@"
  rand_io "$row" "$target" randwrite 16 rand_write "$@"
  rand_io "$row" "$target" randread 16 rand_read "$@"
  if ((do_qd1)); then
    rand_io "$row" "$target" randread 1 rand_read_qd1 "$@"
  fi
}

# peak_rss ROW METRIC PID...: sum of VmHWM (peak resident set) of the processes, in MiB
peak_rss() {
  local row="$1" metric="$2" kb=0 p v
  shift 2
  for p in "$@"; do
    v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
    [[ -n "$v" ]] || { not_measured "$row" "$metric" "MiB" "process $p is gone"; return; }
    kb=$((kb + v))
  done
  record "$row" "$metric" "$(echo "scale=1; $kb / 1024" | bc)" "MiB" "grep VmHWM /proc/{$(IFS=,; echo "$*")}/status"
}

# fuse_reqsize ROW PID TARGET: histogram of /dev/fuse read sizes (= request sizes) during a
# 64 MiB O_DIRECT dd; the request header (fuse_in_header + fuse_write_in) is 80 bytes.
fuse_reqsize() {
  local row="$1" pid="$2" target="$3" fds tracefile="$logs/$row.reqsize.strace" spid hist cmd
  fds=$(for f in /proc/"$pid"/fd/*; do [[ "$(readlink "$f")" == /dev/fuse ]] && basename "$f"; done | paste -sd'|')
  [[ -n "$fds" ]] || { not_measured "$row" write_request_bytes "bytes" "no /dev/fuse fd in pid $pid"; return; }
  strace -f -qq -e trace=read,readv,splice -e read=none -o "$tracefile" -p "$pid" &
  spid=$!
  sleep 2 # strace attaches to every thread first; a loaded host needs a while
  cmd="dd if=$pattern of=$target bs=1M count=64 oflag=direct conv=notrunc"
  $cmd 2>/dev/null
  sleep 0.5
  kill -INT "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
  hist=$(grep -E "(read|readv|splice)\((${fds})," "$tracefile" \
    | awk '{ n=$NF } n ~ /^[0-9]+$/ && n > 80 { c[n-80]++ } END { for (k in c) print c[k], k }' \
    | sort -rn | head -3)
  if [[ -n "$hist" ]]; then
    record "$row" write_request_bytes "$(head -1 <<<"$hist" | awk '{ print $2 }')" "bytes" \
      "strace -f -e trace=read,readv,splice -p $pid during: $cmd; top sizes (count bytes): $(paste -sd';' <<<"$hist")"
  else
    not_measured "$row" write_request_bytes "bytes" "strace saw no /dev/fuse reads" "$cmd"
  fi
}

# ---------------------------------------------------------------------------------------------
# our disk: ploop init / mount / umount and the daemon

# our_status DESCRIPTOR: the daemon's status file, /run/jploop/<first 8 bytes of sha256 of the
# descriptor's real path>/status.json (fuse/RunPaths.java); the daemon rewrites it every 5 s
# (or under -Djploop.run.dir=DIR when JPLOOP_JAVA_OPTS, which ./ploop passes to java, sets it)
our_status() {
  local hash root=/run/jploop
  [[ "${JPLOOP_JAVA_OPTS:-}" =~ -Djploop\.run\.dir=([^ ]+) ]] && root="${BASH_REMATCH[1]}"
  hash=$(printf '%s' "$(realpath "$1")" | sha256sum | cut -c1-16)
  echo "$root/$hash/status.json"
}

# our_daemon_pid DESCRIPTOR: the mount daemon serving this descriptor, from its status file
our_daemon_pid() {
  local pid
  pid=$(jq -er '.pid' "$(our_status "$1")" 2>/dev/null) && [[ -d /proc/$pid ]] && echo "$pid"
}

# our_md_page_writes DESCRIPTOR: DiskStats.mdPageWrites from a status written after this call
# started (waits up to 8 s for the daemon's next refresh)
our_md_page_writes() {
  local status since i updated
  status=$(our_status "$1")
  since=$(date -u +%s)
  for ((i = 0; i < 80; i++)); do
    updated=$(jq -r '.updatedAt // empty' "$status" 2>/dev/null)
    if [[ -n "$updated" ]] && (($(date -u -d "$updated" +%s) > since)); then
      jq -er '.stats.mdPageWrites' "$status"
      return
    fi
    sleep 0.1
  done
  return 1
}

# frontend_args FRONTEND: the ploop mount options that select it (and --fuse-threads)
frontend_args() {
  echo "--frontend $1"
  [[ "$1" == kernel && -n "$fuse_threads" ]] && echo "--fuse-threads $fuse_threads"
}

# our_mount ROW DIR [FRONTEND]: init a fresh image in DIR, mount it (with FRONTEND, default: the
# product's default); sets our_img, our_pid
our_img="" our_pid="" our_failure=""
our_mount() {
  local row="$1" dir="$2" frontend="${3:-}" t0 cmd
  mkdir -p "$dir"
  cmd="$ploop init -s $size_arg -t none $dir/root.hds"
  if ! $cmd >"$logs/$row.init.log" 2>&1; then
    our_failure="init failed: $(tail -1 "$logs/$row.init.log")"
    return 1
  fi
  cmd="$ploop mount ${frontend:+$(frontend_args "$frontend" | paste -sd' ') }$dir/DiskDescriptor.xml"
  our_descriptors+=("$dir/DiskDescriptor.xml")
  t0=$(now_ns)
  if ! $cmd >"$logs/$row.mount.log" 2>&1; then
    our_failure="mount failed: $(tail -1 "$logs/$row.mount.log")"
    return 1
  fi
  record "$row" mount_time "$(secs_since "$t0")" "s" "$cmd"
  our_img=$(grep -m1 -oE '/[^ ]*disk\.img' "$logs/$row.mount.log")
  [[ -f "$our_img" ]] || { our_failure="no disk.img path in the output of: $cmd"; return 1; }
  our_pid=$(our_daemon_pid "$dir/DiskDescriptor.xml") || our_pid=""
}

our_umount() { # our_umount ROW DIR
  local row="$1" dir="$2" t0 cmd
  cmd="$ploop umount $dir/DiskDescriptor.xml"
  t0=$(now_ns)
  if $cmd >"$logs/$row.umount.log" 2>&1; then
    record "$row" umount_time "$(secs_since "$t0")" "s" "$cmd"
    forget our_descriptors "$dir/DiskDescriptor.xml"
  else
    not_measured "$row" umount_time "s" "umount failed: $(tail -1 "$logs/$row.umount.log")" "$cmd"
  fi
}

# daemon_opts ROW: JVM options for the daemon of this row: the caller's JPLOOP_DAEMON_JAVA_OPTS
# (e.g. -Xmx64m -XX:+UseSerialGC), plus a JFR recording with --jfr
base_daemon_opts="${JPLOOP_DAEMON_JAVA_OPTS:-}"
daemon_opts() {
  local o="$base_daemon_opts"
  ((do_jfr)) && o+=" -XX:StartFlightRecording=filename=$out/daemon-$1.jfr,settings=profile,dumponexit=true"
  echo "$o"
}

# our_row ROW LOOP(0|1) FRONTEND
our_row() {
  local row="$1" use_loop="$2" frontend="$3" dir="$workdir/$1" target before after bytes dev
  conn_of_row=""
  export JPLOOP_DAEMON_JAVA_OPTS="$(daemon_opts "$row")"
  if ! our_mount "$row" "$dir" "$frontend"; then
    for m in seq_write seq_read rand_write rand_read; do
      not_measured "$row" "$m" "" "$our_failure"
    done
    return
  fi
  conn_of_row=$(fuse_conn "$our_img") || conn_of_row=""
  daemon_pids=(${our_pid:+"$our_pid"})
  target="$our_img"
  if ((use_loop)); then
    dev=$(losetup --find --show --direct-io=on "$our_img") || { not_measured "$row" seq_write "" "losetup failed"; our_umount "$row" "$dir"; return; }
    loops+=("$dev")
    target="$dev"
    record "$row" loop_dio "$(cat "/sys/block/${dev#/dev/}/loop/dio")" "bool" "losetup --find --show --direct-io=on $our_img"
  fi
  before=$(our_md_page_writes "$dir/DiskDescriptor.xml")
  seq_write "$row" "$target"
  after=$(our_md_page_writes "$dir/DiskDescriptor.xml")
  if [[ -n "$before" && -n "$after" ]]; then
    record "$row" bat_page_writes_per_gib "$(echo "scale=1; ($after - $before) * 1073741824 / $size_bytes" | bc)" \
      "pages/GiB" "stats.mdPageWrites in $(our_status "$dir/DiskDescriptor.xml") before/after the seq_write dd"
  else
    not_measured "$row" bat_page_writes_per_gib "pages/GiB" "no fresh DiskStats.mdPageWrites in $(our_status "$dir/DiskDescriptor.xml")"
  fi
  seq_read "$row" "$target" "$our_img" "$dir/root.hds"
  rand_io "$row" "$target" randwrite 16 rand_write "$our_img" "$dir/root.hds"
  rand_io "$row" "$target" randread 16 rand_read "$our_img" "$dir/root.hds"
  if ((do_qd1)); then rand_io "$row" "$target" randread 1 rand_read_qd1 "$our_img" "$dir/root.hds"; fi
  if ((do_reqsize)) && [[ -n "$our_pid" ]]; then fuse_reqsize "$row" "$our_pid" "$target"; fi
  if [[ -n "$our_pid" ]]; then peak_rss "$row" daemon_peak_rss "$our_pid"; else
    not_measured "$row" daemon_peak_rss "MiB" "daemon pid not found"; fi
  local st
  st=$(our_status "$dir/DiskDescriptor.xml")
  if jq -e '.frontend.maxInFlight' "$st" >/dev/null 2>&1; then
    record "$row" frontend_inflight_max "$(jq -r '.frontend.maxInFlight' "$st")" "requests" \
      "frontend.maxInFlight in $st (the daemon's own count of requests served at once; refreshed every 5 s)"
    record "$row" frontend_workers "$(jq -r '.frontend.workers' "$st")" "threads" "frontend.workers in $st"
    record "$row" barriers_skipped "$(jq -r '.frontend.barriersSkipped' "$st")" "requests" \
      "frontend.barriersSkipped in $st: FLUSH/FSYNC answered without an engine flush"
  fi
  if ((use_loop)); then losetup -d "$dev"; forget loops "$dev"; fi
  our_umount "$row" "$dir"
  record "$row" image_bytes_after "$(du -B1 -s "$dir/root.hds" | cut -f1)" "bytes" "du -B1 -s $dir/root.hds"
  export JPLOOP_DAEMON_JAVA_OPTS="$base_daemon_opts"
  rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------------
# the peer: qemu-nbd serving a parallels image, nbdfuse exposing it as a FUSE file

peer_file="" peer_pids=()
peer_mount() { # peer_mount ROW DIR
  local row="$1" dir="$2" t0 cmd1 cmd2 i
  mkdir -p "$dir/fuse"
  qemu-img create -f parallels "$dir/peer.hds" "$size_bytes" >"$logs/$row.create.log" 2>&1 || return 1
  nbd_pidfiles+=("$dir/qemu-nbd.pid")
  cmd1="qemu-nbd --fork --persistent --pid-file=$dir/qemu-nbd.pid -f parallels -k $dir/nbd.sock --discard=unmap $dir/peer.hds"
  cmd2="nbdfuse -P $dir/nbdfuse.pid $dir/fuse --unix $dir/nbd.sock"
  t0=$(now_ns)
  $cmd1 >"$logs/$row.qemu-nbd.log" 2>&1 || return 1
  fuse_mounts+=("$dir/fuse")
  $cmd2 >"$logs/$row.nbdfuse.log" 2>&1 &
  for ((i = 0; i < 500; i++)); do [[ -s "$dir/nbdfuse.pid" ]] && break; sleep 0.01; done
  [[ -s "$dir/nbdfuse.pid" ]] || return 1
  record "$row" mount_time "$(secs_since "$t0")" "s" "$cmd1; $cmd2 (until its pidfile appears)"
  peer_file="$dir/fuse/nbd"
  peer_pids=("$(cat "$dir/qemu-nbd.pid")" "$(cat "$dir/nbdfuse.pid")")
}

peer_umount() { # peer_umount ROW DIR: fusermount3 -u, then stop qemu-nbd; both must exit
  local row="$1" dir="$2" t0 i p
  t0=$(now_ns)
  fusermount3 -u "$dir/fuse" && forget fuse_mounts "$dir/fuse"
  kill "${peer_pids[0]}" 2>/dev/null
  for ((i = 0; i < 1000; i++)); do
    p=0
    for pid in "${peer_pids[@]}"; do kill -0 "$pid" 2>/dev/null && p=1; done
    ((p)) || break
    sleep 0.01
  done
  record "$row" umount_time "$(secs_since "$t0")" "s" "fusermount3 -u $dir/fuse; kill qemu-nbd (until both exit)"
  forget nbd_pidfiles "$dir/qemu-nbd.pid"
}

peer_row() { # peer_row ROW LOOP(0|1)
  local row="$1" use_loop="$2" dir="$workdir/$1" target dev
  conn_of_row=""
  if ! peer_mount "$row" "$dir"; then
    for m in seq_write seq_read rand_write rand_read; do not_measured "$row" "$m" "" "qemu-nbd/nbdfuse start failed (see logs/$row.*)"; done
    return
  fi
  conn_of_row=$(fuse_conn "$peer_file") || conn_of_row=""
  daemon_pids=("${peer_pids[@]}")
  target="$peer_file"
  if ((use_loop)); then
    dev=$(losetup --find --show --direct-io=on "$peer_file") || { not_measured "$row" seq_write "" "losetup failed"; peer_umount "$row" "$dir"; return; }
    loops+=("$dev")
    target="$dev"
    record "$row" loop_dio "$(cat "/sys/block/${dev#/dev/}/loop/dio")" "bool" "losetup --find --show --direct-io=on $peer_file"
  fi
  workload "$row" "$target" "$peer_file" "$dir/peer.hds"
  if ((do_reqsize)); then fuse_reqsize "$row" "${peer_pids[1]}" "$target"; fi
  peak_rss "$row" daemon_peak_rss "${peer_pids[@]}"
  if ((use_loop)); then losetup -d "$dev"; forget loops "$dev"; fi
  peer_umount "$row" "$dir"
  record "$row" image_bytes_after "$(du -B1 -s "$dir/peer.hds" | cut -f1)" "bytes" "du -B1 -s $dir/peer.hds"
  rm -rf "$dir"
}

# instrument_row ROW LOOP(0|1) CLASS ARG...: runs the same workload on the disk.img of the
# instrument in src/test/java/org/jploop/bench (FuseCeiling), which mounts DIR (the first ARG),
# prints the disk.img path and stops when DIR.stop appears
instrument_row() {
  local row="$1" use_loop="$2" class="$3" dir="$workdir/$1" target dev="" pid img i cached=()
  shift 3
  conn_of_row=""
  daemon_pids=()
  mkdir -p "$dir"
  local cls="$repo/target/test-classes/org/jploop/bench/$class.class"
  if [[ ! -f "$cls" ]] || [[ -n "$(find "$repo/src/test/java/org/jploop/bench" -newer "$cls")" ]]; then
    (cd "$repo" && mvn -B -q -ntp test-compile) >"$logs/$row.build.log" 2>&1 \
      || { for m in seq_write seq_read rand_write rand_read; do not_measured "$row" "$m" "" "test-compile failed (see logs/$row.build.log)"; done; return; }
  fi
  java -cp "$repo/target/jploop.jar:$repo/target/test-classes" "org.jploop.bench.$class" "$@" \
    >"$logs/$row.out" 2>"$logs/$row.err" &
  pid=$!
  for ((i = 0; i < 300; i++)); do [[ -s "$logs/$row.out" ]] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  img=$(head -1 "$logs/$row.out")
  if [[ -z "$img" || ! -f "$img" ]]; then
    for m in seq_write seq_read rand_write rand_read; do not_measured "$row" "$m" "" "$class did not start: $(tail -1 "$logs/$row.err")"; done
    kill "$pid" 2>/dev/null
    return
  fi
  fuse_mounts+=("$1")
  conn_of_row=$(fuse_conn "$img") || conn_of_row=""
  daemon_pids=("$pid")
  target="$img"
  cached=("$img")
  [[ -f "$dir/root.hds" ]] && cached+=("$dir/root.hds")
  if ((use_loop)); then
    dev=$(losetup --find --show --direct-io=on "$img") || dev=""
    if [[ -n "$dev" ]]; then
      loops+=("$dev")
      target="$dev"
      record "$row" loop_dio "$(cat "/sys/block/${dev#/dev/}/loop/dio")" "bool" "losetup --find --show --direct-io=on $img"
    fi
  fi
  if ((use_loop)) && [[ -z "$dev" ]]; then
    for m in seq_write seq_read rand_write rand_read; do not_measured "$row" "$m" "" "losetup failed"; done
  else
    workload "$row" "$target" "${cached[@]}"
  fi
  if [[ -n "$dev" ]]; then losetup -d "$dev"; forget loops "$dev"; fi
  touch "$1.stop"
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  forget fuse_mounts "$1"
  grep -h "in flight" "$logs/$row.err" >/dev/null 2>&1 \
    && record "$row" frontend_inflight_max "$(grep "in flight" "$logs/$row.err" | grep -oE '[0-9]+$' | tail -1)" "requests" "the front end's own count of requests served at once (FrontendStats.maxInFlight)"
  rm -rf "$dir"
}

raw_row() {
  local dir="$workdir/raw"
  conn_of_row=""
  daemon_pids=()
  mkdir -p "$dir"
  truncate -s "$size_bytes" "$dir/raw.img"
  workload raw "$dir/raw.img" "$dir/raw.img"
  rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------------
# scenarios

# rss_scenario: daemon peak RSS for a huge sparse disk, with data spread over its whole range
# rss_scenario ROW [EXTRA_JVM_OPTS]
rss_scenario() {
  local row="$1" dir="$workdir/rss" stride cmd
  conn_of_row=""
  daemon_pids=()
  export JPLOOP_DAEMON_JAVA_OPTS="$(daemon_opts "$row") ${2:-}"
  size_save="$size_arg"
  size_arg="$rss_size"
  if ! our_mount "$row" "$dir"; then
    size_arg="$size_save"
    not_measured "$row" daemon_peak_rss "MiB" "$rss_size disk: $our_failure"
    return
  fi
  size_arg="$size_save"
  # one 1 MiB write every STRIDE bytes: touches a fresh cluster and BAT page each time
  stride=$((rss_size_bytes / (rss_write_bytes >> 20)))
  cmd="fio --name=spread --filename=$our_img --rw=write:$((stride - (1 << 20))) --bs=1M --iodepth=16"
  cmd+=" --ioengine=libaio --direct=1 --size=$rss_size_bytes --io_size=$rss_write_bytes --output-format=json"
  if $cmd >"$logs/$row.spread.json" 2>"$logs/$row.spread.err"; then
    record "$row" spread_write "$(jq -r '.jobs[0].write.bw_bytes / 1e6 * 10 | floor / 10' "$logs/$row.spread.json")" "MB/s" "$cmd"
  else
    not_measured "$row" spread_write "MB/s" "fio failed: $(tail -1 "$logs/$row.spread.err")" "$cmd"
  fi
  cmd="fio --name=rand4k --filename=$our_img --rw=randwrite --bs=4k --iodepth=16 --ioengine=libaio"
  cmd+=" --direct=1 --size=$rss_size_bytes --runtime=$runtime --time_based --norandommap --randrepeat=0 --output-format=json"
  if $cmd >"$logs/$row.rand.json" 2>"$logs/$row.rand.err"; then
    record "$row" rand_write_alloc "$(jq -r '.jobs[0].write.iops | floor' "$logs/$row.rand.json")" "IOPS" "$cmd"
  else
    not_measured "$row" rand_write_alloc "IOPS" "fio failed: $(tail -1 "$logs/$row.rand.err")" "$cmd"
  fi
  if [[ -n "$our_pid" ]]; then peak_rss "$row" daemon_peak_rss "$our_pid"; else
    not_measured "$row" daemon_peak_rss "MiB" "daemon pid not found"; fi
  our_umount "$row" "$dir"
  record "$row" image_bytes_after "$(du -B1 -s "$dir/root.hds" | cut -f1)" "bytes" "du -B1 -s $dir/root.hds"
  export JPLOOP_DAEMON_JAVA_OPTS="$base_daemon_opts"
  rm -rf "$dir"
}

# seed_scenario: seeds/000 step by step (ploop init -s 10G; mount -m; dd 1 GiB urandom; umount;
# du; mount; rm; fstrim; umount; du), du in bytes after each phase
seed_scenario() {
  local row=seed dir="$workdir/seed" mnt="$workdir/seed-mnt" cmd
  conn_of_row=""
  daemon_pids=()
  mkdir -p "$dir" "$mnt"
  du_step() { record "$row" "$1" "$(du -B1 -s "$dir" | cut -f1)" "bytes" "du -B1 -s $dir"; }
  cmd="$ploop init -s 10G $dir/root.hds"
  if ! $cmd >"$logs/seed.init.log" 2>&1; then
    not_measured "$row" du_after_init "bytes" "init failed: $(tail -1 "$logs/seed.init.log")" "$cmd"
    return
  fi
  du_step du_after_init
  our_descriptors+=("$dir/DiskDescriptor.xml")
  cmd="$ploop mount -m $mnt $dir/DiskDescriptor.xml"
  if ! $cmd >"$logs/seed.mount1.log" 2>&1; then
    not_measured "$row" du_after_write "bytes" "mount -m failed: $(tail -1 "$logs/seed.mount1.log")" "$cmd"
    return
  fi
  fs_mounts+=("$mnt")
  cmd="dd if=/dev/urandom of=$mnt/file bs=1M count=1024 oflag=direct"
  $cmd 2>"$logs/seed.dd.log"
  record "$row" urandom_write "$(dd_rate "$logs/seed.dd.log")" "MB/s" "$cmd"
  "$ploop" umount "$dir/DiskDescriptor.xml" >"$logs/seed.umount1.log" 2>&1 \
    || { not_measured "$row" du_after_write "bytes" "umount failed: $(tail -1 "$logs/seed.umount1.log")"; return; }
  forget fs_mounts "$mnt"
  du_step du_after_write
  "$ploop" mount -m "$mnt" "$dir/DiskDescriptor.xml" >"$logs/seed.mount2.log" 2>&1 \
    || { not_measured "$row" du_after_trim "bytes" "second mount failed: $(tail -1 "$logs/seed.mount2.log")"; return; }
  fs_mounts+=("$mnt")
  rm -f "$mnt/file"
  # sync commits the ext4 journal: blocks freed by rm in the running transaction are not free for
  # fstrim yet (the seed ran rm and fstrim by hand, seconds apart)
  sync -f "$mnt"
  cmd="fstrim -v $mnt"
  local t0
  t0=$(now_ns)
  $cmd >"$logs/seed.fstrim.log" 2>&1
  record "$row" fstrim_time "$(secs_since "$t0")" "s" "$cmd"
  record "$row" fstrim_trimmed "$(grep -oE '\(([0-9]+) bytes\)' "$logs/seed.fstrim.log" | tr -dc 0-9)" "bytes" "rm $mnt/file; sync -f $mnt; $cmd"
  "$ploop" umount "$dir/DiskDescriptor.xml" >"$logs/seed.umount2.log" 2>&1 \
    || { not_measured "$row" du_after_trim "bytes" "umount failed: $(tail -1 "$logs/seed.umount2.log")"; return; }
  forget fs_mounts "$mnt"
  forget our_descriptors "$dir/DiskDescriptor.xml"
  du_step du_after_trim
  rm -rf "$dir" "$mnt"
}

# ---------------------------------------------------------------------------------------------
# report

write_report() {
  local commit dirty kernel date_s
  commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
  dirty=$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo true || echo false)
  kernel=$(uname -r)
  date_s=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  jq -s \
    --arg commit "$commit" --argjson dirty "$dirty" --arg kernel "$kernel" --arg date "$date_s" \
    --arg size "$size_arg" --argjson runtime "$runtime" --arg workdir "$workdir" \
    --arg fs "$(findmnt -no FSTYPE,SOURCE,OPTIONS -T "$workdir" | head -1)" \
    --arg cpus "$(nproc)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --arg fio "$(fio --version)" --arg qemu "$(qemu-img --version | head -1)" \
    --arg nbdfuse "$(nbdfuse --version 2>&1 | head -1)" --arg java "$(java -version 2>&1 | head -1)" \
    --arg rss_size "$rss_size" --arg rss_write "$rss_write" --arg daemon_opts "$base_daemon_opts" \
    --arg rss_alt_opts "$rss_alt_opts" \
    -f "$repo/src/bench/report.jq" "$metrics" >"$out/results.json"
  jq -r -f "$repo/src/bench/markdown.jq" "$out/results.json" >"$out/results.md"
}

# ---------------------------------------------------------------------------------------------
# main

if ! mountpoint -q /sys/fs/fuse/connections; then
  mount -t fusectl none /sys/fs/fuse/connections && fusectl_mounted=1
fi
if [[ "$rows_arg" != none ]]; then
  log "making the $size_arg random write pattern $pattern"
  head -c "$size_bytes" /dev/urandom >"$pattern" || { echo "bench: cannot write $pattern" >&2; exit 2; }
fi
log "building jploop (if stale)"
"$ploop" --version >"$logs/build.log" 2>&1 || log "ploop --version failed; our rows will report why"
if ((do_jfr)); then log "JFR on: daemon JVMs get JPLOOP_DAEMON_JAVA_OPTS"; fi
log "out=$out workdir=$workdir size=$size_arg runtime=${runtime}s rows=$rows_arg load=$(cut -d' ' -f1 /proc/loadavg)"

IFS=, read -r -a rows <<<"${rows_arg/#none/}"
for r in "${rows[@]}"; do
  log "=== row $r"
  case "$r" in
    raw) raw_row ;;
    kernel) our_row kernel 0 kernel ;;
    kernel-loop) our_row kernel-loop 1 kernel ;;
    jnr-fuse) our_row jnr-fuse 0 jnr-fuse ;;
    jnr-fuse-loop) our_row jnr-fuse-loop 1 jnr-fuse ;;
    peer) peer_row peer 0 ;;
    peer-loop) peer_row peer-loop 1 ;;
    kernel-null-loop) instrument_row kernel-null-loop 1 FuseCeiling "$workdir/kernel-null-loop/fuse" "$size_bytes" kernel ${fuse_threads} ;;
    jnr-fuse-null-loop) instrument_row jnr-fuse-null-loop 1 FuseCeiling "$workdir/jnr-fuse-null-loop/fuse" "$size_bytes" jnr-fuse ;;
    *) echo "bench: unknown row $r" >&2; exit 2 ;;
  esac
done
if ((do_rss)); then
  log "=== scenario: daemon RSS for a $rss_size disk"
  rss_scenario rss-1t
  if [[ -n "$rss_alt_opts" ]]; then
    log "=== scenario: daemon RSS for a $rss_size disk, daemon JVM with $rss_alt_opts"
    rss_scenario rss-1t-alt "$rss_alt_opts"
  fi
fi
if ((do_seed)); then log "=== scenario: seed du (10G, 1 GiB urandom, fstrim)"; seed_scenario; fi
if ((do_jfr)); then
  for f in "$out"/daemon-*.jfr; do
    [[ -f "$f" ]] && bash "$repo/src/bench/jfr-summary.sh" "$f" >"${f%.jfr}.txt" 2>&1
  done
fi
write_report
log "wrote $out/results.md and $out/results.json"
cat "$out/results.md"
