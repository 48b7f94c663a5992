/*
** fuzz_common.h: shared helpers of the fuzz targets (tests/fuzz/fuzz_*.c).
**
** CHECK() aborts with a message, so libFuzzer records a broken invariant as
** a crash just like a sanitizer report. The counting allocator lets a
** target replay one input with the k-th allocation of the library failing,
** for every k, to cover the -ENOMEM paths (LeakSanitizer checks that they
** free what they took).
*/
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

#define CHECK(cond)                                                                                                    \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                                     \
      abort();                                                                                                         \
    }                                                                                                                  \
  } while (0)

/* Allocations seen since fuzz_alloc_reset(), and the one to fail (0: none). */
static unsigned fuzz_alloc_count, fuzz_alloc_fail_at, fuzz_alloc_failed;

static inline int fuzz_alloc_should_fail(void) {
  fuzz_alloc_count++;
  if (fuzz_alloc_fail_at && fuzz_alloc_count == fuzz_alloc_fail_at) {
    fuzz_alloc_failed++;
    return 1;
  }
  return 0;
}
static inline void *fuzz_malloc(size_t n) { return fuzz_alloc_should_fail() ? NULL : malloc(n); }
static inline void *fuzz_realloc(void *p, size_t n) { return fuzz_alloc_should_fail() ? NULL : realloc(p, n); }

/* Count allocations from now on; fail the fail_at-th one (1-based; 0: none). */
static inline void fuzz_alloc_reset(unsigned fail_at) {
  psnap_set_allocator(fuzz_malloc, fuzz_realloc, free);
  fuzz_alloc_count = 0;
  fuzz_alloc_failed = 0;
  fuzz_alloc_fail_at = fail_at;
}

/*
** One more decimal digit, as psnap_next_uint() reads them: saturating at
** ULLONG_MAX (an id of 2^64 + 7 must not read as 7).
*/
static inline unsigned long long fuzz_digit(unsigned long long x, char c) {
  unsigned long long r;
  if (__builtin_mul_overflow(x, 10ull, &r) || __builtin_add_overflow(r, (unsigned long long)(c - '0'), &r))
    return ~0ull;
  return r;
}

/* Little-endian integers from the front of the input (missing bytes: 0). */
static inline uint64_t fuzz_take(const uint8_t **d, size_t *n, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = 0; i < bytes; i++) {
    uint64_t b = 0;
    if (*n) {
      b = **d;
      (*d)++;
      (*n)--;
    }
    v |= b << (8 * i);
  }
  return v;
}

#endif
