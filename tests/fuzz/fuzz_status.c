/*
** fuzz_status.c: psnap_parse_status() on arbitrary /proc/PID/status
** contents, then the walks the library does over its Groups and NSpid
** lists with psnap_next_uint() (desc.c groups_of, ns.c nspid_last and
** nspid_at, snap.c psnap_pidns_inode).
**
** Invariants: the result is 0; groups and nspid point inside the input,
** just after a "Groups:" / "NSpid:" key at the start of a line, and end at
** that line's end; have_ids is 0 or 1, have_cap uses 5 bits; every
** psnap_next_uint() step moves forward, stays inside the list and returns
** the value of the digits it stepped over (saturated at ULLONG_MAX); the
** whole input is walked that way too. A reference pass over the lines
** checks the values: the last "Groups:"/"NSpid:" line is the one kept;
** seccomp, seccomp_filters, nonewprivs and vmrss are the first number
** (as a 32-bit unsigned, then int or long long) of the last "Seccomp:",
** "Seccomp_filters:", "NoNewPrivs:" or "VmRSS:" line that has one, else -1;
** vcsw and nvcsw the first number (64 bits, saturated at LLONG_MAX) of the
** last "voluntary_ctxt_switches:" / "nonvoluntary_ctxt_switches:" line
** that has one, else -1;
** cap[i] is the hex value (low 64 bits) of the last
** Cap line of its kind that has a hex digit, have_cap saying which do;
** have_ids is 1 exactly when some Uid and some Gid line have 4 numbers.
** Values are checked only when their line is the last of its key: a later
** malformed duplicate (a later "Uid:\t5 6", a later "CapEff:\tzz") leaves
** the flag set but overwrites part or all of the value, as uints() and
** hex64() store before they check. Harmless: the kernel writes each key
** once.
*/
#include <ctype.h>
#include <limits.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk a list as the library does; returns the number of entries. */
static size_t walk(const char *list, size_t len) {
  const char *p = list, *end = list + len;
  unsigned long long v;
  size_t k = 0;
  for (;;) {
    const char *before = p;
    int found = psnap_next_uint(&p, end, &v);
    CHECK(found == 0 || found == 1);
    if (!found) {
      CHECK(p == before); /* no progress when nothing was found */
      break;
    }
    CHECK(p > before && p <= end);
    CHECK(p[-1] >= '0' && p[-1] <= '9');
    /* the digits just consumed, re-read: the same value (saturated) */
    const char *d = p;
    while (d > before && d[-1] >= '0' && d[-1] <= '9') d--;
    unsigned long long x = 0;
    for (const char *q = d; q < p; q++) x = fuzz_digit(x, *q);
    CHECK(x == v);
    for (const char *q = before; q < d; q++) CHECK(*q == ' ' || *q == '\t' || *q == ',');
    k++;
    CHECK(k <= len);
  }
  return k;
}

/* The list points just after key at a line start and runs to the line's end. */
static void check_list(const char *buf, size_t size, const char *list, size_t len, const char *key) {
  if (!list) return;
  size_t kl = strlen(key);
  CHECK(list >= buf + kl && list + len <= buf + size);
  CHECK(memcmp(list - kl, key, kl) == 0);
  CHECK(list - kl == buf || list[-(ptrdiff_t)kl - 1] == '\n');
  CHECK(memchr(list, '\n', len) == NULL);
  CHECK(list + len == buf + size || list[len] == '\n');
  walk(list, len);
}

/* Up to n decimals separated by ' ', '\t' or ','; how many were read. */
static int ref_uints(const char *p, const char *end, unsigned long long *out, int n) {
  int k = 0;
  while (k < n) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) p++;
    if (p >= end || *p < '0' || *p > '9') break;
    unsigned long long x = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) x = fuzz_digit(x, *p);
    out[k++] = x;
  }
  return k;
}

static int starts(const char *p, const char *le, const char *key) {
  size_t k = strlen(key);
  return (size_t)(le - p) >= k && memcmp(p, key, k) == 0;
}

static void reference(const char *buf, size_t size, const struct psnap_status *ss) {
  static const char *const capkey[5] = {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"};
  const char *groups = NULL, *nspid = NULL;
  int seccomp = -1, filters = -1, nonewprivs = -1, have[2] = {0, 0}, last_full[2] = {0, 0};
  long long vmrss = -1, csw[2] = {-1, -1};
  unsigned long long ids[2][4];
  uint64_t cap[5] = {0};
  int cap_last_ok[5] = {0};
  unsigned have_cap = 0;
  const char *p = buf, *end = buf + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    unsigned long long v[4];
    for (int u = 0; u < 2; u++)
      if (starts(p, le, u ? "Gid:" : "Uid:")) {
        int k = ref_uints(p + 4, le, v, 4);
        last_full[u] = k == 4;
        if (k == 4) have[u] = 1, memcpy(ids[u], v, sizeof v);
      }
    if (starts(p, le, "Groups:")) groups = p + 7;
    if (starts(p, le, "NSpid:")) nspid = p + 6;
    if (starts(p, le, "Seccomp:") && ref_uints(p + 8, le, v, 1) == 1) seccomp = (int)(unsigned)v[0];
    if (starts(p, le, "Seccomp_filters:") && ref_uints(p + 16, le, v, 1) == 1) filters = (int)(unsigned)v[0];
    if (starts(p, le, "NoNewPrivs:") && ref_uints(p + 11, le, v, 1) == 1) nonewprivs = (int)(unsigned)v[0];
    if (starts(p, le, "VmRSS:") && ref_uints(p + 6, le, v, 1) == 1) vmrss = (unsigned)v[0];
    if (starts(p, le, "voluntary_ctxt_switches:") && ref_uints(p + 24, le, v, 1) == 1)
      csw[0] = v[0] > LLONG_MAX ? LLONG_MAX : (long long)v[0];
    if (starts(p, le, "nonvoluntary_ctxt_switches:") && ref_uints(p + 27, le, v, 1) == 1)
      csw[1] = v[0] > LLONG_MAX ? LLONG_MAX : (long long)v[0];
    for (int i = 0; i < 5; i++)
      if (starts(p, le, capkey[i])) {
        const char *q = p + 7;
        while (q < le && (*q == ' ' || *q == '\t')) q++;
        uint64_t x = 0;
        int digits = 0;
        for (; q < le && isxdigit((unsigned char)*q); q++, digits++)
          x = x << 4 | (uint64_t)(isdigit((unsigned char)*q) ? *q - '0' : (tolower((unsigned char)*q) - 'a' + 10));
        cap_last_ok[i] = digits > 0;
        if (digits) cap[i] = x, have_cap |= 1u << i;
      }
    p = le + 1;
  }
  CHECK(ss->groups == groups && ss->nspid == nspid);
  CHECK(ss->seccomp == seccomp && ss->seccomp_filters == filters);
  CHECK(ss->nonewprivs == nonewprivs && ss->vmrss == vmrss);
  CHECK(ss->vcsw == csw[0] && ss->nvcsw == csw[1]);
  CHECK(ss->have_cap == have_cap);
  for (int i = 0; i < 5; i++)
    if (cap_last_ok[i]) CHECK(ss->cap[i] == cap[i]);
  CHECK(ss->have_ids == (have[0] && have[1]));
  for (int u = 0; u < 2 && ss->have_ids; u++)
    if (last_full[u])
      for (int i = 0; i < 4; i++) CHECK((u ? ss->gid : ss->uid)[i] == (unsigned)ids[u][i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *)data;
  struct psnap_status ss;
  CHECK(psnap_parse_status(buf, size, &ss) == 0);
  CHECK(ss.have_ids == 0 || ss.have_ids == 1);
  CHECK(ss.have_cap < 32);
  check_list(buf, size, ss.groups, ss.groups_len, "Groups:");
  check_list(buf, size, ss.nspid, ss.nspid_len, "NSpid:");
  reference(buf, size, &ss);
  /* psnap_next_uint() over the whole input too: any bytes, any separators */
  walk(buf, size);
  return 0;
}
