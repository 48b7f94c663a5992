#!/bin/bash
# Valgrind (memcheck) run of the normal build, build/ps.so:
#
#   tests/sanitize/valgrind.sh
#
# 1. build/oom --no-fail build/ps.so PID: one iteration of every query of
#    tests/oom/oom.c (host, container, scans, errors) without injected
#    failures, under --leak-check=full --track-fds=yes. Passes when valgrind
#    reports no error, no definite or indirect leak, and only stdin, stdout
#    and stderr open at exit (every other fd is closed before valgrind
#    starts, so any other one is a leak).
# 2. The sqlite3 shell loading build/ps and running SELECT * FROM ps (and
#    the container, ps_namespaces, ps_descriptors): memory errors only (the
#    shell's own allocations are not ours to check for leaks).
#
# The container is the one of tests/oom/run.sh: `unshare --fork --kill-child
# --pid --mount --mount-proc --user --map-root-user sleep 1000`, whose sleep
# is the target; without it (no unshare, or user namespaces refused) the
# container queries are skipped, with a note.
# VALGRIND_EXT=path/ps.so checks another build (make still runs).
# Exit status 1 when a check failed, 2 when the build failed. Logs:
# build/valgrind/*.log.
set -u
cd "$(dirname "$0")/../.." || exit 2
OUT=build/valgrind
EXT=${VALGRIND_EXT:-build/ps.so}
mkdir -p "$OUT"
rm -f "$OUT"/*.log
failed=0

# valgrind is no build or test dependency (scripts/deps.sh): install it here
if ! command -v valgrind >/dev/null; then
  echo "valgrind: installing valgrind (apt-get)" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends valgrind; } >&2 ||
    { echo "valgrind: cannot install valgrind" >&2; exit 2; }
fi

echo "== build: make, build/oom"
make -s all || { echo "valgrind: make failed" >&2; exit 2; }
${CC:-cc} -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra tests/oom/oom.c -lsqlite3 -o build/oom ||
  { echo "valgrind: build of build/oom failed" >&2; exit 2; }

# The container (see above).
UNSHARE_PID=
CPID=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [ -n "$UNSHARE_PID" ]; then
    kill -KILL "$UNSHARE_PID" 2>/dev/null
    wait "$UNSHARE_PID" 2>/dev/null
  fi
}
trap cleanup EXIT
if command -v unshare >/dev/null; then
  unshare --fork --kill-child --pid --mount --mount-proc --user --map-root-user sleep 1000 </dev/null &
  UNSHARE_PID=$!
  for _ in $(seq 100); do
    c=$(awk '{print $1}' "/proc/$UNSHARE_PID/task/$UNSHARE_PID/children" 2>/dev/null)
    if [ -n "$c" ] && [ "$(cat "/proc/$c/comm" 2>/dev/null)" = sleep ]; then CPID=$c; break; fi
    sleep 0.05
  done
fi
[ -n "$CPID" ] || echo "valgrind: no container (unshare --user --pid failed): its queries are skipped"

# Run a command with only fds 0, 1 and 2 open: whatever the caller (a CI
# runner, a terminal multiplexer) left open would show as open at exit.
only_std_fds() {
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
    done
    exec "$@"
  )
}

echo
echo "== build/oom --no-fail $EXT ${CPID:-} under valgrind (errors, leaks, fds)"
log=$OUT/oom.log
only_std_fds valgrind --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --track-fds=yes --error-exitcode=1 --log-fd=2 \
  build/oom --no-fail "$EXT" ${CPID:+"$CPID"} >"$OUT/oom.out" 2>"$log"
rc=$?
cat "$OUT/oom.out"
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -1)
indirect=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -1)
fds=$(sed -n 's/.*FILE DESCRIPTORS: \([0-9]*\) open.*/\1/p' "$log" | tail -1)
echo "exit status $rc; errors: ${errors:-?}; definitely lost: ${definite:-0} bytes; indirectly lost:" \
  "${indirect:-0} bytes; fds open at exit: ${fds:-?} (3 expected)"
grep -q "All heap blocks were freed" "$log" && echo "all heap blocks were freed"
if [ "$rc" -ne 0 ] || [ "${errors:-x}" != 0 ] || [ "${definite:-0}" != 0 ] || [ "${indirect:-0}" != 0 ] ||
  [ "${fds:-x}" != 3 ]; then
  echo "valgrind: FAIL: build/oom --no-fail (the log: $log)"
  # the reports, without the banner
  grep -v -e '^==[0-9]*== *$' -e 'Copyright' -e 'Using Valgrind' -e 'Memcheck, a memory' "$log" | head -150
  failed=1
fi

echo
echo "== sqlite3 :memory: -cmd '.load ${EXT%.so}' under valgrind (errors only)"
sqls=("SELECT * FROM ps" "SELECT * FROM ps_descriptors" "SELECT * FROM ps_namespaces")
[ -n "$CPID" ] && sqls+=("SELECT * FROM ps($CPID)" "SELECT * FROM ps WHERE pidns IN (NULL, $CPID) AND pid = 1")
i=0
for sql in "${sqls[@]}"; do
  i=$((i + 1))
  log=$OUT/sqlite3-$i.log
  valgrind --error-exitcode=1 --leak-check=no --log-fd=2 \
    sqlite3 :memory: -cmd ".load ${EXT%.so}" "$sql" >"$OUT/sqlite3-$i.out" 2>"$log"
  rc=$?
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
  rows=$(wc -l <"$OUT/sqlite3-$i.out")
  echo "$sql: exit status $rc, $rows rows, errors: ${errors:-?}"
  if [ "$rc" -ne 0 ] || [ "${errors:-x}" != 0 ] || [ "$rows" -eq 0 ]; then
    echo "valgrind: FAIL: sqlite3 $sql (the log: $log)"
    grep -v -e '^==[0-9]*== *$' -e 'Copyright' -e 'Using Valgrind' -e 'Memcheck, a memory' "$log" | head -80
    failed=1
  fi
done

# The helper program that lends a container's names runs natively (valgrind
# does not follow its exec): under valgrind the container's root is named
# from its /etc/passwd, not left a number.
if [ -n "$CPID" ]; then
  log=$OUT/sqlite3-lend.log
  sql="SELECT user FROM ps($CPID) WHERE pid = 1"
  valgrind --error-exitcode=1 --leak-check=no --log-fd=2 \
    sqlite3 :memory: -cmd ".load ${EXT%.so}" "$sql" >"$OUT/sqlite3-lend.out" 2>"$log"
  rc=$?
  got=$(cat "$OUT/sqlite3-lend.out")
  echo "$sql: exit status $rc, user '$got' (want root: the names were lent)"
  if [ "$rc" -ne 0 ] || [ "$got" != root ]; then
    echo "valgrind: FAIL: names not lent under valgrind (the log: $log)"
    grep -v -e '^==[0-9]*== *$' -e 'Copyright' -e 'Using Valgrind' -e 'Memcheck, a memory' "$log" | head -40
    failed=1
  fi
fi

echo
if [ $failed -eq 0 ]; then echo "valgrind: ok"; else echo "valgrind: FAILED"; fi
exit $failed
