/*
** fuzz_fields.c: psnap_parse_fields() (smaps_rollup, io, meminfo) and
** psnap_parse_long() (oom_score, oom_score_adj) on arbitrary contents.
**
** Invariants beyond "no crash": every value is -1 (absent) or 0..LLONG_MAX;
** the count returned is the number of keys found; a key found was at the
** start of a line with ':' after it, and a value equal to a reference
** scan of the first such line (saturated decimal after spaces or tabs).
** psnap_parse_long() accepts exactly "spaces, optional sign, digits" with
** trailing newlines or NULs dropped. psnap_parse_container() (a cgroup
** file) gives well-formed ids and pod UIDs or empty strings.
*/
#include <limits.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {"Pss",        "Private_Clean", "Private_Dirty", "rchar",    "wchar",
                                   "read_bytes", "syscr",         "MemTotal",      "Pss_Dirty"};
#define NKEYS (int)(sizeof keys / sizeof keys[0])

/* The reference: the first line "key:" and the saturated decimal after it. */
static long long ref_field(const char *buf, size_t size, const char *key) {
  size_t k = strlen(key);
  const char *p = buf, *end = buf + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    if ((size_t)(le - p) > k && memcmp(p, key, k) == 0 && p[k] == ':' && !memchr(p, ':', k)) {
      const char *q = p + k + 1;
      while (q < le && (*q == ' ' || *q == '\t' || *q == ',')) q++;
      if (q < le && *q >= '0' && *q <= '9') {
        unsigned long long x = 0;
        for (; q < le && *q >= '0' && *q <= '9'; q++) {
          unsigned d = (unsigned)(*q - '0');
          x = x > (ULLONG_MAX - d) / 10 ? ULLONG_MAX : x * 10 + d;
        }
        return x > (unsigned long long)LLONG_MAX ? LLONG_MAX : (long long)x;
      }
      return -2; /* the first "key:" line has no number: the parser keeps looking */
    }
    p = le + 1;
  }
  return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *)data;
  long long v[NKEYS];
  int found = psnap_parse_fields(buf, size, keys, NKEYS, v);
  int n = 0;
  for (int i = 0; i < NKEYS; i++) {
    CHECK(v[i] >= -1);
    if (v[i] >= 0) n++;
    long long r = ref_field(buf, size, keys[i]);
    if (r != -2) CHECK(v[i] == r);
  }
  CHECK(found == n);

  /* psnap_parse_container: ids are 64 lower-case hex digits, pods 8-4-4-4-12 */
  char id[PSNAP_CONTAINER_ID_LEN + 1], pod[PSNAP_POD_UID_LEN + 1];
  int cf = psnap_parse_container(buf, size, id, pod);
  CHECK(cf >= 0 && cf <= 3);
  CHECK((cf & 1) ? strlen(id) == PSNAP_CONTAINER_ID_LEN && strspn(id, "0123456789abcdef") == PSNAP_CONTAINER_ID_LEN
                 : id[0] == '\0');
  CHECK((cf & 2) ? strlen(pod) == PSNAP_POD_UID_LEN && pod[8] == '-' && pod[13] == '-' && pod[18] == '-' &&
                       pod[23] == '-' && strspn(pod, "0123456789abcdef-") == PSNAP_POD_UID_LEN
                 : pod[0] == '\0');

  long long x;
  int ok = psnap_parse_long(buf, size, &x);
  const char *p = buf, *end = buf + size;
  while (end > p && (end[-1] == '\n' || end[-1] == '\0')) end--;
  while (p < end && *p == ' ') p++;
  if (p < end && (*p == '-' || *p == '+')) p++;
  int digits = 0;
  while (p < end && *p >= '0' && *p <= '9') p++, digits++;
  CHECK(ok == (digits > 0 && p == end));
  return 0;
}
