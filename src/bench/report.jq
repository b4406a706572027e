# Builds results.json from the metric lines of one bench.sh run (jq -s: input is the array of
# {row, metric, value, unit, command, note}). Ratios are to the raw row, to the peer and, for our
# loop rows, to the FUSE ceiling of the same front end (its null row); targets are issue 12's
# (the default front end, "kernel", through the loop device) and issue 7's BAT/RSS/du ones.
def rows: ["raw", "kernel", "kernel-loop", "jnr-fuse", "jnr-fuse-loop", "peer", "peer-loop", "kernel-null-loop", "jnr-fuse-null-loop"];
def ceiling_of($row): if $row == "kernel-loop" then "kernel-null-loop" elif $row == "jnr-fuse-loop" then "jnr-fuse-null-loop" else null end;
def ratio_metrics: ["seq_write", "seq_read", "rand_write", "rand_read", "rand_read_qd1"];
. as $m
| def val($row; $metric): ([$m[] | select(.row == $row and .metric == $metric) | .value] | first) // null;
  def div($a; $b): if $a == null or $b == null or $b == 0 then null else (($a / $b) * 1000 | round / 1000) end;
  def target($name; $value; $op; $limit; $detail):
    {name: $name, value: $value, op: $op, limit: $limit, detail: $detail,
     status: (if $value == null then "NOT MEASURED"
              elif ($op == ">=" and $value >= $limit) or ($op == "<=" and $value <= $limit) then "PASS"
              else "MISS" end)};
{
  commit: $commit, dirty_worktree: $dirty, date: $date, kernel: $kernel,
  host: {cpus: ($cpus | tonumber), loadavg_at_end: $load, workdir_fs: $fs},
  params: {size: $size, fio_runtime_s: $runtime, workdir: $workdir, rss_disk_size: $rss_size,
           rss_data_written: $rss_write, daemon_java_opts: $daemon_opts, rss_alt_daemon_java_opts: $rss_alt_opts},
  tools: {fio: $fio, qemu: $qemu, nbdfuse: $nbdfuse, java: $java},
  table: [ratio_metrics[] as $k
          | {metric: $k,
             unit: ([$m[] | select(.metric == $k and .unit != "") | .unit] | first // ""),
             rows: [rows[] as $r | {row: $r, value: val($r; $k), ratio_to_raw: div(val($r; $k); val("raw"; $k)),
                                    ratio_to_peer: div(val($r; $k); val("peer"; $k)),
                                    ratio_to_ceiling: (ceiling_of($r) as $c | if $c == null then null else div(val($r; $k); val($c; $k)) end)}]}],
  targets: [
    target("kernel-loop seq write / raw"; div(val("kernel-loop"; "seq_write"); val("raw"; "seq_write")); ">="; 0.9; "dd 1 MiB O_DIRECT write through losetup --direct-io=on"),
    target("kernel-loop seq read / raw"; div(val("kernel-loop"; "seq_read"); val("raw"; "seq_read")); ">="; 0.9; "dd 1 MiB O_DIRECT read through losetup --direct-io=on, caches dropped"),
    target("kernel-loop 4k rand write QD16 / raw"; div(val("kernel-loop"; "rand_write"); val("raw"; "rand_write")); ">="; 0.8; "fio libaio 4 KiB, iodepth 16"),
    target("kernel-loop 4k rand read QD16 / raw"; div(val("kernel-loop"; "rand_read"); val("raw"; "rand_read")); ">="; 0.8; "fio libaio 4 KiB, iodepth 16, caches dropped"),
    target("kernel-loop 4k rand write QD16 / peer"; div(val("kernel-loop"; "rand_write"); val("peer"; "rand_write")); ">="; 5; "vs the qemu-nbd+nbdfuse file"),
    target("kernel-loop 4k rand read QD16 / peer"; div(val("kernel-loop"; "rand_read"); val("peer"; "rand_read")); ">="; 5; "vs the qemu-nbd+nbdfuse file"),
    target("kernel-loop 4k rand read QD1 / raw"; div(val("kernel-loop"; "rand_read_qd1"); val("raw"; "rand_read_qd1")); ">="; 0.5; "fio libaio 4 KiB, iodepth 1, caches dropped"),
    target("kernel-loop FUSE requests in flight, rand write QD16 (fusectl max)"; val("kernel-loop"; "rand_write_fuse_inflight_max"); ">="; 8; "/sys/fs/fuse/connections/N/waiting every 20 ms"),
    target("kernel-loop FUSE requests in flight, rand read QD16 (fusectl max)"; val("kernel-loop"; "rand_read_fuse_inflight_max"); ">="; 8; "/sys/fs/fuse/connections/N/waiting every 20 ms"),
    target("BAT page writes per GiB, sequential write (kernel-loop)"; val("kernel-loop"; "bat_page_writes_per_gib"); "<="; 16; "DiskStats.mdPageWrites delta over the seq write"),
    target("daemon peak RSS, \($rss_size) disk (MiB)"; val("rss-1t"; "daemon_peak_rss"); "<="; 256; "VmHWM after writing \($rss_write) spread over the disk and \($runtime) s of 4k random writes"),
    target("daemon peak RSS, \($rss_size) disk, daemon JVM with \($rss_alt_opts) (MiB)"; val("rss-1t-alt"; "daemon_peak_rss"); "<="; 256; "the same scenario again with these extra options (row rss-1t-alt)"),
    target("seed du after init -s 10G (MiB)"; (val("seed"; "du_after_init") | if . == null then null else (. / 1048576 * 10 | round / 10) end); "<="; 9.1; "seeds/000 after the patch: 9.1M"),
    target("seed du after 1 GiB write + umount (MiB)"; (val("seed"; "du_after_write") | if . == null then null else (. / 1048576 * 10 | round / 10) end); "<="; 1177.6; "seeds/000 after the patch: 1.1G (du -h rounds up: < 1.15 GiB)"),
    target("seed du after rm + fstrim + umount, minus after init (MiB)"; (if val("seed"; "du_after_trim") == null or val("seed"; "du_after_init") == null then null else ((val("seed"; "du_after_trim") - val("seed"; "du_after_init")) / 1048576 * 10 | round / 10) end); "<="; 1; "seeds/000 after the patch: back to the size after init (9.1M)")
  ],
  reported: [
    {name: "kernel-loop daemon CPU per 4 KiB random write (us)", value: val("kernel-loop"; "rand_write_daemon_cpu_us_per_op")},
    {name: "kernel-loop daemon CPU per 4 KiB random read (us)", value: val("kernel-loop"; "rand_read_daemon_cpu_us_per_op")},
    {name: "jnr-fuse-loop daemon CPU per 4 KiB random write (us)", value: val("jnr-fuse-loop"; "rand_write_daemon_cpu_us_per_op")},
    {name: "jnr-fuse-loop daemon CPU per 4 KiB random read (us)", value: val("jnr-fuse-loop"; "rand_read_daemon_cpu_us_per_op")},
    {name: "peer daemons' CPU per 4 KiB random write (us)", value: val("peer"; "rand_write_daemon_cpu_us_per_op")},
    {name: "kernel-loop requests in flight (the daemon's own maximum)", value: val("kernel-loop"; "frontend_inflight_max")},
    {name: "jnr-fuse-loop requests in flight, rand read QD16 (fusectl max)", value: val("jnr-fuse-loop"; "rand_read_fuse_inflight_max")}
  ],
  metrics: $m
}
