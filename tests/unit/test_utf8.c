/*
** test_utf8.c: unit tests of src/utf8.c, the validator and the U+FFFD
** repair behind every TEXT value of the extension.
**
** The expected outputs are the Unicode standard's own: tables 3-8 to 3-12
** of chapter 3 (section 3.9, "U+FFFD Substitution of Maximal Subparts")
** give byte sequences and the characters a conforming converter makes of
** them; the boundaries of table 3-7 (the well-formed sequences) must come
** through unchanged, and the bytes just past each boundary must not.
**
** test_parsers.c's main() calls test_utf8(check) with its TAP check().
*/
#include <stdio.h>
#include <string.h>

#include "procfs.h"

void test_utf8(void (*check)(int cond, const char *name));

#define R "\xef\xbf\xbd" /* U+FFFD */

/* One case: the input, and what repair must make of it. */
struct utf8_case {
  const char *name;
  const char *in;
  size_t n;
  const char *want;
  size_t wn;
};
#define CASE(name, in, want)                                                                                           \
  { name, in, sizeof in - 1, want, sizeof want - 1 }

static const struct utf8_case cases[] = {
    /* Unicode table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 */
    CASE("table 3-8 (truncated and stray bytes)",
         "a\xf1\x80\x80\xe1\x80\xc2"
         "b\x80"
         "c\x80\xbf"
         "d",
         "a" R R R "b" R "c" R R "d"),
    /* table 3-9, non-shortest forms: C0 AF E0 80 BF F0 81 82 41 */
    CASE("table 3-9 (overlong forms)",
         "\xc0\xaf\xe0\x80\xbf\xf0\x81\x82"
         "A",
         R R R R R R R R "A"),
    /* table 3-10, surrogates: ED A0 80 ED BF BF ED AF 41 */
    CASE("table 3-10 (surrogates)",
         "\xed\xa0\x80\xed\xbf\xbf\xed\xaf"
         "A",
         R R R R R R R R "A"),
    /* table 3-11, other ill-formed: F4 91 92 93 FF 41 80 BF 42 */
    CASE("table 3-11 (above U+10FFFF, FF, stray)",
         "\xf4\x91\x92\x93\xff"
         "A\x80\xbf"
         "B",
         R R R R R "A" R R "B"),
    /* table 3-12, truncated sequences: E1 80 E2 F0 91 92 F1 BF 41 */
    CASE("table 3-12 (truncated sequences)",
         "\xe1\x80\xe2\xf0\x91\x92\xf1\xbf"
         "A",
         R R R R "A"),
    /* what a process may name itself: prctl(PR_SET_NAME) with \xff\xfe */
    CASE("ff fe", "\xff\xfe", R R),
    CASE("C0 and C1 start nothing", "\xc0\x80\xc1\xbf", R R R R),
    CASE("F5 to FF start nothing", "\xf5\x80\x80\x80\xf8\x88\x80\x80\x80\xfe", R R R R R R R R R R),
    CASE("a truncated 3-byte sequence at the end", "x\xe2\x82", "x" R),
    CASE("a truncated 4-byte sequence at the end", "x\xf0\x9f\x98", "x" R),
    CASE("a lead byte cut by another lead", "\xe2\xe2\x82\xac", R "\xe2\x82\xac"),
    CASE("a truncated sequence before ASCII and NUL", "\xf0\x9f\x98 \xe2\x82", R " " R),
    CASE("E0 80..9F is overlong", "\xe0\x9f\xbf", R R R),
    CASE("F0 80..8F is overlong", "\xf0\x8f\xbf\xbf", R R R R),
    CASE("F4 90 is above U+10FFFF", "\xf4\x90\x80\x80", R R R R),
    CASE("valid after invalid", "\xff\xc3\xa9t\xc3\xa9", R "\xc3\xa9t\xc3\xa9"),
    /* unchanged: the first and last character of each row of table 3-7 */
    CASE("U+0000 and U+007F", "a\0b\x7f", "a\0b\x7f"),
    CASE("U+0080 and U+07FF", "\xc2\x80\xdf\xbf", "\xc2\x80\xdf\xbf"),
    CASE("U+0800 and U+0FFF", "\xe0\xa0\x80\xe0\xbf\xbf", "\xe0\xa0\x80\xe0\xbf\xbf"),
    CASE("U+1000 and U+CFFF", "\xe1\x80\x80\xec\xbf\xbf", "\xe1\x80\x80\xec\xbf\xbf"),
    CASE("U+D000 and U+D7FF", "\xed\x80\x80\xed\x9f\xbf", "\xed\x80\x80\xed\x9f\xbf"),
    CASE("U+E000 and U+FFFF", "\xee\x80\x80\xef\xbf\xbf", "\xee\x80\x80\xef\xbf\xbf"),
    CASE("U+10000 and U+3FFFF", "\xf0\x90\x80\x80\xf0\xbf\xbf\xbf", "\xf0\x90\x80\x80\xf0\xbf\xbf\xbf"),
    CASE("U+40000 and U+FFFFF", "\xf1\x80\x80\x80\xf3\xbf\xbf\xbf", "\xf1\x80\x80\x80\xf3\xbf\xbf\xbf"),
    CASE("U+100000 and U+10FFFF", "\xf4\x80\x80\x80\xf4\x8f\xbf\xbf", "\xf4\x80\x80\x80\xf4\x8f\xbf\xbf"),
    CASE("U+FFFD itself", R, R),
    CASE("empty", "", ""),
    CASE("long ASCII (the 8-byte path)", "0123456789abcdefghijklmnopqrstuvwxyz\xff",
         "0123456789abcdefghijklmnopqrstuvwxyz" R),
};

void test_utf8(void (*check)(int cond, const char *name)) {
  char name[160], out[256];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct utf8_case *c = &cases[i];
    size_t wn = c->wn;
    size_t len = psnap_utf8_repaired_len(c->in, c->n);
    size_t got = len <= sizeof out ? psnap_utf8_repair(c->in, c->n, out) : 0;
    int ok = len == wn && got == wn && memcmp(out, c->want, wn) == 0;
    if (!ok) {
      printf("# utf8 %s: got %zu bytes:", c->name, got);
      for (size_t k = 0; k < got; k++) printf(" %02x", (unsigned char)out[k]);
      printf("\n");
    }
    snprintf(name, sizeof name, "utf8: repair: %s", c->name);
    check(ok, name);
    /* the validator: valid exactly when repair changes nothing */
    int same = wn == c->n && memcmp(c->in, c->want, wn) == 0;
    size_t v = psnap_utf8_valid(c->in, c->n);
    snprintf(name, sizeof name, "utf8: valid: %s", c->name);
    check(same ? v == c->n : v < c->n, name);
  }

  /* the longest valid prefix, and the code points */
  check(psnap_utf8_valid("abc\xc3\xa9\xe2\x82", 7) == 5, "utf8: valid: the prefix before a truncated sequence");
  check(psnap_utf8_valid("0123456789\x80", 11) == 10, "utf8: valid: the prefix after the 8-byte path");
  unsigned cp = 0;
  check(psnap_utf8_next((const unsigned char *)"\xf4\x8f\xbf\xbf", 4, &cp) == 4 && cp == 0x10ffff,
        "utf8: next: U+10FFFF");
  check(psnap_utf8_next((const unsigned char *)"\xe2\x82\xac", 3, &cp) == 3 && cp == 0x20ac, "utf8: next: U+20AC");
  check(psnap_utf8_next((const unsigned char *)"\xe2\x82\xac", 2, &cp) == -2, "utf8: next: cut at n");
  check(psnap_utf8_next((const unsigned char *)"\xf0\x9f\x98\x80", 3, &cp) == -3, "utf8: next: 3 of 4 bytes");
  check(psnap_utf8_next((const unsigned char *)"\xed\xa0\x80", 3, &cp) == -1, "utf8: next: a surrogate's lead");
}
