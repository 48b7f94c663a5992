/*
** fuzz_caps.c: psnap_caps_format() on any 64-bit mask and any output size,
** with the running kernel's names (psnap_capnames_init, once) and with
** name tables for every other cap_last_cap (0..63) built the same way.
**
** Input: [mask:8][out size:2][table:1] (missing bytes: 0).
** Invariants: nothing written when the size is 0; otherwise the result is
** shorter than the size, NUL-terminated at the returned length, and is the
** longest prefix of the unlimited text that ends between two names (or a
** cut "full"/"none"); the unlimited text is "full", "none" or the names of
** the set bits below cap_last_cap+1, sorted and joined by ','. Names hold
** only [A-Z0-9_] (digits only for numbers libcap has no name for).
*/
#include <ctype.h>
#include <sys/capability.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct psnap_capnames real, synth[64]; /* synth[k]: cap_last_cap k */

static void check_names(const struct psnap_capnames *cn) {
  CHECK(cn->n == cn->last_cap + 1 && cn->n >= 1 && cn->n <= 64);
  unsigned char seen[64] = {0};
  for (int k = 0; k < cn->n; k++) {
    int i = cn->order[k];
    CHECK(i < cn->n && !seen[i]);
    seen[i] = 1;
    CHECK(memchr(cn->name[i], '\0', sizeof cn->name[i]) && cn->name[i][0]);
    for (const char *c = cn->name[i]; *c; c++) CHECK((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_');
    if (k) CHECK(strcmp(cn->name[cn->order[k - 1]], cn->name[i]) <= 0);
  }
}

static void init(void) {
  CHECK(psnap_capnames_init(&real) == 0);
  check_names(&real);
  for (int last = 0; last < 64; last++) {
    struct psnap_capnames *cn = &synth[last];
    memset(cn, 0, sizeof *cn);
    cn->last_cap = last;
    cn->n = last + 1;
    for (int i = 0; i < cn->n; i++) {
      char *nm = cap_to_name((cap_value_t)i);
      CHECK(nm);
      const char *s = strncasecmp(nm, "cap_", 4) == 0 ? nm + 4 : nm;
      size_t k = 0;
      for (; s[k] && k < sizeof cn->name[i] - 1; k++) cn->name[i][k] = (char)toupper((unsigned char)s[k]);
      cap_free(nm);
      cn->order[i] = (unsigned char)i;
    }
    for (int i = 1; i < cn->n; i++) /* insertion sort by name */
      for (int j = i; j > 0 && strcmp(cn->name[cn->order[j - 1]], cn->name[cn->order[j]]) > 0; j--) {
        unsigned char x = cn->order[j];
        cn->order[j] = cn->order[j - 1];
        cn->order[j - 1] = x;
      }
    check_names(cn);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) init(), ready = 1;
  uint64_t mask = fuzz_take(&data, &size, 8);
  size_t cap = (size_t)fuzz_take(&data, &size, 2) % 2304;
  unsigned sel = (unsigned)fuzz_take(&data, &size, 1);
  const struct psnap_capnames *cn = sel < 64 ? &synth[sel] : &real;

  /* the unlimited text, built independently */
  static char want[64 * 33 + 8];
  size_t wlen = 0;
  uint64_t all = cn->n == 64 ? ~0ull : (1ull << cn->n) - 1;
  const char *whole = (mask & all) == all ? "full" : (mask & all) == 0 ? "none" : NULL;
  if (whole) {
    wlen = strlen(whole);
    memcpy(want, whole, wlen);
  } else {
    for (int k = 0; k < cn->n; k++) {
      int i = cn->order[k];
      if (!(mask >> i & 1)) continue;
      if (wlen) want[wlen++] = ',';
      size_t l = strlen(cn->name[i]);
      memcpy(want + wlen, cn->name[i], l);
      wlen += l;
    }
  }
  want[wlen] = '\0';
  CHECK(wlen < 64 * 32); /* desc.c formats into a scratch buffer of 64 * 32 bytes */

  /* an exact-size heap buffer, so ASan sees any write past cap */
  char *out = malloc(cap ? cap : 1);
  CHECK(out);
  memset(out, 0x7f, cap ? cap : 1);
  size_t got = psnap_caps_format(cn, mask, cap ? out : out + 1, cap);
  if (cap == 0) {
    CHECK(got == 0 && (unsigned char)out[0] == 0x7f);
  } else {
    CHECK(got < cap && out[got] == '\0' && strlen(out) == got);
    CHECK(got <= wlen && memcmp(out, want, got) == 0);
    if (whole) {
      CHECK(got == (wlen < cap ? wlen : cap - 1));
    } else {
      for (size_t i = 0; i < got; i++)
        CHECK((out[i] >= 'A' && out[i] <= 'Z') || (out[i] >= '0' && out[i] <= '9') || out[i] == '_' || out[i] == ',');
      CHECK(got == 0 || got == wlen || want[got] == ','); /* cut before a name */
      CHECK(got == 0 || out[got - 1] != ',');
      if (got < wlen) { /* the next name did not fit */
        const char *next = want + got + (got ? 1 : 0);
        const char *nend = strchr(next, ',');
        size_t nl = nend ? (size_t)(nend - next) : strlen(next);
        CHECK(got + (got ? 1 : 0) + nl >= cap);
      }
      if (wlen < cap) CHECK(got == wlen); /* nothing cut when it all fits */
    }
  }
  free(out);
  return 0;
}
