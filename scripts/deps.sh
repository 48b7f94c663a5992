#!/bin/sh
# Install the Debian packages the build, the tests or the benchmark need, but
# only those that are missing. Used by `make deps` and the targets that need
# packages (run, test, bench, readme, lint, oom, asan, valgrind, fuzz), and by
# .ci/run; never by a plain `make`. Runs apt-get directly as root, through
# sudo otherwise.
#
#   scripts/deps.sh build   compiler, SQLite, libcap, libseccomp headers
#   scripts/deps.sh test    build + procps, python3, sqlite3 shell, strace, clang,
#                           podman + runc + busybox-static (ps_top against podman top),
#                           python3-psutil (the oracle of the I/O columns),
#                           lsof + iproute2 (ps_fds, ps_sockets against lsof and ss),
#                           golang-go + golang-github-mattn-go-sqlite3-dev (a Go
#                           client reads every table: tests/clients/utf8_check.go)
#   scripts/deps.sh bench   test (the benchmark compares with psutil too)
#   scripts/deps.sh lint    build + clang-format, clang-tidy, cppcheck
set -eu
what=${1:-build}
need=""
have_header() { printf '#include <%s>\n' "$1" | ${CC:-cc} -E -x c - >/dev/null 2>&1; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }
add() { need="$need $1"; }

have_cmd cc || add gcc
have_cmd make || add make
have_cmd pkg-config || add pkg-config
have_header sqlite3ext.h || add libsqlite3-dev
have_header sys/capability.h || add libcap-dev
have_header seccomp.h || add libseccomp-dev
have_cmd sqlite3 || add sqlite3
case $what in
test|bench)
  have_cmd ps || add procps
  [ -x /usr/bin/python3 ] || add python3
  have_cmd setpriv || add util-linux
  have_cmd capsh || add libcap2-bin
  have_cmd strace || add strace
  have_cmd clang || add clang
  [ -e /usr/share/zoneinfo/Asia/Kolkata ] || add tzdata
  # tests/test_podman.py: ps_top against podman top, containers run from a
  # busybox-static root filesystem; runc, as crun refuses hybrid cgroups
  have_cmd podman || add podman
  have_cmd runc || add runc
  have_cmd busybox || add busybox-static
  /usr/bin/python3 -c "import psutil" >/dev/null 2>&1 || add python3-psutil
  # tests/test_fds.py checks ps_fds and ps_sockets against lsof and ss (and
  # ip for a container's loopback); bench/sockets.sh times ss -tanp
  have_cmd lsof || add lsof
  have_cmd ss || add iproute2
  # tests/test_utf8.py: a Go program reads every table through database/sql
  # and mattn/go-sqlite3 (Debian's build links the system libsqlite3)
  have_cmd go || add golang-go
  [ -d /usr/share/gocode/src/github.com/mattn/go-sqlite3 ] || add golang-github-mattn-go-sqlite3-dev
  ;;
esac
case $what in
lint)
  have_cmd clang-tidy || add clang-tidy
  have_cmd clang-format || add clang-format
  have_cmd cppcheck || add cppcheck
  ;;
esac
[ -z "$need" ] && exit 0
echo "deps: installing:$need" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $need >&2
