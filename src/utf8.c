/*
** utf8.c: UTF-8 as the Unicode standard defines it (chapter 3, table 3-7),
** for the SQLite layer, which must hand out TEXT that is UTF-8 whatever
** bytes a process chose for its name, its arguments or its paths.
**
** Well-formed sequences, and nothing else:
**   00..7F
**   C2..DF 80..BF
**   E0     A0..BF 80..BF        (E0 80..9F would be overlong)
**   E1..EC 80..BF 80..BF
**   ED     80..9F 80..BF        (ED A0..BF would be a surrogate)
**   EE..EF 80..BF 80..BF
**   F0     90..BF 80..BF 80..BF (F0 80..8F would be overlong)
**   F1..F3 80..BF 80..BF 80..BF
**   F4     80..8F 80..BF 80..BF (F4 90.. would be above U+10FFFF)
** C0, C1 and F5..FF start nothing; 80..BF only continue.
**
** Repair replaces each "maximal subpart of an ill-formed subsequence" by
** one U+FFFD (Unicode 3.9, "U+FFFD Substitution of Maximal Subparts"; the
** WHATWG Encoding standard's decoder does the same, and so does Python's
** bytes.decode('utf-8', 'replace')): the longest prefix of a well-formed
** sequence that starts at the byte, or that byte alone when it starts
** none. So E2 82 before 'x' is one U+FFFD, E0 80 two (80 cannot follow
** E0), ED A0 80 three.
**
** Pure functions: no allocation, no state. Unit tested (tests/unit) and
** fuzzed (tests/fuzz/fuzz_utf8.c).
*/
#include "procfs.h"

#include <string.h>

/* The range a byte must be in at position i (1..3) after lead c. */
static int continues(unsigned c, size_t i, unsigned b) {
  unsigned lo = 0x80, hi = 0xbf;
  if (i == 1) {
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  }
  return b >= lo && b <= hi;
}

/*
** The sequence at p (n > 0 bytes left): its length (1 to 4) when it is a
** well-formed character, with *cp its code point; else minus the length
** of its maximal subpart (-1 to -3), which one U+FFFD replaces.
*/
int psnap_utf8_next(const unsigned char *p, size_t n, unsigned *cp) {
  unsigned c = p[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c < 0xc2 || c > 0xf4) return -1;
  size_t len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
  unsigned v = c & (0x7fu >> len);
  for (size_t i = 1; i < len; i++) {
    if (i >= n || !continues(c, i, p[i])) return -(int)i;
    v = v << 6 | (p[i] & 0x3fu);
  }
  *cp = v;
  return (int)len;
}

/* The length of the longest well-formed prefix of p: n when all of it is. */
size_t psnap_utf8_valid(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    /* the common case: ASCII, 8 bytes at a time */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned cp;
    int k = psnap_utf8_next(p + i, n - i, &cp);
    if (k < 0) return i;
    i += (size_t)k;
  }
  return n;
}

/* The length of p repaired (each maximal subpart 3 bytes: EF BF BD). */
size_t psnap_utf8_repaired_len(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t out = 0;
  for (size_t i = 0; i < n;) {
    unsigned cp;
    int k = psnap_utf8_next(p + i, n - i, &cp);
    out += k > 0 ? (size_t)k : 3;
    i += (size_t)(k > 0 ? k : -k);
  }
  return out;
}

/*
** Write p repaired into out, which has room for psnap_utf8_repaired_len()
** bytes (no NUL is added). Returns the bytes written.
*/
size_t psnap_utf8_repair(const char *s, size_t n, char *out) {
  static const char fffd[3] = {'\xef', '\xbf', '\xbd'}; /* U+FFFD */
  const unsigned char *p = (const unsigned char *)s;
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    unsigned cp;
    int k = psnap_utf8_next(p + i, n - i, &cp);
    if (k > 0) {
      memcpy(out + o, p + i, (size_t)k);
      o += (size_t)k;
      i += (size_t)k;
    } else {
      memcpy(out + o, fffd, sizeof fffd);
      o += 3;
      i += (size_t)-k;
    }
  }
  return o;
}
