#!/usr/bin/env bash
# The sqlite-ps benchmark: the extension against ps(1), psutil and the cost
# of reading /proc (the "floor"), with N extra processes running.
#
#   bench/run.sh [N]          or   N=10000 RUNS=15 make bench
#
# Environment (all optional):
#   N        extra processes for the scans (default 2000)
#   N_SMALL  extra processes for the small `WHERE pid = X` run (default 100)
#   RUNS     timed runs per case (default 15); WARMUP untimed ones first (2)
#   CT_RUNS  timed runs per case of the container phase (default 41)
#   CT_SMALL small containers for the `containers JOIN ps` case (default 10)
#   CT_N     processes in the big container (default N)
#   LEND_MIB phase 3c: the resident memory (MiB) given to the host program
#            for the second run of the name-lending cases (default 1024)
#   SAMPLES  the sample = X values of phase 2c, in seconds (default "0.2 0.05")
#   OLD_REV  the commit before issue 10's columns (default c93de2f), built
#            into build/bench/old/ for phase 2d
#   OLD_REPEATS  qtime runs of phase 2d (default 3)
#   THR_P, THR_T  phase 4: THR_P processes of THR_T threads each (200, 10)
#   PYTHON   the Python that has psutil (default /usr/bin/python3)
#   SQLITE3  the sqlite3 shell (default sqlite3)
#
# Needs build/ps.so (make), cc, libsqlite3-dev, libcap-dev and libseccomp-dev
# (for the container helper), the sqlite3 shell, procps; psutil is optional.
# Every process it starts is killed on exit, Ctrl-C or failure.  See
# bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-${N:-2000}}
N_SMALL=${N_SMALL:-100}
RUNS=${RUNS:-15}
WARMUP=${WARMUP:-2}
CT_RUNS=${CT_RUNS:-41}
CT_SMALL=${CT_SMALL:-10}
CT_N=${CT_N:-$N}
SAMPLES=${SAMPLES:-0.2 0.05}
LEND_MIB=${LEND_MIB:-1024}
# OLD_REV: the parent of 58fd801 ("the sources a scan reads travel in
# idxStr"), the first commit of issue 10's work; 9ab8147 added pss, uss...
OLD_REV=${OLD_REV:-c93de2f}
OLD_REPEATS=${OLD_REPEATS:-3}
THR_P=${THR_P:-200}
THR_T=${THR_T:-10}
PYTHON=${PYTHON:-/usr/bin/python3}
SQLITE3=${SQLITE3:-sqlite3}
B=build/bench
EXT=build/ps
COLS="user,pid,ppid,pcpu,etime,tty,time,args"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

for v in N N_SMALL RUNS WARMUP CT_RUNS CT_SMALL CT_N LEND_MIB OLD_REPEATS THR_P THR_T; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number, not '${!v}'"
done
[ "$RUNS" -ge 1 ] || die "RUNS must be at least 1"
[ "$CT_RUNS" -ge 1 ] || die "CT_RUNS must be at least 1"
[ "$CT_SMALL" -ge 1 ] || die "CT_SMALL must be at least 1"
[ "$OLD_REPEATS" -ge 1 ] || die "OLD_REPEATS must be at least 1"
[ "$THR_T" -ge 1 ] || die "THR_T must be at least 1"
for x in $SAMPLES; do
  [[ $x =~ ^[0-9]*\.?[0-9]+$ ]] || die "SAMPLES must be numbers of seconds, not '$x'"
done
[ -f $EXT.so ] || die "$EXT.so is missing: run make (or make bench) first"
command -v "$SQLITE3" >/dev/null || die "no sqlite3 shell (apt-get install sqlite3)"
command -v ps >/dev/null || die "no ps (apt-get install procps)"

# ---- helpers, built here so the benchmark does not depend on the Makefile
mkdir -p $B
CCF=(-O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra)
${CC:-cc} "${CCF[@]}" -o $B/floor bench/floor.c
${CC:-cc} "${CCF[@]}" -DFLOOR_NO_MAIN -o $B/qtime bench/qtime.c bench/floor.c -lsqlite3
${CC:-cc} "${CCF[@]}" -o $B/cmdtime bench/cmdtime.c
${CC:-cc} "${CCF[@]}" -pthread -o $B/sleepers bench/sleepers.c
${CC:-cc} "${CCF[@]}" -o $B/census bench/census.c # not run here: see RESULTS.md

# ---- cleanup: every process started here, whatever happens
TMP=$(mktemp -d /tmp/sqlite-ps-bench.XXXXXX)
STARTED=() # pids of our direct children that own extra processes
CTS=()     # pids of the container helpers (each one's init dies with it)
stop_cts() {
  # SIGTERM: the helper SIGKILLs its init, and the kernel the rest of the
  # PID namespace; a helper that is SIGKILLed takes its init along too
  # (PR_SET_PDEATHSIG)
  local p i
  for p in "${CTS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${CTS[@]}"; do
    i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  CTS=()
}
stop_started() {
  stop_cts
  local p
  for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${STARTED[@]}"; do
    # sleepers reaps its children before it exits; give it time, then force
    local i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  STARTED=()
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  stop_started
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

nprocs() { $B/floor stat | sed 's/procs=\([0-9]*\).*/\1/'; }

# wait_ready FILE COUNT PID [PATTERN]: until sleepers printed "ready" (or
# the line PATTERN matches), or PID died
wait_ready() {
  local i=0 limit=$((300 + $2 / 10))
  until grep -q "${4:-^ready}" "$1" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || return 1
    [ $i -lt "$limit" ] || return 1
    sleep 0.1
    i=$((i + 1))
  done
}

# start_host COUNT: COUNT sleepers on the host; sets X (one sleeper's pid)
start_host() {
  local n=$1 out=$TMP/host.$1
  say "starting $n sleeping processes on the host"
  $B/sleepers "$n" >"$out" &
  local sp=$!
  STARTED+=("$sp")
  wait_ready "$out" "$n" "$sp" || die "sleepers $n did not start"
  local cnt first
  read -r cnt first _ < <($B/sleepers -c "$sp")
  [ "$cnt" -eq "$n" ] || die "expected $n sleepers in /proc, found $cnt"
  X=${first:-$sp}
  [ "$n" -gt 0 ] || X=$sp
}

# The container helper (tests/helpers/container.c): user, PID, mount, UTS
# and IPC namespaces, its own root (a tmpfs with its own /etc/passwd) and
# /proc, 5 processes (4 when it cannot map uid 1000).  Built here too.
HAVE_CT=1 CT_NOTE=""
if ! ${CC:-cc} "${CCF[@]}" -o $B/container tests/helpers/container.c -lcap -lseccomp 2>"$TMP/ct-build.err"; then
  HAVE_CT=0 CT_NOTE="cannot build tests/helpers/container.c: $(grep -m1 error "$TMP/ct-build.err" | head -c 120)"
fi

# start_ct SLEEPERS: one container with SLEEPERS more sleeping processes
# (--sleepers); sets CT_INIT (the host pid of its init) and CT_OWN (the
# processes it has without --sleepers), or returns 1 with CT_NOTE set
start_ct() {
  local out=$TMP/ct.${#CTS[@]}
  $B/container --no-stdin --sleepers "$1" >"$out" 2>"$out.err" </dev/null &
  local hp=$!
  CTS+=("$hp")
  if ! wait_ready "$out" "$1" "$hp" '"ready": true'; then
    CT_NOTE="container did not start: $(head -c 160 "$out.err" | tr '\n' ' ')"
    return 1
  fi
  CT_INIT=$(sed -n 's/^{"ready": true, "init": \([0-9]*\),.*/\1/p' "$out")
  CT_OWN=$(grep -o '"role"' "$out" | wc -l)
  [ -n "$CT_INIT" ] || { CT_NOTE="no init pid in the readiness line: $(head -c 120 "$out")"; return 1; }
}

# ---- results: MED[key] MIN[key] RSS[key] ROWS[key] ERR[key] CMD[key]
declare -A MED MIN RSS ROWS ERR CMD
QKEYS=() QCASES=()
CKEYS=() CARGS=()

# quote ARGS...: the command as one would type it
quote() {
  local a out=""
  for a; do
    if [[ $a =~ ^[A-Za-z0-9_./=:,@%+-]+$ ]]; then out+="$a "; else out+="'${a//"'"/"'\\''"}' "; fi
  done
  printf '%s' "${out% }"
}
# QRUNS (default RUNS) and QSETUP (qtime -s: SQL run on each connection
# after the load) apply to the cases queued until the next runq
QRUNS="" QSETUP="" QBALLAST=""
qopts() {
  printf '%s\n' -n "${QRUNS:-$RUNS}" -w "$WARMUP"
  [ -z "$QSETUP" ] || printf '%s\n' -s "$QSETUP"
  [ -z "$QBALLAST" ] || printf '%s\n' -b "$QBALLAST"
}
addq() {
  QKEYS+=("$1")
  QCASES+=("$2")
  local o
  mapfile -t o < <(qopts)
  CMD[$1]=$(quote $B/qtime "${o[@]}" "$2")
}
runq() { # run the queued in-process cases round-robin
  [ ${#QCASES[@]} -gt 0 ] || return 0
  local o
  mapfile -t o < <(qopts)
  say "in-process: qtime -n ${QRUNS:-$RUNS} -w $WARMUP${QSETUP:+ -s ...} (${#QCASES[@]} cases, round-robin)"
  local out=$TMP/q.out i=0 a b c d
  $B/qtime "${o[@]}" "${QCASES[@]}" >"$out" || true
  while IFS=$'\t' read -r a b c d; do
    local k=${QKEYS[$i]}
    if [ "$a" = ERROR ]; then ERR[$k]="error: $b"; else MED[$k]=$a MIN[$k]=$b ROWS[$k]=$c; fi
    i=$((i + 1))
  done <"$out"
  QKEYS=() QCASES=() QRUNS="" QSETUP="" QBALLAST=""
}

# addc KEY CMD...: check the command once, then queue it for cmdtime
addc() {
  local k=$1
  shift
  CMD[$k]=$(quote "$@")
  local rc=0
  "$@" >"$TMP/c.out" 2>"$TMP/c.err" </dev/null || rc=$?
  if [ $rc -ne 0 ]; then
    ERR[$k]="error: exit $rc: $(head -c 160 "$TMP/c.err" | tr '\n\t' '  ')"
    return 0
  fi
  ROWS[$k]=$(wc -l <"$TMP/c.out")
  CKEYS+=("$k")
  CARGS+=("$@" ---)
}
runc() { # run the queued commands round-robin
  [ ${#CKEYS[@]} -gt 0 ] || return 0
  say "commands: cmdtime -n $RUNS -w 1 (${#CKEYS[@]} commands, round-robin)"
  local out=$TMP/c.tsv i=0 a b c d
  unset 'CARGS[${#CARGS[@]}-1]'
  $B/cmdtime -n "$RUNS" -w 1 -- "${CARGS[@]}" >"$out"
  while IFS=$'\t' read -r a b c d _; do
    local k=${CKEYS[$i]}
    MED[$k]=$a MIN[$k]=$b RSS[$k]=$c
    [ "$d" = 0 ] || ERR[$k]="error: exit $d while timed"
    i=$((i + 1))
  done <"$out"
  CKEYS=() CARGS=()
}

HAVE_PSUTIL=0
if [ -x "$PYTHON" ] && "$PYTHON" -c 'import psutil' 2>/dev/null; then
  HAVE_PSUTIL=1
elif command -v python3 >/dev/null && python3 -c 'import psutil' 2>/dev/null; then
  PYTHON=$(command -v python3) HAVE_PSUTIL=1
fi

SQ=("$SQLITE3" :memory: -cmd ".load $EXT")
SQL_EF="SELECT $COLS FROM ps"
SQL_PC="SELECT pid, comm FROM ps"
T0=$(date +%s)
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD0" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  say "warning: load average $LOAD0 on $(nproc) cpus: the numbers will be noisy"
fi

# ---- phase 1: N_SMALL extra processes: one pid, and a full scan for contrast
start_host "$N_SMALL"
P_SMALL=$(nprocs)

# the one-pid cases run on their own: interleaved with full scans they would
# be timed with caches the scans just emptied
addq q_floor_pid_s "floor:pid=$X"
addq q_sql_pid_s "sql:SELECT $COLS FROM ps WHERE pid = $X"
runq
addq q_floor_ef_s "floor:ps-ef"
addq q_sql_ef_s "sql:$SQL_EF"
runq
addc c_floor_pid_s $B/floor "pid=$X"
addc c_ps_pid_s ps -o "$COLS" -p "$X"
addc c_sql_pid_s "${SQ[@]}" "SELECT $COLS FROM ps WHERE pid = $X"
runc
stop_started

# ---- phase 2: N extra processes: the full scans, and one pid
start_host "$N"
P=$(nprocs)
addq q_floor_pid "floor:pid=$X"
addq q_sql_pid "sql:SELECT $COLS FROM ps WHERE pid = $X"
runq
addq q_floor_stat "floor:stat"
addq q_floor_ef "floor:ps-ef"
addq q_sql_pc "sql:$SQL_PC"
addq q_sql_ef "sql:$SQL_EF"
addq q_fresh_ef "fresh:$SQL_EF"
runq
if [ $HAVE_PSUTIL = 1 ]; then
  say "in-process: psutil ($RUNS runs)"
  CMD[q_psutil]=$(quote "$PYTHON" bench/psutil_ef.py "$RUNS" "$WARMUP")
  if read -r a b c < <($PYTHON bench/psutil_ef.py "$RUNS" "$WARMUP" 2>"$TMP/py.err"); then
    MED[q_psutil]=$a MIN[q_psutil]=$b ROWS[q_psutil]=$c
  else
    ERR[q_psutil]="error: $(head -c 160 "$TMP/py.err" | tr '\n' ' ')"
  fi
else
  ERR[q_psutil]="n/a (no psutil for $PYTHON: apt-get install python3-psutil)"
  ERR[c_psutil]=${ERR[q_psutil]}
fi
addc c_floor_stat $B/floor stat
addc c_floor_ef $B/floor ps-ef
addc c_floor_pid $B/floor "pid=$X"
addc c_ps_pc ps -eo pid,comm
addc c_sql_pc "${SQ[@]}" "$SQL_PC"
addc c_ps_ef ps -eo "$COLS"
addc c_sql_ef "${SQ[@]}" "$SQL_EF"
addc c_ps_pid ps -o "$COLS" -p "$X"
addc c_sql_pid "${SQ[@]}" "SELECT $COLS FROM ps WHERE pid = $X"
[ $HAVE_PSUTIL = 1 ] && addc c_psutil "$PYTHON" bench/psutil_ef.py
runc

# ---- phase 2b: the new columns of issue 10, with phase 2's N extra processes
# One qtime run, round-robin: SELECT pid FROM ps (stat only: the baseline),
# SELECT pid, <the columns of one source> FROM ps for each new source, and
# the floor reading stat alone and stat + that source's file. A source's
# cost per process is (query - baseline) / processes, beside the floor's
# (floor stat+file - floor stat) / processes.
# NC_SRC: key|what the row is called|the columns|the floor's items (read:),
# empty when the source reads no file beyond stat
NC_SRC=(
  "smaps|smaps_rollup|pss, uss|stat+smaps_rollup"
  "status|status|swap, shared, cpus_allowed|stat+status"
  "pmem|status, meminfo once|pmem|stat+status+/meminfo"
  "fd|fd/ entries counted|nfds|stat+fd/"
  "oom|oom_score|oom_score|stat+oom_score"
  "oomadj|oom_score_adj|oom_score_adj|stat+oom_score_adj"
  "psr|stat (baseline's)|psr|"
  "cgroup|cgroup|container, pod|stat+cgroup"
  "io|io (6 columns)|rchar, wchar, read_bytes, write_bytes, syscr, syscw|stat+io"
  "cpunow|stat + pcpu_now baseline|pcpu_now|"
)
addq q_nc_base "sql:SELECT pid FROM ps"
addq q_nf_base "floor:stat"
for e in "${NC_SRC[@]}"; do
  IFS='|' read -r k _ cols items <<<"$e"
  addq "q_nc_$k" "sql:SELECT pid, $cols FROM ps"
  [ -z "$items" ] || addq "q_nf_$k" "floor:read:$items"
done
# what opening /proc/PID as a directory costs: the extension reads a row of
# more than one file through it (a reused pid cannot mix two processes)
addq q_nf_dir "floor:dir:stat+oom_score_adj"
runq

# ---- phase 2c: sample = X (one-shot pcpu_now): X + two stat scans, no more
# Each X against SELECT pid, pcpu FROM ps (one stat scan) in the same run.
addq q_smp_scan "sql:SELECT pid, pcpu FROM ps"
SMP_KEYS=()
for x in $SAMPLES; do
  k=q_smp_${x//./_}
  SMP_KEYS+=("$k|$x")
  addq "$k" "sql:SELECT pid, pcpu_now FROM ps WHERE sample = $x"
done
runq

# ---- phase 2d: a query without the new columns costs what it cost before
# The extension built at OLD_REV (before issue 10) into $B/old, and a copy
# of build/ps.so in $B/new (the same code under another file: what the
# same-code ratio looks like, i.e. the noise); OLD_REPEATS qtime runs, each
# round-robin over old, new and copy for the ps -ef columns and for pid.
OLD_NOTE="" OLD_SHORT=""
build_old() {
  local rev src=$TMP/old-src
  if ! rev=$(git rev-parse --verify -q "$OLD_REV^{commit}" 2>/dev/null); then
    OLD_NOTE="n/a (no commit $OLD_REV here: not a git clone, or a shallow one)"
    return 1
  fi
  OLD_SHORT=${rev:0:7}
  if [ -f $B/old/ps.so ] && [ "$(cat $B/old/REV 2>/dev/null)" = "$rev" ]; then return 0; fi
  say "building the extension at $OLD_SHORT (OLD_REV) into $B/old"
  rm -rf $B/old "$src"
  mkdir -p "$src"
  # a clean environment for the sub-make: nothing of a calling make's
  # flags or variables (make bench) reaches the old Makefile
  if ! git archive "$rev" | tar -x -C "$src" ||
    ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$src" --no-print-directory \
      B="$PWD/$B/old" GITREV="$OLD_SHORT" CC="${CC:-cc}" all >"$TMP/old-build.log" 2>&1; then
    OLD_NOTE="n/a (building $OLD_SHORT failed: $(grep -m1 -i error "$TMP/old-build.log" | head -c 100))"
    rm -rf $B/old
    return 1
  fi
  echo "$rev" >$B/old/REV
}
OLD_RUNS=0
if build_old; then
  mkdir -p $B/new
  cp $EXT.so $B/new/ps.so
  for ((r = 1; r <= OLD_REPEATS; r++)); do
    for q in ef pid; do
      if [ $q = ef ]; then sql=$SQL_EF; else sql="SELECT pid FROM ps"; fi
      addq "q_old_${q}_$r" "sql@$B/old/ps:$sql"
      addq "q_new_${q}_$r" "sql:$sql"
      addq "q_cpy_${q}_$r" "sql@$B/new/ps:$sql"
    done
    runq
  done
  OLD_RUNS=$OLD_REPEATS
fi

# ---- phase 3: containers, with phase 2's N extra host processes still running
# Each group of cases is timed in one qtime run, round-robin with the host
# scan it is compared with (the same query, FROM ps, on the machine as it is
# then), so that drift hits both alike; the targets use the medians of
# CT_RUNS runs.
# 3a: CT_SMALL small containers: ps(X) of one of them (a), and a TEMP table
#     of their inits joined with ps (c);
# 3b: one container of CT_N processes (b); the host then has N + CT_N extra.
SQL_CT_SMALL="" SQL_JOIN="" SQL_CT_BIG="" SETUP="" P3A="" P3B="" PCT=""
CT_COLS="p.${COLS//,/, p.}"
if [ "$(id -u)" != 0 ] && [ $HAVE_CT = 1 ]; then
  say "note: not root: the containers map only your own user (rootless)"
fi
if [ $HAVE_CT = 1 ]; then
  say "starting $CT_SMALL small containers"
  INITS=()
  for ((i = 0; i < CT_SMALL; i++)); do
    start_ct 0 || { HAVE_CT=0; break; }
    INITS+=("$CT_INIT")
  done
fi
if [ $HAVE_CT = 1 ]; then
  P3A=$(nprocs)
  X1=${INITS[0]}
  VALS=$(printf '(%s), ' "${INITS[@]}")
  SETUP="CREATE TEMP TABLE containers(pid INTEGER PRIMARY KEY); INSERT INTO containers(pid) VALUES ${VALS%, };"
  SQL_CT_SMALL="SELECT $COLS FROM ps($X1)"
  SQL_JOIN="SELECT $CT_COLS FROM containers c JOIN ps p ON p.pidns = c.pid"
  QRUNS=$CT_RUNS QSETUP=$SETUP
  addq q_floor_h3a "floor:ps-ef"
  addq q_sql_h3a "sql:$SQL_EF"
  addq q_sql_cts "sql:$SQL_CT_SMALL"
  addq q_sql_join "sql:$SQL_JOIN"
  runq
  addc c_sql_h3a "${SQ[@]}" "$SQL_EF"
  addc c_sql_cts "${SQ[@]}" "$SQL_CT_SMALL"
  addc c_sql_join "${SQ[@]}" -cmd "$SETUP" "$SQL_JOIN"
  runc
  # 3c: what lending names costs. A query that shows a container's user
  # names asks a helper program (src/lend.c, src/helper/lender.c) in an
  # address space of its own, started once (two CLONE_VM children and an
  # exec) and kept between queries, whatever the caller's size. ps(X) with
  # and without user, in a qtime with nothing extra and in one holding
  # LEND_MIB MiB more (-b): the two should cost the same.
  avail=$(awk '$1 == "MemAvailable:" { print int($2 / 1024) }' /proc/meminfo)
  for mib in 0 "$LEND_MIB"; do
    if [ "$mib" -gt 0 ] && [ "${avail:-0}" -lt $((2 * mib)) ]; then
      ERR[q_lend_n$mib]="n/a (LEND_MIB=$mib: only ${avail:-?} MiB available)" ERR[q_lend_u$mib]=${ERR[q_lend_n$mib]}
      continue
    fi
    QRUNS=$CT_RUNS QBALLAST=$mib
    addq "q_lend_n$mib" "sql:SELECT count(*) FROM ps($X1)"
    QRUNS=$CT_RUNS QBALLAST=$mib
    addq "q_lend_u$mib" "sql:SELECT count(user) FROM ps($X1)"
    runq
  done
  stop_cts
  CT_BIG=$((CT_N > CT_OWN ? CT_N - CT_OWN : 0))
  say "starting a container of $((CT_OWN + CT_BIG)) processes"
  if start_ct "$CT_BIG"; then
    P3B=$(nprocs)
    CPROC=/proc/$CT_INIT/root/proc
    PCT=$($B/floor -p "$CPROC" stat | sed 's/procs=\([0-9]*\).*/\1/')
    SQL_CT_BIG="SELECT $COLS FROM ps($CT_INIT)"
    QRUNS=$CT_RUNS
    addq q_floor_h3b "floor:ps-ef"
    addq q_floor_ctb "floor:ps-ef@$CPROC"
    addq q_sql_h3b "sql:$SQL_EF"
    addq q_sql_ctb "sql:$SQL_CT_BIG"
    runq
    addc c_sql_h3b "${SQ[@]}" "$SQL_EF"
    addc c_sql_ctb "${SQ[@]}" "$SQL_CT_BIG"
    runc
  fi
fi
stop_started

# ---- phase 4: threads: ps_threads against ps -eL, THR_P x THR_T extra threads
# (bench/sleepers -t: THR_P processes of THR_T sleeping threads each), alone:
# phase 2's processes and the containers have gone.
SQL_THR="SELECT pid, tid, comm, state, time, psr FROM ps_threads"
THR_COLS="pid,lwp,comm,stat,time,psr"
THR_NOTE="" THR_ALL="" PT="" PTP=""
say "starting $THR_P processes of $THR_T threads"
out=$TMP/threads
$B/sleepers -t "$THR_T" "$THR_P" >"$out" 2>"$out.err" &
sp=$!
STARTED+=("$sp")
if ! wait_ready "$out" "$((THR_P * THR_T))" "$sp"; then
  THR_ALL="n/a (sleepers -t $THR_T $THR_P did not start: $(head -c 120 "$out.err" | tr '\n' ' '))"
else
  read -r cnt _ thr < <($B/sleepers -c "$sp")
  if [ "$cnt" -ne "$THR_P" ] || [ "$thr" -ne $((THR_P * THR_T)) ]; then
    THR_ALL="n/a (expected $THR_P processes of $THR_T threads in /proc, found $cnt with $thr threads)"
  fi
fi
if [ -z "$THR_ALL" ]; then
  PT=$($B/floor threads | sed 's/procs=\([0-9]*\).*/\1/')
  PTP=$(nprocs)
  if ! "${SQ[@]}" "SELECT 1 FROM ps_threads LIMIT 1" >/dev/null 2>&1; then
    THR_NOTE="n/a: no ps_threads in $EXT.so"
  fi
  addq q_floor_thr "floor:threads"
  [ -n "$THR_NOTE" ] || addq q_sql_thr "sql:$SQL_THR"
  runq
  addc c_floor_thr $B/floor threads
  addc c_ps_thr ps -eL -o "$THR_COLS"
  [ -n "$THR_NOTE" ] || addc c_sql_thr "${SQ[@]}" "$SQL_THR"
  runc
fi
stop_started
for k in q_floor_thr q_sql_thr c_floor_thr c_ps_thr c_sql_thr; do
  [ -z "$THR_ALL" ] || ERR[$k]=$THR_ALL
done
[ -z "$THR_NOTE" ] || ERR[q_sql_thr]=$THR_NOTE ERR[c_sql_thr]=$THR_NOTE
for k in q_floor_h3a q_sql_h3a q_sql_cts q_sql_join c_sql_h3a c_sql_cts c_sql_join \
  q_lend_n0 q_lend_u0 "q_lend_n$LEND_MIB" "q_lend_u$LEND_MIB" q_floor_h3b q_floor_ctb q_sql_h3b q_sql_ctb c_sql_h3b c_sql_ctb; do
  [ -n "${MED[$k]:-}" ] || [ -n "${ERR[$k]:-}" ] || ERR[$k]="n/a (${CT_NOTE:-not run})"
done
T1=$(date +%s)

# ---- the report
fmt() { awk -v x="$1" 'BEGIN { if (x >= 100) printf "%.1f", x; else if (x >= 10) printf "%.2f", x; else printf "%.3f", x }'; }
ratio() { # ratio A B -> A/B formatted, or "-"
  if [ -n "${1:-}" ] && [ -n "${2:-}" ]; then awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) printf "-"; else if (a / b < 0.1) printf "%.3fx", a / b; else printf "%.2fx", a / b }'; else printf -- '-'; fi
}
# have KEY...: every one measured, without an error
have() { local k; for k; do [ -n "${MED[$k]:-}" ] && [ -z "${ERR[$k]:-}" ] || return 1; done; }
# ratio3 A B: A/B with 3 decimals (a target's ratio: 0.249x, not 0.25x)
ratio3() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) printf "-"; else printf "%.3fx", a / b }'; }
# row LABEL KEY FLOORKEY PSKEY
row() {
  local label=$1 k=$2 fk=${3:-} pk=${4:-}
  if [ -n "${ERR[$k]:-}" ]; then
    printf '  %-52s %s\n' "$label" "${ERR[$k]}"
    return
  fi
  [ -n "${MED[$k]:-}" ] || { printf '  %-52s %s\n' "$label" "n/a"; return; }
  local rf=- rp=-
  [ -n "$fk" ] && rf=$(ratio "${MED[$k]}" "${MED[$fk]:-}")
  [ -n "$pk" ] && rp=$(ratio "${MED[$k]}" "${MED[$pk]:-}")
  printf '  %-52s %10s %10s %9s %9s %8s %7s\n' "$label" "$(fmt "${MED[$k]}")" "$(fmt "${MIN[$k]}")" \
    "$rf" "$rp" "${RSS[$k]:--}" "${ROWS[$k]:--}"
}
hdr() { printf '\n%s\n' "$*"; }
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cpu_mhz=$(awk -F': ' '/^cpu MHz/ { printf "%.0f MHz", $2; exit }' /proc/cpuinfo)

echo
echo "sqlite-ps benchmark ($(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: $(nproc) cpus, ${cpu:-unknown cpu}${cpu_mhz:+ ($cpu_mhz)}, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
echo "tools:   $($SQLITE3 --version | cut -d' ' -f1), $(ps --version), psutil $([ $HAVE_PSUTIL = 1 ] && $PYTHON -c 'import psutil; print(psutil.__version__)' || echo none)"
echo "setup:   N=$N (processes in the scans: $P), N_SMALL=$N_SMALL ($P_SMALL); containers: $CT_SMALL small (host: ${P3A:-?} processes), one of ${PCT:-?} (host: ${P3B:-?}); RUNS=$RUNS CT_RUNS=$CT_RUNS WARMUP=$WARMUP; $((T1 - T0)) s"
LOAD1=$(cut -d' ' -f1 /proc/loadavg)
echo "load:    1-minute load average $LOAD0 at the start, $LOAD1 at the end$(awk -v a="$LOAD0" -v b="$LOAD1" -v n="$(nproc)" \
  'BEGIN { if (a > n / 2 || b > n) print " (a busy machine: noisy medians; see the min column)" }')"
echo "command: N=$N N_SMALL=$N_SMALL RUNS=$RUNS WARMUP=$WARMUP CT_RUNS=$CT_RUNS CT_SMALL=$CT_SMALL CT_N=$CT_N bench/run.sh"
echo
echo "Times are medians (and minimums) of RUNS runs, in ms. x floor = time / floor's time; x ps = time / ps's time"
echo "(below 1 = faster than ps). in-process: timed inside one process (qtime, or a psutil loop);"
echo "command: fork + exec + run + exit of the whole command, output to /dev/null; RSS = its peak resident set."
printf '\n  %-52s %10s %10s %9s %9s %8s %7s\n' "case" "median ms" "min ms" "x floor" "x ps" "RSS KiB" "rows"

hdr "ps -ef columns ($COLS), full scan of $P processes"
row "in-process  floor: stat+status+cmdline per pid" q_floor_ef q_floor_ef
row "in-process  sqlite: SELECT <ps -ef columns> FROM ps" q_sql_ef q_floor_ef c_ps_ef
row "in-process  sqlite, new connection + load per run" q_fresh_ef q_floor_ef c_ps_ef
row "in-process  psutil process_iter (ps -ef fields)" q_psutil q_floor_ef c_ps_ef
row "command     floor ps-ef" c_floor_ef c_floor_ef c_ps_ef
row "command     ps -eo <ps -ef columns>" c_ps_ef c_floor_ef c_ps_ef
row "command     sqlite3 shell: SELECT ... FROM ps" c_sql_ef c_floor_ef c_ps_ef
row "command     python3 bench/psutil_ef.py" c_psutil c_floor_ef c_ps_ef

hdr "pid, comm, full scan of $P processes"
row "in-process  floor: stat per pid" q_floor_stat q_floor_stat
row "in-process  sqlite: SELECT pid, comm FROM ps" q_sql_pc q_floor_stat c_ps_pc
row "command     floor stat" c_floor_stat c_floor_stat c_ps_pc
row "command     ps -eo pid,comm" c_ps_pc c_floor_stat c_ps_pc
row "command     sqlite3 shell: SELECT pid, comm FROM ps" c_sql_pc c_floor_stat c_ps_pc

hdr "one process: WHERE pid = X (ps -ef columns), with $P_SMALL and with $P processes"
row "in-process  floor pid=X, $P_SMALL procs" q_floor_pid_s q_floor_pid_s
row "in-process  sqlite WHERE pid = X, $P_SMALL procs" q_sql_pid_s q_floor_pid_s c_ps_pid_s
row "in-process  sqlite full scan, $P_SMALL procs" q_sql_ef_s q_floor_ef_s
row "in-process  floor pid=X, $P procs" q_floor_pid q_floor_pid
row "in-process  sqlite WHERE pid = X, $P procs" q_sql_pid q_floor_pid c_ps_pid
row "in-process  sqlite full scan, $P procs" q_sql_ef q_floor_ef
row "command     floor pid=X, $P_SMALL procs" c_floor_pid_s c_floor_pid_s c_ps_pid_s
row "command     ps -o ... -p X, $P_SMALL procs" c_ps_pid_s c_floor_pid_s c_ps_pid_s
row "command     sqlite3 shell WHERE pid = X, $P_SMALL procs" c_sql_pid_s c_floor_pid_s c_ps_pid_s
row "command     floor pid=X, $P procs" c_floor_pid c_floor_pid c_ps_pid
row "command     ps -o ... -p X, $P procs" c_ps_pid c_floor_pid c_ps_pid
row "command     sqlite3 shell WHERE pid = X, $P procs" c_sql_pid c_floor_pid c_ps_pid

hdr "threads (phase 4): ${PT:-?} threads of ${PTP:-?} processes ($THR_P extra processes of $THR_T threads), pid, tid, comm, state, time, psr"
row "in-process  floor: task/ listed, task/TID/stat" q_floor_thr q_floor_thr
row "in-process  sqlite: SELECT ... FROM ps_threads" q_sql_thr q_floor_thr c_ps_thr
row "command     floor threads" c_floor_thr c_floor_thr c_ps_thr
row "command     ps -eL -o $THR_COLS" c_ps_thr c_floor_thr c_ps_thr
row "command     sqlite3 shell: SELECT ... FROM ps_threads" c_sql_thr c_floor_thr c_ps_thr

# rowh LABEL KEY HOSTKEY: the container table's row (x host: against the
# host scan timed in the same run, by medians and by minimums)
rowh() {
  local label=$1 k=$2 hk=$3
  if [ -n "${ERR[$k]:-}" ]; then
    printf '  %-52s %s\n' "$label" "${ERR[$k]}"
    return
  fi
  [ -n "${MED[$k]:-}" ] || { printf '  %-52s %s\n' "$label" "n/a"; return; }
  printf '  %-52s %10s %10s %9s %9s %8s %7s\n' "$label" "$(fmt "${MED[$k]}")" "$(fmt "${MIN[$k]}")" \
    "$(ratio "${MED[$k]}" "${MED[$hk]:-}")" "$(ratio "${MIN[$k]}" "${MIN[$hk]:-}")" "${RSS[$k]:--}" "${ROWS[$k]:--}"
}
echo
echo "Containers (phase 3, ps -ef columns; tests/helpers/container.c: user+PID+mount namespaces, own root and /proc)."
echo "The host keeps phase 2's N=$N extra processes. Medians (and minimums) of CT_RUNS=$CT_RUNS runs; each group is one"
echo "qtime run, round-robin with its host scan. x host = time / the host scan's time in the same group (median/median,"
echo "min/min; commands against the sqlite3 shell's host scan)."
printf '\n  %-52s %10s %10s %9s %9s %8s %7s\n' "case" "median ms" "min ms" "x host" "x host" "RSS KiB" "rows"
printf '  %-52s %10s %10s %9s %9s %8s %7s\n' "" "" "" "(median)" "(min)" "" ""
hdr "3a: $CT_SMALL containers of ${CT_OWN:-?} processes; the host has ${P3A:-?} processes"
rowh "in-process  floor: the host's /proc" q_floor_h3a q_sql_h3a
rowh "in-process  sqlite: host scan (baseline of a, c)" q_sql_h3a q_sql_h3a
rowh "in-process  sqlite: ps(X), one container (a)" q_sql_cts q_sql_h3a
rowh "in-process  sqlite: containers JOIN ps, $CT_SMALL inits (c)" q_sql_join q_sql_h3a
rowh "command     sqlite3 shell: host scan" c_sql_h3a c_sql_h3a
rowh "command     sqlite3 shell: ps(X), one container" c_sql_cts c_sql_h3a
rowh "command     sqlite3 shell: containers JOIN ps" c_sql_join c_sql_h3a
hdr "3b: one container of ${PCT:-?} processes; the host has ${P3B:-?} processes"
rowh "in-process  floor: the host's /proc" q_floor_h3b q_sql_h3b
rowh "in-process  floor: the container's /proc" q_floor_ctb q_sql_h3b
rowh "in-process  sqlite: host scan (baseline of b)" q_sql_h3b q_sql_h3b
rowh "in-process  sqlite: ps(X) of the container (b)" q_sql_ctb q_sql_h3b
rowh "command     sqlite3 shell: host scan" c_sql_h3b c_sql_h3b
rowh "command     sqlite3 shell: ps(X) of the container" c_sql_ctb c_sql_h3b
hdr "3c: lending names: ps(X) of one 3a container with and without user (a kept helper program, started once); x = against count(*) of the same run"
for mib in 0 "$LEND_MIB"; do
  rowh "in-process  +$mib MiB: SELECT count(*) FROM ps(X)" "q_lend_n$mib" "q_lend_n$mib"
  rowh "in-process  +$mib MiB: SELECT count(user) FROM ps(X)" "q_lend_u$mib" "q_lend_n$mib"
done
if have q_lend_n0 q_lend_u0 "q_lend_n$LEND_MIB" "q_lend_u$LEND_MIB"; then
  awk -v n0="${MED[q_lend_n0]}" -v u0="${MED[q_lend_u0]}" -v nb="${MED[q_lend_n$LEND_MIB]}" \
    -v ub="${MED[q_lend_u$LEND_MIB]}" -v mib="$LEND_MIB" 'BEGIN {
      a = u0 - n0; b = ub - nb
      printf "  lending costs %.3f ms in a small program, %.3f ms with %d MiB more resident: %.4f ms per MiB\n", a, b, mib, (b - a) / mib }'
fi

# ---- the tables of phase 2b, 2c and 2d
# us_per A B PROCS: (A - B) ms / PROCS in microseconds, signed, or "-"
us_per() {
  if [ -n "${1:-}" ] && [ -n "${2:-}" ] && [ -n "${3:-}" ]; then
    awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { if (p <= 0) printf "-"; else printf "%+.2f", (a - b) * 1000 / p }'
  else printf -- '-'; fi
}
# ncrow LABEL KEY FLOORKEY: a source's row (FLOORKEY empty: the stat floor's)
ncrow() {
  local label=$1 k=$2 fk=${3:-} add=- addmin=- fadd=- x=- fms=-
  if [ -n "${ERR[$k]:-}" ]; then
    printf '  %-46s %s\n' "$label" "${ERR[$k]}"
    return
  fi
  [ -n "${MED[$k]:-}" ] || { printf '  %-46s %s\n' "$label" "n/a"; return; }
  if [ "$k" != q_nc_base ]; then
    add=$(us_per "${MED[$k]}" "${MED[q_nc_base]:-}" "${ROWS[q_nc_base]:-}")
    addmin=$(us_per "${MIN[$k]}" "${MIN[q_nc_base]:-}" "${ROWS[q_nc_base]:-}")
  fi
  if [ -n "$fk" ] && [ -n "${MED[$fk]:-}" ]; then
    fms=$(fmt "${MED[$fk]}")
    if [ "$fk" != q_nf_base ]; then
      fadd=$(us_per "${MED[$fk]}" "${MED[q_nf_base]:-}" "${ROWS[q_nf_base]:-}")
      x=$(awk -v a="$add" -v b="$fadd" 'BEGIN { if (b + 0 > 0.05 && a != "-") printf "%.2fx", a / b; else printf "-" }')
    fi
  fi
  printf '  %-46s %9s %9s %9s %8s %9s %9s %8s %6s\n' "$label" "$(fmt "${MED[$k]}")" "$(fmt "${MIN[$k]}")" \
    "$add" "$addmin" "$fms" "$fadd" "$x" "${ROWS[$k]:--}"
}
echo
echo "New columns (phase 2b, issue 10): what each new source costs per process, with phase 2's N=$N extra"
echo "processes ($P in all). One qtime run of RUNS=$RUNS, round-robin: each query against SELECT pid FROM ps"
echo "(stat only), each floor against the stat floor. +us/proc = (time - baseline) / the baseline's rows, by"
echo "medians (and minimums); floor +us/proc: the same for the floor reading stat and the source's file(s);"
echo "x floor = +us/proc / floor +us/proc: what the extension adds over the bare read."
printf '\n  %-46s %9s %9s %9s %8s %9s %9s %8s %6s\n' "source: SELECT pid, <columns> FROM ps" "median ms" "min ms" \
  "+us/proc" "(min)" "floor ms" "floor +us" "x floor" "rows"
ncrow "baseline: SELECT pid FROM ps (stat)" q_nc_base q_nf_base
for e in "${NC_SRC[@]}"; do
  IFS='|' read -r k what cols items <<<"$e"
  fk=q_nf_$k
  [ -n "$items" ] || fk=q_nf_base
  label="$what: $cols"
  [ ${#label} -le 46 ] || label="$what: ${cols%%,*} .. ${cols##*, }"
  ncrow "$label" "q_nc_$k" "$fk"
done
if have q_nf_dir q_nf_base; then
  printf '  %-46s %9s %9s %9s %8s %9s %9s %8s %6s\n' "floor only: oom_score_adj through /proc/PID/" - - - - \
    "$(fmt "${MED[q_nf_dir]}")" "$(us_per "${MED[q_nf_dir]}" "${MED[q_nf_base]}" "${ROWS[q_nf_base]}")" - "${ROWS[q_nf_dir]:--}"
fi

# the sample = X bound: 10% of one scan, room for the scans' own noise (the
# one-shot's two reads are not the scans they are compared with; its first
# pass, without the listing and SQLite's rows, is a little cheaper than a
# scan), plus 1 ms of scheduler slack (clock_nanosleep's 50 us of timer
# slack and the wake-up: 0.1 to 0.2 ms on the development VM, more on a
# 2-cpu machine shared with other work)
smp_bound() { awk -v s="$1" 'BEGIN { printf "%.3f", 0.1 * s + 1 }'; }
smp_excess() { awk -v t="$1" -v x="$2" -v s="$3" 'BEGIN { printf "%+.3f", t - 1000 * x - 2 * s }'; }
echo
echo "sample = X (phase 2c): SELECT pid, pcpu_now FROM ps WHERE sample = X costs X, plus two scans, and nothing else."
echo "One qtime run of RUNS=$RUNS, round-robin with the scan SELECT pid, pcpu FROM ps. expected = X + 2 x scan;"
echo "excess = time - expected, by medians (and by minimums); bound = 10% of one scan + 1 ms of scheduler slack."
printf '\n  %-46s %9s %9s %11s %9s %8s %8s %6s\n' "case" "median ms" "min ms" "expected ms" "excess ms" "(min)" "bound ms" "rows"
if [ -n "${MED[q_smp_scan]:-}" ]; then
  printf '  %-46s %9s %9s %11s %9s %8s %8s %6s\n' "scan: SELECT pid, pcpu FROM ps" "$(fmt "${MED[q_smp_scan]}")" \
    "$(fmt "${MIN[q_smp_scan]}")" - - - - "${ROWS[q_smp_scan]:--}"
else
  printf '  %-46s %s\n' "scan: SELECT pid, pcpu FROM ps" "${ERR[q_smp_scan]:-n/a}"
fi
for e in "${SMP_KEYS[@]}"; do
  k=${e%%|*} x=${e#*|}
  if ! have "$k" q_smp_scan; then
    printf '  %-46s %s\n' "sample = $x" "${ERR[$k]:-${ERR[q_smp_scan]:-n/a}}"
    continue
  fi
  printf '  %-46s %9s %9s %11s %9s %8s %8s %6s\n' "WHERE sample = $x" "$(fmt "${MED[$k]}")" "$(fmt "${MIN[$k]}")" \
    "$(fmt "$(awk -v x="$x" -v s="${MED[q_smp_scan]}" 'BEGIN { print 1000 * x + 2 * s }')")" \
    "$(smp_excess "${MED[$k]}" "$x" "${MED[q_smp_scan]}")" "$(smp_excess "${MIN[$k]}" "$x" "${MIN[q_smp_scan]}")" \
    "$(smp_bound "${MED[q_smp_scan]}")" "${ROWS[$k]:--}"
done

# old/new ratios: per run, by medians and by minimums
echo
echo "Before and after issue 10 (phase 2d): queries without the new columns, with the extension built at"
echo "${OLD_SHORT:-$OLD_REV} (OLD_REV, the commit before issue 10's work: $B/old/ps.so), with build/ps.so (new), and with a"
echo "copy of build/ps.so as another file ($B/new/ps.so: the same code, so its ratio is the noise). OLD_REPEATS=$OLD_REPEATS"
echo "qtime runs of RUNS=$RUNS, each round-robin over the six cases; N=$N extra processes ($P in all)."
printf '\n  %-38s %4s %9s %9s %9s %9s %8s %9s %8s\n' "query" "run" "old ms" "new ms" "copy ms" "new/old" "(min)" "copy/new" "(min)"
OLD_RATIOS=() # "query ratio_med ratio_min copy_med" per run
for q in ef pid; do
  if [ $q = ef ]; then label="ps -ef columns"; else label="SELECT pid FROM ps"; fi
  if [ "$OLD_RUNS" -eq 0 ]; then
    printf '  %-38s %s\n' "$label" "${OLD_NOTE:-n/a (not run)}"
    continue
  fi
  for ((r = 1; r <= OLD_RUNS; r++)); do
    ko=q_old_${q}_$r kn=q_new_${q}_$r kc=q_cpy_${q}_$r
    if ! have "$ko" "$kn" "$kc"; then
      printf '  %-38s %4s %s\n' "$label" "$r" "${ERR[$ko]:-${ERR[$kn]:-${ERR[$kc]:-n/a}}}"
      continue
    fi
    printf '  %-38s %4s %9s %9s %9s %9s %8s %9s %8s\n' "$label" "$r" "$(fmt "${MED[$ko]}")" "$(fmt "${MED[$kn]}")" \
      "$(fmt "${MED[$kc]}")" "$(ratio3 "${MED[$kn]}" "${MED[$ko]}")" "$(ratio3 "${MIN[$kn]}" "${MIN[$ko]}")" \
      "$(ratio3 "${MED[$kc]}" "${MED[$kn]}")" "$(ratio3 "${MIN[$kc]}" "${MIN[$kn]}")"
    OLD_RATIOS+=("$q $(awk -v a="${MED[$kn]}" -v b="${MED[$ko]}" -v m="${MIN[$kn]}" -v mo="${MIN[$ko]}" \
      -v c="${MED[$kc]}" 'BEGIN { printf "%.4f %.4f %.4f", a / b, m / mo, c / a }')")
    label=""
  done
done

# ---- targets (informational: they never fail the run)
echo
echo "Targets (informational):"
target() { # target TEXT AWK-CONDITION DETAIL
  local v
  v=$(awk "BEGIN { print ($2) ? \"PASS\" : \"MISS\" }")
  printf '  %-4s  %-62s %s\n' "$v" "$1" "$3"
}
na() { printf '  %-4s  %-62s %s\n' "n/a" "$1" "$2"; }
t="ps -ef columns within 1.25x of the floor (in-process)"
if have q_sql_ef q_floor_ef; then target "$t" "${MED[q_sql_ef]} <= 1.25 * ${MED[q_floor_ef]}" "$(ratio "${MED[q_sql_ef]}" "${MED[q_floor_ef]}")"; else na "$t" "not measured"; fi
t="ps -ef columns >= 1.5x faster than ps (commands)"
if have c_sql_ef c_ps_ef; then target "$t" "${MED[c_ps_ef]} >= 1.5 * ${MED[c_sql_ef]}" "ps/sqlite3 = $(ratio "${MED[c_ps_ef]}" "${MED[c_sql_ef]}")"; else na "$t" "not measured"; fi
t="pid, comm within 1.2x of the stat-only floor (in-process)"
if have q_sql_pc q_floor_stat; then target "$t" "${MED[q_sql_pc]} <= 1.2 * ${MED[q_floor_stat]}" "$(ratio "${MED[q_sql_pc]}" "${MED[q_floor_stat]}")"; else na "$t" "not measured"; fi
t="WHERE pid = X under 1 ms (in-process, $P procs)"
if have q_sql_pid; then target "$t" "${MED[q_sql_pid]} < 1" "$(fmt "${MED[q_sql_pid]}") ms"; else na "$t" "not measured"; fi
t="WHERE pid = X flat from $P_SMALL to $P procs (<= 1.5x or +0.05 ms)"
if have q_sql_pid q_sql_pid_s; then
  target "$t" "${MED[q_sql_pid]} <= 1.5 * ${MED[q_sql_pid_s]} || ${MED[q_sql_pid]} <= ${MED[q_sql_pid_s]} + 0.05" \
    "$(fmt "${MED[q_sql_pid_s]}") -> $(fmt "${MED[q_sql_pid]}") ms$([ "$N" -lt 10000 ] && echo " (target is at 10,000: N=10000)")"
else na "$t" "not measured"; fi
# The container targets (issue 9): each query against the host scan
# (SELECT <ps -ef columns> FROM ps) timed in the same qtime run, by medians.
# rows_note KEY WANT: a warning when a case did not list WANT rows
rows_note() { [ "${ROWS[$1]:-}" = "$2" ] || printf '; WARNING: %s rows, expected %s' "${ROWS[$1]:-?}" "$2"; }
# ctarget TEXT KEY HOSTKEY LIMIT WANTROWS
ctarget() {
  local t=$1 k=$2 hk=$3 lim=$4
  if have "$k" "$hk"; then
    target "$t" "${MED[$k]} <= $lim * ${MED[$hk]}" "$(ratio3 "${MED[$k]}" "${MED[$hk]}") = $(fmt "${MED[$k]}") / $(fmt "${MED[$hk]}") ms (by minimums $(ratio3 "${MIN[$k]}" "${MIN[$hk]}"))$(rows_note "$k" "$5")"
  else
    na "$t" "${ERR[$k]:-${ERR[$hk]:-not measured}}"
  fi
}
ctarget "(a) ps(X), a ${CT_OWN:-?}-process container <= 25% of the host scan (${P3A:-?})" \
  q_sql_cts q_sql_h3a 0.25 "${CT_OWN:-}"
ctarget "(b) ps(X), a ${PCT:-?}-process container <= 1.25x the host scan (${P3B:-?})" \
  q_sql_ctb q_sql_h3b 1.25 "${PCT:-}"
ctarget "(c) containers JOIN ps, $CT_SMALL x ${CT_OWN:-?} processes <= 40% of the host scan (${P3A:-?})" \
  q_sql_join q_sql_h3a 0.40 "$((CT_SMALL * ${CT_OWN:-0}))"
# (b) against a host scan of about its own size: the 3a one, a separate run
t="(b) read against the 3a host scan (${P3A:-?}, separate run)"
if have q_sql_ctb q_sql_h3a; then
  printf '  %-4s  %-62s %s\n' "info" "$t" "$(ratio3 "${MED[q_sql_ctb]}" "${MED[q_sql_h3a]}") = $(fmt "${MED[q_sql_ctb]}") / $(fmt "${MED[q_sql_h3a]}") ms (by minimums $(ratio3 "${MIN[q_sql_ctb]}" "${MIN[q_sql_h3a]}"))"
fi
# phase 2b has no target (issue 10 sets none): the source that adds the
# most over its bare read, beside what the /proc/PID directory alone costs
worst="" worst_d=""
for e in "${NC_SRC[@]}"; do
  IFS='|' read -r k what _ items <<<"$e"
  if [ -z "$items" ] || ! have "q_nc_$k" "q_nf_$k" q_nc_base q_nf_base; then continue; fi
  a=$(us_per "${MED[q_nc_$k]}" "${MED[q_nc_base]}" "${ROWS[q_nc_base]}")
  f=$(us_per "${MED[q_nf_$k]}" "${MED[q_nf_base]}" "${ROWS[q_nf_base]}")
  d=$(awk -v a="$a" -v f="$f" 'BEGIN { printf "%+.2f", a - f }')
  if [ -z "$worst_d" ] || awk -v d="$d" -v w="$worst_d" 'BEGIN { exit !(d > w) }'; then
    worst="$what: $a us/proc against the floor's $f" worst_d=$d
  fi
done
if [ -n "$worst" ]; then
  dir=-
  have q_nf_dir q_nf_base && dir=$(us_per "${MED[q_nf_dir]}" "${MED[q_nf_base]}" "${ROWS[q_nf_base]}")
  dir=$(awk -v d="$dir" -v f="$(us_per "${MED[q_nf_oomadj]:-}" "${MED[q_nf_base]:-}" "${ROWS[q_nf_base]:-}")" \
    'BEGIN { if (d == "-" || f == "-") printf "-"; else printf "%+.2f", d - f }')
  printf '  %-4s  %-62s %s\n' "info" "new sources: the most added over the bare read (phase 2b)" \
    "$worst_d us/proc, $worst (the /proc/PID directory alone: $dir us/proc)"
fi
# phase 2c: each sample = X within X + 2 scans + the bound, by medians
for e in "${SMP_KEYS[@]}"; do
  k=${e%%|*} x=${e#*|}
  t="sample = $x: <= $x s + 2 scans + (10% of a scan + 1 ms)"
  if have "$k" q_smp_scan; then
    b=$(smp_bound "${MED[q_smp_scan]}") ex=$(smp_excess "${MED[$k]}" "$x" "${MED[q_smp_scan]}")
    target "$t" "$ex <= $b" "excess $ex ms (bound $b ms; by minimums $(smp_excess "${MIN[$k]}" "$x" "${MIN[q_smp_scan]}") ms)"
  else na "$t" "${ERR[$k]:-${ERR[q_smp_scan]:-not measured}}"; fi
done
# phase 2d: new/old by medians, the median of the runs' ratios
for q in ef pid; do
  if [ $q = ef ]; then t="no new columns: ps -ef columns <= 1.05x of ${OLD_SHORT:-$OLD_REV} (medians)"; else
    t="no new columns: SELECT pid FROM ps <= 1.05x of ${OLD_SHORT:-$OLD_REV} (medians)"; fi
  rs=$(printf '%s\n' "${OLD_RATIOS[@]}" | awk -v q=$q '$1 == q')
  if [ -z "$rs" ]; then na "$t" "${OLD_NOTE:-not measured}"; continue; fi
  # the median over the runs, and the spreads: new/old by medians and by
  # minimums, and copy/new (the same code twice: the noise)
  med=$(awk '{ print $2 }' <<<"$rs" | sort -g | awk '{ v[NR] = $1 } END { printf "%.4f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  read -r lo hi mlo mhi clo chi < <(awk 'NR == 1 { a = b = $2; c = d = $3; e = f = $4 }
    { if ($2 < a) a = $2; if ($2 > b) b = $2; if ($3 < c) c = $3; if ($3 > d) d = $3; if ($4 < e) e = $4; if ($4 > f) f = $4 }
    END { printf "%.3f %.3f %.3f %.3f %.3f %.3f\n", a, b, c, d, e, f }' <<<"$rs")
  target "$t" "$med <= 1.05" "$(printf '%.3fx' "$med") (runs $lo-${hi}x, by minimums $mlo-${mhi}x; same code: $clo-${chi}x)"
done
t="ps_threads: sqlite3 shell faster than ps -eL -o $THR_COLS"
if have c_sql_thr c_ps_thr; then
  target "$t" "${MED[c_sql_thr]} < ${MED[c_ps_thr]}" \
    "$(ratio3 "${MED[c_sql_thr]}" "${MED[c_ps_thr]}") = $(fmt "${MED[c_sql_thr]}") / $(fmt "${MED[c_ps_thr]}") ms (by minimums $(ratio3 "${MIN[c_sql_thr]}" "${MIN[c_ps_thr]}")), ${PT:-?} threads"
else na "$t" "${ERR[c_sql_thr]:-${ERR[c_ps_thr]:-not measured}}"; fi
t="ps -ef columns scan: sqlite3 peak RSS under 16 MiB"
if have c_sql_ef; then
  target "$t" "${RSS[c_sql_ef]} < 16384" "${RSS[c_sql_ef]} KiB at $P procs$([ "$N" -lt 10000 ] && echo " (target is at 10,000: N=10000)")"
else na "$t" "not measured"; fi

echo
echo "Commands (cmdtime runs each with stdout on /dev/null; qtime cases are 'sql:' one connection,"
echo "'fresh:' a new connection per run, 'floor:' a floor pass; X differs per phase):"
for k in $(printf '%s\n' "${!CMD[@]}" | sort); do printf '  %-15s %s\n' "$k" "${CMD[$k]}"; done
N=$N RUNS=$RUNS WARMUP=$WARMUP EXT=$EXT bench/sockets.sh || say "bench/sockets.sh (ps_sockets against ss -tanp, 10,000 sockets) failed"
