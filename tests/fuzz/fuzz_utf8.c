/*
** fuzz_utf8.c: src/utf8.c, the validator and the U+FFFD repair behind every
** TEXT value of the extension (ext/values.c).
**
** Invariants, against a reference that works from code points rather than
** from utf8.c's byte ranges: a prefix of bytes is the start of a
** well-formed sequence when the code points its completions can reach
** (the missing continuation bits all 0 to all 1) include one that is
** allowed for that length: at least 0x80, 0x800 or 0x10000, at most
** 0x10FFFF, not a surrogate. Then:
**   - the repair equals the reference's: each well-formed character kept,
**     each maximal subpart (the longest prefix that is such a start, at
**     least one byte) one EF BF BD;
**   - psnap_utf8_repaired_len() is the repair's length, psnap_utf8_valid()
**     the length of the longest prefix the repair keeps as it is;
**   - the repair is valid, and repairing it changes nothing;
**   - valid input (psnap_utf8_valid() == n) comes out unchanged.
*/
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The sequence length a lead byte announces by its bits (0: none, a continuation byte). */
static size_t announced(unsigned c) {
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) return 2;
  if ((c & 0xf0) == 0xe0) return 3;
  if ((c & 0xf8) == 0xf0) return 4;
  return 0;
}

/* Whether p[0..k) (k >= 1) starts a well-formed sequence, and *whole: it is one. */
static int starts(const uint8_t *p, size_t k, int *whole) {
  static const unsigned minimum[5] = {0, 0, 0x80, 0x800, 0x10000};
  size_t len = announced(p[0]);
  *whole = 0;
  if (len == 0 || k > len) return 0;
  unsigned lo = p[0] & (len == 1 ? 0x7fu : 0x7fu >> len), hi;
  for (size_t i = 1; i < k; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    lo = lo << 6 | (p[i] & 0x3fu);
  }
  hi = lo;
  for (size_t i = k; i < len; i++) lo <<= 6, hi = hi << 6 | 0x3f;
  /* some code point of [lo, hi] is allowed: above the minimum, at most U+10FFFF, not a surrogate */
  if (lo < minimum[len]) lo = minimum[len];
  if (hi > 0x10ffff) hi = 0x10ffff;
  if (lo > hi) return 0;
  if (lo >= 0xd800 && hi <= 0xdfff) return 0;
  *whole = k == len && !(lo >= 0xd800 && lo <= 0xdfff);
  return 1;
}

/* At p (n > 0 bytes): the longest prefix that starts a well-formed
   sequence (0: none), and *whole: that prefix is a whole character. */
static size_t step(const uint8_t *p, size_t n, int *whole) {
  size_t best = 0;
  int w;
  *whole = 0;
  for (size_t k = 1; k <= 4 && k <= n && starts(p, k, &w); k++) best = k, *whole = w;
  return best;
}

/* The reference repair into out (3 * n bytes): its length; *keep the valid prefix's. */
static size_t reference(const uint8_t *p, size_t n, uint8_t *out, size_t *keep) {
  size_t o = 0;
  *keep = n;
  for (size_t i = 0; i < n;) {
    int whole;
    size_t best = step(p + i, n - i, &whole);
    if (whole) {
      memcpy(out + o, p + i, best);
      o += best;
      i += best;
      continue;
    }
    if (*keep == n) *keep = i;
    memcpy(out + o, "\xef\xbf\xbd", 3);
    o += 3;
    i += best ? best : 1;
  }
  return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *d = (const char *)data;
  uint8_t *want = malloc(3 * size + 1), *got = malloc(3 * size + 1), *again = malloc(9 * size + 1);
  CHECK(want && got && again);
  size_t keep, wn = reference(data, size, want, &keep);

  size_t len = psnap_utf8_repaired_len(d, size);
  size_t n = psnap_utf8_repair(d, size, (char *)got);
  CHECK(len == n && n == wn && memcmp(got, want, n) == 0);
  CHECK(psnap_utf8_valid(d, size) == keep);
  /* the repair is valid and stays as it is */
  CHECK(psnap_utf8_valid((const char *)got, n) == n);
  CHECK(psnap_utf8_repaired_len((const char *)got, n) == n);
  CHECK(psnap_utf8_repair((const char *)got, n, (char *)again) == n && memcmp(again, got, n) == 0);
  /* valid input is unchanged */
  if (keep == size) CHECK(n == size && memcmp(got, data, size) == 0);
  /* psnap_utf8_next: a whole character's length, else minus the maximal subpart's */
  if (size > 0) {
    unsigned cp;
    int whole, k = psnap_utf8_next(data, size, &cp);
    size_t best = step(data, size, &whole);
    CHECK(whole ? k == (int)best : k == -(int)(best ? best : 1));
  }
  free(want);
  free(got);
  free(again);
  return 0;
}
