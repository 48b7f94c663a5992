#!/bin/bash
# tests/fuzz/regress.sh: build every fuzz target and run it once over its
# seeds (tests/fuzz/corpus/NAME) and its past crashes
# (tests/fuzz/regress/NAME): no fuzzing, a few seconds, for make test / CI.
# Exit status: 1 when an input crashed or broke an invariant, 2 when the
# build failed (e.g. no clang with libFuzzer), else 0.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=build/fuzz
tests/fuzz/build.sh || exit 2
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=0
for f in tests/fuzz/fuzz_*.c; do
  n=${f#tests/fuzz/fuzz_}
  n=${n%.c}
  inputs=()
  for d in "tests/fuzz/corpus/$n" "tests/fuzz/regress/$n"; do
    [ -d "$d" ] || continue
    while IFS= read -r -d '' i; do inputs+=("$i"); done < <(find "$d" -type f -print0 | sort -z)
  done
  if [ ${#inputs[@]} -eq 0 ]; then
    echo "fuzz_$n: no inputs"
    continue
  fi
  log=$B/regress-$n.log
  if "$B/fuzz_$n" "${inputs[@]}" >"$log" 2>&1; then
    echo "fuzz_$n: ok (${#inputs[@]} inputs)"
    continue
  fi
  # name every failing input, not only the first
  failed=1
  for i in "${inputs[@]}"; do
    if ! "$B/fuzz_$n" "$i" >"$log.one" 2>&1; then
      why=$(grep -m1 -oE 'invariant failed: .*|ERROR: [A-Za-z]+Sanitizer: [a-z-]+|runtime error: .{0,70}|ERROR: libFuzzer: [a-z-]+' "$log.one" | head -1)
      echo "fuzz_$n: FAIL $i: ${why:-crashed}"
      sed -n '/ERROR\|runtime error\|invariant failed/,$p' "$log.one" | grep -E '^ +#[0-9]+ .* in ' | grep -vE 'fuzzer::|libc|_start|__sanitizer_|pthread_kill|raise\.c|abort\.c| in main ' | head -6 | sed 's/^/    /'
    fi
  done
  rm -f "$log.one"
done
exit $failed
