#!/usr/bin/env bash
# realploop.sh VERB ARGS... : run the real (Debian 12) ploop 1.15 userspace tool, offline, as an oracle.
# (The project's copy of ../shared/tools/realploop.sh, used by RealPloopIT in CI; .ci/setup installs gcc.)
#   e.g. realploop.sh init -s 1G -t none -v 2 /tmp/x/root.hds ; realploop.sh check -d /tmp/x/root.hds
#   REALPLOOP_BIN=ploop-balloon realploop.sh ...   runs ploop-balloon instead.
# Use absolute paths. Only offline verbs work (no ploop kernel module, no /dev/ploop*). Needs gcc (for the
# small LD_PRELOAD shim below) and apt-get download access the first time; caches under /var/tmp.
#
# Set-up it does (idempotent; nothing system-wide):
# 1. Debian packages ploop + libploop1 (1.15-12+b1) unpacked under $REALPLOOP_ROOT
#    (default /var/tmp/jploop-realploop/root); if absent, `apt-get download` + `dpkg-deb -x` them.
# 2. Stack padding: libploop 1.15's get_basedir() does memcpy(out, path, PATH_MAX-19) instead of a
#    string copy, reading ~4 KiB past the path. A path from argv sits in the argv/env string area at
#    the top of the stack; with a small environment the read runs off the stack end -> SIGSEGV in
#    __memcpy_avx_unaligned_erms from ploop_create_image()/DiskDescriptor loading. An 8 KiB env
#    variable placed after argv makes the over-read harmless.
# 3. LD_PRELOAD shim redirecting /sys/module/ploop, /var/lock/ploop, /proc/vz to a fake root
#    ($REALPLOOP_FAKEROOT, default /var/tmp/jploop-realploop/shim/fake) holding
#    sys/module/ploop/parameters/large_disk_support, so ploop_is_large_disk_supported() is true and
#    v2 images are allowed (without it 1.15 silently makes v1 and refuses `-v 2`).
#    REALPLOOP_NOSHIM=1 disables the shim (then `init` defaults to v1, as on a host without ploop.ko).
set -euo pipefail
root="${REALPLOOP_ROOT:-/var/tmp/jploop-realploop/root}"
bin="${REALPLOOP_BIN:-ploop}"
shimdir="${REALPLOOP_SHIMDIR:-/var/tmp/jploop-realploop/shim}"
export REALPLOOP_FAKEROOT="${REALPLOOP_FAKEROOT:-$shimdir/fake}"
if [[ ! -x "$root/usr/sbin/$bin" ]]; then
  debdir="$(dirname "$root")"
  mkdir -p "$root"
  if ! ls "$debdir"/ploop_*.deb "$debdir"/libploop1_*.deb >/dev/null 2>&1; then
    (cd "$debdir" && apt-get download ploop libploop1 >&2)
  fi
  for d in "$debdir"/ploop_*.deb "$debdir"/libploop1_*.deb; do dpkg-deb -x "$d" "$root"; done
fi
libdir="$root/usr/lib/x86_64-linux-gnu"
if [[ ! -e "$libdir/libploop.so.1" ]]; then
  so="$(ls "$libdir"/libploop.so.1.* | head -1)"
  ln -sf "$(basename "$so")" "$libdir/libploop.so.1"
fi
if [[ -z "${REALPLOOP_NOSHIM:-}" && ! -f "$shimdir/shim.so" ]]; then
  mkdir -p "$shimdir"
  cat > "$shimdir/shim.c" <<'CEOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>
static const char *prefixes[] = { "/sys/module/ploop", "/var/lock/ploop", "/proc/vz", NULL };
static const char *map(const char *p, char *buf, size_t n)
{
	const char *root = getenv("REALPLOOP_FAKEROOT");
	if (!p || !root) return p;
	for (int i = 0; prefixes[i]; i++) {
		size_t l = strlen(prefixes[i]);
		if (strncmp(p, prefixes[i], l) == 0 && (p[l] == 0 || p[l] == '/')) {
			snprintf(buf, n, "%s%s", root, p);
			return buf;
		}
	}
	return p;
}
#define REAL(name) static __typeof__(name) *real_##name; if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name)
int access(const char *p, int m) { char b[4096]; REAL(access); return real_access(map(p, b, sizeof b), m); }
int open(const char *p, int f, ...) { char b[4096]; mode_t mo = 0; va_list a; va_start(a, f); if (f & (O_CREAT|O_TMPFILE)) mo = va_arg(a, mode_t); va_end(a); REAL(open); return real_open(map(p, b, sizeof b), f, mo); }
int open64(const char *p, int f, ...) { char b[4096]; mode_t mo = 0; va_list a; va_start(a, f); if (f & (O_CREAT|O_TMPFILE)) mo = va_arg(a, mode_t); va_end(a); REAL(open64); return real_open64(map(p, b, sizeof b), f, mo); }
FILE *fopen(const char *p, const char *m) { char b[4096]; REAL(fopen); return real_fopen(map(p, b, sizeof b), m); }
FILE *fopen64(const char *p, const char *m) { char b[4096]; REAL(fopen64); return real_fopen64(map(p, b, sizeof b), m); }
int stat(const char *p, struct stat *s) { char b[4096]; REAL(stat); return real_stat(map(p, b, sizeof b), s); }
int stat64(const char *p, struct stat64 *s) { char b[4096]; REAL(stat64); return real_stat64(map(p, b, sizeof b), s); }
int lstat(const char *p, struct stat *s) { char b[4096]; REAL(lstat); return real_lstat(map(p, b, sizeof b), s); }
int lstat64(const char *p, struct stat64 *s) { char b[4096]; REAL(lstat64); return real_lstat64(map(p, b, sizeof b), s); }
DIR *opendir(const char *p) { char b[4096]; REAL(opendir); return real_opendir(map(p, b, sizeof b)); }
int mkdir(const char *p, mode_t m) { char b[4096]; REAL(mkdir); return real_mkdir(map(p, b, sizeof b), m); }
CEOF
  gcc -O2 -shared -fPIC -o "$shimdir/shim.so.tmp" "$shimdir/shim.c" -ldl && mv "$shimdir/shim.so.tmp" "$shimdir/shim.so"
fi
if [[ -z "${REALPLOOP_NOSHIM:-}" ]]; then
  mkdir -p "$REALPLOOP_FAKEROOT/sys/module/ploop/parameters" "$REALPLOOP_FAKEROOT/var/lock/ploop"
  [[ -f "$REALPLOOP_FAKEROOT/sys/module/ploop/parameters/large_disk_support" ]] ||
    echo Y > "$REALPLOOP_FAKEROOT/sys/module/ploop/parameters/large_disk_support"
  export LD_PRELOAD="$shimdir/shim.so${LD_PRELOAD:+:$LD_PRELOAD}"
fi
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export REALPLOOP_STACK_PAD="$(head -c 8192 /dev/zero | tr '\0' P)"
exec "$root/usr/sbin/$bin" "$@"
