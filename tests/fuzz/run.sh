#!/bin/bash
# tests/fuzz/run.sh: build every fuzz target and fuzz each for a while, one
# at a time (one core), then print a table of the results.
#
#   tests/fuzz/run.sh [SECONDS] [NAME...]    default: 30 seconds, every target
#
# Each target NAME (tests/fuzz/fuzz_NAME.c) starts from the seeds in
# tests/fuzz/corpus/NAME and adds what it finds to a scratch corpus,
# build/fuzz/corpus_NAME (kept between runs, never committed). Crashing
# inputs are written to build/fuzz/NAME-crash-* (-leak-, -timeout-, -oom-),
# the log to build/fuzz/NAME.log. FUZZ_FLAGS adds libFuzzer flags (e.g.
# FUZZ_FLAGS='-fork=1 -ignore_crashes=1' to go on past a known crash).
#
# Exit status: 1 when a target crashed (a sanitizer report, a broken
# invariant, a leak, a timeout), 2 when the build failed, else 0.
#
# To replay a crash:   build/fuzz/fuzz_NAME build/fuzz/NAME-crash-<hash>
# To minimize it:      build/fuzz/fuzz_NAME -minimize_crash=1 -max_total_time=60 \
#                        -exact_artifact_path=min build/fuzz/NAME-crash-<hash>
# then copy it into tests/fuzz/regress/NAME/ (tests/fuzz/regress.sh replays it).
set -u
cd "$(dirname "$0")/../.." || exit 2
B=build/fuzz
secs=30
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  secs=$1
  shift
fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    n=${f#tests/fuzz/fuzz_}
    names+=("${n%.c}")
  done
fi
for n in "${names[@]}"; do
  if [ ! -f "tests/fuzz/fuzz_$n.c" ]; then
    echo "run.sh: no target tests/fuzz/fuzz_$n.c" >&2
    exit 2
  fi
done

tests/fuzz/build.sh "${names[@]}" || exit 2

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
read -ra extra <<<"${FUZZ_FLAGS:-}"
failed=0
rows=()
for n in "${names[@]}"; do
  mkdir -p "$B/corpus_$n"
  log=$B/$n.log
  echo "== fuzz_$n: ${secs}s" >&2
  seeds=()
  [ -d "tests/fuzz/corpus/$n" ] && seeds=("tests/fuzz/corpus/$n")
  "$B/fuzz_$n" "$B/corpus_$n" "${seeds[@]}" \
    -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
    -artifact_prefix="$B/$n-" "${extra[@]}" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ -z "$execs" ]; then # no final stats after a crash: the last status line
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  fi
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+') # in memory, after reductions
  # -fork mode (-ignore_crashes=1 goes on after one): its count of ooms, timeouts, crashes
  forked=$(grep -oE 'oom/timeout/crash: [0-9]+/[0-9]+/[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+/[0-9]+/[0-9]+')
  if [ -n "$forked" ] && [ "$forked" != 0/0/0 ]; then
    failed=1
    result="CRASHES (oom/timeout/crash $forked): $B/$n-* (see $log)"
  elif [ $rc -eq 0 ]; then
    result=ok
  else
    failed=1
    art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    why=$(grep -m1 -oE 'invariant failed: .*|ERROR: [A-Za-z]+Sanitizer: [a-z-]+|runtime error: .{0,60}|ERROR: libFuzzer: [a-z-]+' "$log" | head -1)
    result="CRASH ${art:-(no artifact)}: ${why:-exit $rc} (see $log)"
  fi
  rows+=("$(printf '%-8s %12s %8s %6s %6s %7s  %s' "$n" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$result")")
done

printf '%-8s %12s %8s %6s %6s %7s  %s\n' target execs exec/s cov ft corpus result
printf '%s\n' "${rows[@]}"
exit $failed
