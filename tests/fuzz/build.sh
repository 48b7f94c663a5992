#!/bin/bash
# tests/fuzz/build.sh: build every tests/fuzz/fuzz_*.c into build/fuzz/,
# linked with the library sources (src/*.c) instrumented for libFuzzer,
# ASan and UBSan (UBSan findings abort, so they count as crashes).
#
#   tests/fuzz/build.sh [NAME...]     NAME: stat, status, ... (default: all)
#
# CC: a clang with libFuzzer (default: clang, else clang-14). Objects and
# targets older than their sources (or src/*.h, fuzz_common.h) are rebuilt.
# Flags: -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all.
set -eu
cd "$(dirname "$0")/../.."
B=build/fuzz
CC=${CC:-}
if [ -z "$CC" ] || ! "$CC" --version 2>/dev/null | grep -q clang; then
  CC=
  for c in clang clang-14; do
    if command -v "$c" >/dev/null 2>&1; then CC=$c; break; fi
  done
fi
if [ -z "$CC" ]; then
  echo "build.sh: no clang found (Debian: apt-get install clang)" >&2
  exit 2
fi
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
FLAGS="-g -O1 -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -Isrc"
LIBS="-lcap -lseccomp -lpthread"

if [ $# -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    n=${f#tests/fuzz/fuzz_}
    set -- "$@" "${n%.c}"
  done
fi

mkdir -p "$B/obj"
# stale OUT DEP...: OUT is missing or older than a DEP
stale() {
  local out=$1 d
  shift
  [ -e "$out" ] || return 0
  for d in "$@"; do [ "$d" -nt "$out" ] && return 0; done
  return 1
}
objs=()
for f in src/*.c; do
  o=$B/obj/$(basename "$f" .c).o
  if stale "$o" "$f" src/*.h tests/fuzz/build.sh; then
    # shellcheck disable=SC2086
    $CC $FLAGS $SAN -fsanitize=fuzzer-no-link -c -o "$o" "$f"
  fi
  objs+=("$o")
done
# objects of removed sources must not be linked
for o in "$B"/obj/*.o; do
  [ -e "src/$(basename "$o" .o).c" ] || rm -f "$o"
done
# the name-lending helper's bytes (src/lend.c links them; the fuzzers never start it)
make -s build/lender_blob.c || exit 2
if stale "$B/lender_blob.o" build/lender_blob.c; then
  $CC -c -o "$B/lender_blob.o" build/lender_blob.c
fi
objs+=("$B/lender_blob.o")
for n in "$@"; do
  t=$B/fuzz_$n
  src=tests/fuzz/fuzz_$n.c
  # A target that includes a library source to reach its static functions
  # names it on a "fuzz-includes: src/x.c ..." line; x.o is then not linked.
  inc=$(sed -n 's/^.*fuzz-includes:\(.*\)$/\1/p' "$src")
  link=()
  for o in "${objs[@]}"; do
    case " $inc " in *" src/$(basename "$o" .o).c "*) ;; *) link+=("$o") ;; esac
  done
  # shellcheck disable=SC2086
  if stale "$t" "$src" tests/fuzz/fuzz_common.h "${objs[@]}" $inc; then
    # shellcheck disable=SC2086
    $CC $FLAGS $SAN -fsanitize=fuzzer -o "$t" "$src" "${link[@]}" $LIBS
  fi
done
