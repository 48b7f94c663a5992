#!/bin/sh
# AddressSanitizer + UndefinedBehaviorSanitizer run of everything:
#
#   tests/sanitize/asan.sh              build, then every step below
#   tests/sanitize/asan.sh --self-test  only check that an injected heap
#                                       overflow and an injected UB are caught
#
# 1. build/asan/ps.so: the extension built with -fsanitize=address,undefined.
# 2. build/asan/test_unit: the C unit tests, same flags, leak checks on.
# 3. The whole test suite (tests/run.py) against build/asan/ps.so
#    (PSNAP_EXT, which tests/lib.py honours), with gcc's libasan and
#    libubsan preloaded into python, and so into every process a test
#    starts: the sqlite3 shell that loads the asan build needs them. Not
#    into procps (ps, pgrep), which deadlocks at start under a preloaded
#    libasan (in textdomain()): build/asan/bin, first in PATH, has wrappers
#    that drop LD_PRELOAD. Leak checks off there: python leaks by design.
# 4. build/asan/oom (tests/oom/oom.c, same flags) against build/asan/ps.so,
#    leak checks on, through tests/oom/run.sh (with a container).
#
# Every sanitizer report of every process goes to a file under
# build/asan/log: a report in a subprocess whose exit status a test ignores
# still fails the run. ASan honours ASAN_OPTIONS=log_path; gcc's libubsan,
# loaded next to libasan, ignores UBSAN_OPTIONS=log_path and writes to
# stderr, so a preloaded shim (build/asan/ubsan_log.so) sets libubsan's
# report path from UBSAN_LOG_PATH. A self-test first checks that an
# injected heap overflow and an injected shift overflow leave a report, in a
# subprocess of python and in a program run directly. Exit status 1 when a
# step failed or any report was written (the reports are printed), 2 when
# the build failed.
#
# Environment: CC (default gcc: the preloaded runtimes are gcc's), PYTHON
# (default: python3 when its sqlite3 module can load extensions, else
# /usr/bin/python3), OOM_ARGS (extra arguments to build/oom, e.g.
# --mode=once to halve its time), SUITE_TIMEOUT (seconds for the test
# suite, default 1200: a hang fails the run instead of stopping it).
set -u
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
CC=${CC:-gcc}
OUT=build/asan
LOG=$ROOT/$OUT/log
SAN="-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer"
LIBS="-lcap -lseccomp -lpthread"

ASAN_SO=$($CC -print-file-name=libasan.so)
UBSAN_SO=$($CC -print-file-name=libubsan.so)
for f in "$ASAN_SO" "$UBSAN_SO"; do
  [ -f "$f" ] || { echo "asan: $f not found (gcc's sanitizer runtimes: apt-get install gcc)" >&2; exit 2; }
done
# Every step: stop at the first error, reports to files (asan.PID, ubsan.PID).
AS_OPTS="abort_on_error=1:log_path=$LOG/asan"
UB_OPTS="print_stacktrace=1:halt_on_error=1:log_path=$LOG/ubsan"
export UBSAN_LOG_PATH="$LOG/ubsan"
SHIM=$ROOT/$OUT/ubsan_log.so
PRELOAD="$ASAN_SO $UBSAN_SO $SHIM"

mkdir -p "$OUT"
rm -rf "$LOG"
mkdir -p "$LOG"
failed=0

step() { printf '\n== %s\n' "$*"; }

# The shim that points libubsan's reports at UBSAN_LOG_PATH (see above).
build_shim() {
  cat >"$OUT/ubsan_log.c" <<'EOF'
/* Preloaded after libasan and libubsan: gcc's libubsan, loaded with
   libasan, ignores UBSAN_OPTIONS=log_path; set its report path here. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
__attribute__((constructor)) static void ubsan_log_path(void) {
  const char *path = getenv("UBSAN_LOG_PATH");
  void *h = dlopen("libubsan.so.1", RTLD_NOLOAD | RTLD_LAZY);
  if (!path || !*path || !h) return;
  void (*set)(const char *) = (void (*)(const char *))dlsym(h, "__sanitizer_set_report_path");
  if (set) set(path);
}
EOF
  $CC -O1 -shared -fPIC -o "$SHIM" "$OUT/ubsan_log.c" -ldl
}

# procps deadlocks at start under a preloaded libasan: wrappers without it.
build_wrappers() {
  mkdir -p "$OUT/bin"
  for tool in ps pgrep pkill; do
    real=$(command -v $tool) || continue
    # exec -a: the same argv[0] as without the wrapper (tests look for their own ps)
    printf '#!/bin/bash\n# procps deadlocks under a preloaded libasan (tests/sanitize/asan.sh)\nunset LD_PRELOAD\nexec -a %s %s "$@"\n' \
      "$tool" "$real" >"$OUT/bin/$tool"
    chmod +x "$OUT/bin/$tool"
  done
}

# Print the reports, if any; false when there are some.
reports() {
  n=0
  for f in "$LOG"/*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    echo "---- $f"
    cat "$f"
  done
  [ $n -eq 0 ]
}

# A sanitizer error in a child of python under the environment of step 3,
# and in a program run as build/asan/oom is, must leave a report (and, run
# directly, a failing exit status).
self_test() {
  st=$OUT/selftest
  mkdir -p "$st"
  cat >"$st/overflow.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  char *p = malloc(8);
  memset(p, 'x', 8 + (size_t)argc); /* heap-buffer-overflow by argc bytes */
  int r = p[0] + (argc > 5 ? argv[0][0] : 0);
  free(p);
  return r == 0;
}
EOF
  cat >"$st/shift.c" <<'EOF'
int main(int argc, char **argv) {
  (void)argv;
  int s = 31 + argc; /* shift exponent 32 is too large for a 32-bit int */
  return (1 << s) == 0;
}
EOF
  ok=1
  build_shim || return 1
  # shellcheck disable=SC2086
  $CC $SAN -o "$st/overflow" "$st/overflow.c" && $CC $SAN -o "$st/shift" "$st/shift.c" || return 1
  for prog in overflow shift; do
    rm -f "$LOG"/*
    env LD_PRELOAD="$PRELOAD" \
      ASAN_OPTIONS="detect_leaks=0:$AS_OPTS" UBSAN_OPTIONS="$UB_OPTS" \
      "$PY" -c "import subprocess; subprocess.run(['$st/$prog'])" >/dev/null 2>&1
    if ls "$LOG"/* >/dev/null 2>&1; then
      echo "self-test: $prog in a subprocess of python: caught ($(cd "$LOG" && echo *))"
    else
      echo "self-test: $prog in a subprocess of python: NOT caught"
      ok=0
    fi
    rm -f "$LOG"/*
    env LD_PRELOAD="$PRELOAD" ASAN_OPTIONS="detect_leaks=1:$AS_OPTS" UBSAN_OPTIONS="$UB_OPTS" "$st/$prog" \
      >/dev/null 2>&1
    rc=$?
    if [ $rc -ne 0 ] && ls "$LOG"/* >/dev/null 2>&1; then
      echo "self-test: $prog run directly: caught (exit status $rc)"
    else
      echo "self-test: $prog run directly: NOT caught (exit status $rc)"
      ok=0
    fi
  done
  rm -f "$LOG"/*
  [ $ok -eq 1 ]
}

# A python whose sqlite3 module can load extensions (pyenv's may not).
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for p in python3 /usr/bin/python3; do
    if $p -c 'import sqlite3; sqlite3.connect(":memory:").enable_load_extension' 2>/dev/null; then
      PY=$p
      break
    fi
  done
  [ -n "$PY" ] || { echo "asan: no python3 whose sqlite3 module can load extensions" >&2; exit 2; }
fi

if [ "${1:-}" = --self-test ]; then
  self_test && echo "self-test: ok" && exit 0
  echo "self-test: FAILED"
  exit 1
fi

step "build: the tests' helpers and build/test_unit (make), then $OUT/ps.so, test_unit, oom"
make -s deps-test all helpers build/test_unit build/lender_blob.c || { echo "asan: make failed" >&2; exit 2; }
# "0.1.0 (asan)": the tests check that ps_version() starts with VERSION
VER="$(cat VERSION) (asan)"
# shellcheck disable=SC2086
$CC $SAN -std=gnu11 -D_GNU_SOURCE -DPSNAP_VERSION="\"$VER\"" -fPIC -fvisibility=hidden -Isrc -shared -Wl,-z,nodelete \
  -o "$OUT/ps.so" src/*.c ext/*.c build/lender_blob.c $LIBS || { echo "asan: build of $OUT/ps.so failed" >&2; exit 2; }
# shellcheck disable=SC2086
$CC $SAN -std=gnu11 -D_GNU_SOURCE -DPSNAP_VERSION="\"$VER\"" -Isrc -o "$OUT/test_unit" tests/unit/*.c src/*.c build/lender_blob.c \
  $LIBS || { echo "asan: build of $OUT/test_unit failed" >&2; exit 2; }
# shellcheck disable=SC2086
$CC $SAN -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -o "$OUT/oom" tests/oom/oom.c -lsqlite3 ||
  { echo "asan: build of $OUT/oom failed" >&2; exit 2; }
build_shim || { echo "asan: build of $SHIM failed" >&2; exit 2; }
build_wrappers

step "self-test: the sanitizers catch an injected heap overflow and an injected UB"
self_test || { echo "asan: the self-test failed: reports would be missed" >&2; failed=1; }

step "unit tests: $OUT/test_unit (leak checks on)"
LD_PRELOAD="$PRELOAD" ASAN_OPTIONS="detect_leaks=1:$AS_OPTS" UBSAN_OPTIONS="$UB_OPTS" "$OUT/test_unit" \
  >"$OUT/test_unit.out" 2>&1
rc=$?
echo "$(grep -c '^ok' "$OUT/test_unit.out") unit tests ok"
grep '^not ok' "$OUT/test_unit.out"
[ $rc -eq 0 ] || { echo "asan: $OUT/test_unit exited $rc"; tail -5 "$OUT/test_unit.out"; failed=1; }

step "test suite: PSNAP_EXT=$ROOT/$OUT/ps $PY tests/run.py (libasan and libubsan preloaded)"
env PSNAP_EXT="$ROOT/$OUT/ps" LD_PRELOAD="$PRELOAD" PATH="$ROOT/$OUT/bin:$PATH" \
  ASAN_OPTIONS="detect_leaks=0:$AS_OPTS" UBSAN_OPTIONS="$UB_OPTS" \
  timeout -k 10 "${SUITE_TIMEOUT:-1200}" "$PY" tests/run.py
rc=$?
[ $rc -ne 124 ] || echo "asan: the test suite timed out after ${SUITE_TIMEOUT:-1200} s"
[ $rc -eq 0 ] || { echo "asan: tests/run.py exited $rc"; failed=1; }

step "out-of-memory injection: $OUT/oom $OUT/ps.so (leak checks on)"
# shellcheck disable=SC2086
env OOM_EXT="$OUT/ps.so" OOM_BIN="$OUT/oom" LD_PRELOAD="$PRELOAD" \
  ASAN_OPTIONS="detect_leaks=1:$AS_OPTS" UBSAN_OPTIONS="$UB_OPTS" \
  tests/oom/run.sh ${OOM_ARGS:-} >"$OUT/oom.out" 2>&1
rc=$?
grep -v '^  ' "$OUT/oom.out" | grep -v '^WARN'
[ $rc -eq 0 ] || { echo "asan: oom exited $rc (every line: $OUT/oom.out)"; failed=1; }

step "sanitizer reports"
if reports; then
  echo "none"
else
  failed=1
fi
if [ $failed -eq 0 ]; then
  echo "asan: ok"
else
  echo "asan: FAILED"
fi
exit $failed
