#!/usr/bin/env bash
# The ps_sockets benchmark: every socket of every process, with its process,
# against ss -tanp, with N extra processes and S open TCP sockets.
#
#   bench/sockets.sh            or, from bench/run.sh, after its own phases
#   N=2000 S=10000 RUNS=15 EXT=build/ps bench/sockets.sh
#
# Environment (all optional):
#   N        extra sleeping processes (bench/sleepers; default 2000)
#   S        open TCP sockets on 127.0.0.1 (bench/sockpairs: 20 processes of
#            listeners and connected pairs; default 10000)
#   RUNS     timed runs per case (default 15), WARMUP untimed ones first (2)
#   EXT      the extension to load (default build/ps)
#   SOCK_B   where to build the helpers (default build/bench)
#   SQLITE3  the sqlite3 shell (default sqlite3)
#
# Cases, timed round-robin so drift hits them alike:
#   command     ss -tanp                                   (the baseline)
#   command     sqlite3 :memory: -cmd '.load EXT' 'SELECT * FROM ps_sockets'
#   command     the same, tcp only (WHERE proto = 'tcp': ss -t's rows)
#   in-process  SELECT * FROM ps_sockets (qtime: no shell start-up)
# Target (informational, never fails the run): the sqlite3 command within
# 2x of ss -tanp's median. Every process it starts is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-2000}
S=${S:-10000}
RUNS=${RUNS:-15}
WARMUP=${WARMUP:-2}
EXT=${EXT:-build/ps}
B=${SOCK_B:-build/bench}
SQLITE3=${SQLITE3:-sqlite3}

say() { printf 'sockets: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

for v in N S RUNS WARMUP; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number, not '${!v}'"
done
[ "$S" -ge 20 ] || die "S must be at least 20"
[ -f "$EXT.so" ] || die "$EXT.so is missing: run make first"
command -v ss >/dev/null || die "no ss (apt-get install iproute2)"
command -v "$SQLITE3" >/dev/null || die "no sqlite3 shell (apt-get install sqlite3)"

mkdir -p "$B"
CCF=(-O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra)
${CC:-cc} "${CCF[@]}" -pthread -o "$B/sleepers" bench/sleepers.c
${CC:-cc} "${CCF[@]}" -o "$B/sockpairs" bench/sockpairs.c
${CC:-cc} "${CCF[@]}" -DFLOOR_NO_MAIN -o "$B/qtime" bench/qtime.c bench/floor.c -lsqlite3
${CC:-cc} "${CCF[@]}" -o "$B/cmdtime" bench/cmdtime.c

TMP=$(mktemp -d /tmp/sqlite-ps-sockets.XXXXXX)
STARTED=()
cleanup() {
  local rc=$? p i
  trap - EXIT INT TERM HUP
  for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${STARTED[@]}"; do
    i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# start OUT CMD...: run CMD in the background until it prints "ready"
start() {
  local out=$1 i=0
  shift
  "$@" >"$out" 2>"$out.err" &
  local p=$!
  STARTED+=("$p")
  until grep -q '^ready' "$out" 2>/dev/null; do
    kill -0 "$p" 2>/dev/null || die "$* failed: $(head -c 200 "$out.err")"
    [ $i -lt 3000 ] || die "$* did not get ready"
    sleep 0.1
    i=$((i + 1))
  done
}

say "starting $N sleeping processes and $S TCP sockets"
start "$TMP/sleepers" "$B/sleepers" "$N"
start "$TMP/sockpairs" "$B/sockpairs" "$S"
NPROC=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
SS_ROWS=$(ss -tanpH | wc -l)
[ "$SS_ROWS" -ge "$S" ] || die "ss -tanp lists $SS_ROWS sockets, expected at least $S"

SQL_ALL="SELECT * FROM ps_sockets"
SQL_TCP="SELECT * FROM ps_sockets WHERE proto = 'tcp'"
SQ=("$SQLITE3" :memory: -cmd ".load $EXT")
ROWS_ALL=$("${SQ[@]}" "SELECT count(*) FROM ps_sockets")
ROWS_TCP=$("${SQ[@]}" "SELECT count(*) FROM ps_sockets WHERE proto = 'tcp'")

say "commands: cmdtime -n $RUNS -w 1 (3 commands, round-robin)"
"$B/cmdtime" -n "$RUNS" -w 1 -- ss -tanp --- "${SQ[@]}" "$SQL_ALL" --- "${SQ[@]}" "$SQL_TCP" >"$TMP/c.tsv"
say "in-process: qtime -n $RUNS -w $WARMUP"
"$B/qtime" -n "$RUNS" -w "$WARMUP" -e "$EXT" "sql:$SQL_ALL" >"$TMP/q.tsv" || true

col() { sed -n "${1}p" "$2" | cut -f"$3"; }
SS_MED=$(col 1 "$TMP/c.tsv" 1) SS_MIN=$(col 1 "$TMP/c.tsv" 2) SS_RSS=$(col 1 "$TMP/c.tsv" 3)
ALL_MED=$(col 2 "$TMP/c.tsv" 1) ALL_MIN=$(col 2 "$TMP/c.tsv" 2) ALL_RSS=$(col 2 "$TMP/c.tsv" 3)
TCP_MED=$(col 3 "$TMP/c.tsv" 1) TCP_MIN=$(col 3 "$TMP/c.tsv" 2) TCP_RSS=$(col 3 "$TMP/c.tsv" 3)
Q_MED=$(col 1 "$TMP/q.tsv" 1) Q_MIN=$(col 1 "$TMP/q.tsv" 2) Q_ROWS=$(col 1 "$TMP/q.tsv" 3)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }
fmt() { awk -v x="$1" 'BEGIN { if (x >= 100) printf "%.1f", x; else if (x >= 10) printf "%.2f", x; else printf "%.3f", x }'; }
for v in SS_MED SS_MIN ALL_MED ALL_MIN TCP_MED TCP_MIN; do printf -v "$v" '%s' "$(fmt "${!v}")"; done
[ "$Q_MED" = ERROR ] || { Q_MED=$(fmt "$Q_MED"); Q_MIN=$(fmt "$Q_MIN"); }

echo
echo "ps_sockets benchmark ($(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: $(nproc) cpus, Linux $(uname -r); $(ss --version 2>&1 | head -1)"
echo "setup:   N=$N extra processes ($NPROC in /proc), S=$S TCP sockets (ss -tanp: $SS_ROWS rows); RUNS=$RUNS; EXT=$EXT"
echo "command: N=$N S=$S RUNS=$RUNS bench/sockets.sh"
echo
printf '  %-58s %10s %10s %8s %8s %7s\n' "case" "median ms" "min ms" "x ss" "RSS KiB" "rows"
printf '  %-58s %10s %10s %8s %8s %7s\n' "command     ss -tanp" "$SS_MED" "$SS_MIN" "1.00x" "$SS_RSS" "$SS_ROWS"
printf '  %-58s %10s %10s %8s %8s %7s\n' "command     sqlite3: SELECT * FROM ps_sockets" "$ALL_MED" "$ALL_MIN" \
  "$(ratio "$ALL_MED" "$SS_MED")" "$ALL_RSS" "$ROWS_ALL"
printf '  %-58s %10s %10s %8s %8s %7s\n' "command     sqlite3: ... WHERE proto = 'tcp'" "$TCP_MED" "$TCP_MIN" \
  "$(ratio "$TCP_MED" "$SS_MED")" "$TCP_RSS" "$ROWS_TCP"
if [ "$Q_MED" = ERROR ]; then
  printf '  %-58s %s\n' "in-process  SELECT * FROM ps_sockets" "$(col 1 "$TMP/q.tsv" 2)"
else
  printf '  %-58s %10s %10s %8s %8s %7s\n' "in-process  SELECT * FROM ps_sockets" "$Q_MED" "$Q_MIN" \
    "$(ratio "$Q_MED" "$SS_MED")" "-" "$Q_ROWS"
fi
echo
v=$(awk -v a="$ALL_MED" -v b="$SS_MED" 'BEGIN { print (a <= 2 * b) ? "PASS" : "MISS" }')
printf '  %-4s  %-62s %s\n' "$v" "SELECT * FROM ps_sockets (sqlite3) within 2x of ss -tanp" \
  "$(ratio "$ALL_MED" "$SS_MED") = $ALL_MED / $SS_MED ms (by minimums $(ratio "$ALL_MIN" "$SS_MIN"))"
