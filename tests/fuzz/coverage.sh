#!/bin/bash
# tests/fuzz/coverage.sh: line and branch coverage of the library by each
# fuzz target's corpus (tests/fuzz/corpus/NAME plus the scratch corpus
# build/fuzz/corpus_NAME that run.sh grew), per function, with llvm-cov.
#
#   tests/fuzz/coverage.sh [NAME...]       default: every target
#
# The targets are rebuilt without sanitizers, with clang's source-based
# coverage, into build/fuzz/cov/; only the functions of src/ that the
# corpus reached are listed. Set SHOW=1 to print their uncovered lines too.
set -eu
cd "$(dirname "$0")/../.." || exit 2
B=build/fuzz/cov
CC=${CC:-clang}
command -v "$CC" >/dev/null 2>&1 || CC=clang-14
PROFDATA=$(command -v llvm-profdata || command -v llvm-profdata-14)
COV=$(command -v llvm-cov || command -v llvm-cov-14)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    n=${f#tests/fuzz/fuzz_}
    names+=("${n%.c}")
  done
fi
mkdir -p "$B"
for n in "${names[@]}"; do
  src=tests/fuzz/fuzz_$n.c
  inc=$(sed -n 's/^.*fuzz-includes:\(.*\)$/\1/p' "$src")
  lib=()
  for f in src/*.c; do
    case " $inc " in *" $f "*) ;; *) lib+=("$f") ;; esac
  done
  "$CC" -g -O1 -std=gnu11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
    -o "$B/fuzz_$n" "$src" "${lib[@]}" -lcap -lseccomp -lpthread
  dirs=()
  for d in "build/fuzz/corpus_$n" "tests/fuzz/corpus/$n"; do [ -d "$d" ] && dirs+=("$d"); done
  rm -f "$B/$n".profraw
  LLVM_PROFILE_FILE="$B/$n.profraw" "$B/fuzz_$n" -runs=0 "${dirs[@]}" >"$B/$n.log" 2>&1
  "$PROFDATA" merge -sparse -o "$B/$n.profdata" "$B/$n.profraw"
  echo "== fuzz_$n (${dirs[*]})"
  "$COV" report -show-functions "$B/fuzz_$n" -instr-profile="$B/$n.profdata" src/*.c 2>/dev/null |
    awk 'NR <= 2 && /^Name/ { print; next } $1 ~ /^(Name|-+|TOTAL|File)/ { next }
         NF >= 10 && $3 != $2 { print }' # functions entered at least once (Missed regions < Regions)
  if [ "${SHOW:-}" = 1 ]; then
    "$COV" show "$B/fuzz_$n" -instr-profile="$B/$n.profdata" src/*.c -show-line-counts-or-regions 2>/dev/null |
      grep -E '^ +[0-9]+\| +0\|' | head -40 || true
  fi
done
