#!/bin/sh
# Out-of-memory injection: build tests/oom/oom.c and run it against an
# extension build, with a container to snapshot.
#
#   tests/oom/run.sh                     build/ps.so, both modes, both phases
#   tests/oom/run.sh --strict            WARN lines count as failures
#   OOM_EXT=build/asan/ps.so OOM_BIN=build/asan/oom tests/oom/run.sh
#                                        another build (tests/sanitize/asan.sh)
#
# The container: `unshare --fork --kill-child --pid --mount --mount-proc --user
# --map-root-user sleep 1000`, whose sleep (unshare's child, pid 1 inside)
# is passed to build/oom, which then also runs SELECT * FROM ps(PID) and a
# pidns IN (NULL, PID) query. Without unshare (or where user namespaces are
# refused) the container queries are skipped, with a note. Joining the
# container needs root (CAP_SYS_ADMIN, CAP_SYS_PTRACE).
#
# Extra arguments go to build/oom (--mode=, --phase=, --from=, --to=, -v).
# Exit status: build/oom's (0 when no check failed).
set -eu
cd "$(dirname "$0")/../.."

EXT=${OOM_EXT:-build/ps.so}
BIN=${OOM_BIN:-build/oom}
if [ -z "${OOM_BIN:-}" ]; then
  mkdir -p build
  ${CC:-cc} -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra tests/oom/oom.c -lsqlite3 -o "$BIN"
fi
[ -f "$EXT" ] || { echo "oom: $EXT is missing (run make)" >&2; exit 2; }

# The container: unshare forks sleep; its pid is unshare's only child.
UNSHARE_PID=
cleanup() {
  if [ -n "$UNSHARE_PID" ]; then
    kill -KILL "$UNSHARE_PID" 2>/dev/null || true
    wait "$UNSHARE_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM
CPID=
if command -v unshare >/dev/null 2>&1; then
  unshare --fork --kill-child --pid --mount --mount-proc --user --map-root-user sleep 1000 </dev/null &
  UNSHARE_PID=$!
  i=0
  while [ $i -lt 100 ]; do
    CPID=$(awk '{print $1}' "/proc/$UNSHARE_PID/task/$UNSHARE_PID/children" 2>/dev/null)
    # wait until the child has exec'ed sleep (it is unshare's copy before)
    if [ -n "$CPID" ] && [ "$(cat "/proc/$CPID/comm" 2>/dev/null)" = sleep ]; then break; fi
    CPID=
    i=$((i + 1))
    sleep 0.05
  done
  [ -n "$CPID" ] || echo "oom: could not start a container (unshare --user --pid); its queries are skipped"
fi

# The container's sleep dies with unshare (--kill-child), and with it its
# PID namespace: cleanup kills unshare only, by its pid.
if [ -n "$CPID" ]; then
  "$BIN" "$@" "$EXT" "$CPID"
else
  "$BIN" "$@" "$EXT"
fi
