/*
** fuzz_cgroup.c: cgroup_path() of src/nslist.c, the parser of
** /proc/PID/cgroup behind ps_namespaces' cgroup column. It is static, so
** this file includes nslist.c itself; build.sh then leaves nslist.o out of
** this target's link (the marker line below).
**
** fuzz-includes: src/nslist.c
**
** (desc.c's cgroup column, the other reader of that file, is fuzzed by
** fuzz_desc.c through the public column registry.)
**
** Invariants, against a reference written from nslist.c's comment: the
** result is the path (the text after the second ':') of the first
** "0::" line whose path is longer than one byte, else of the first line
** with two ':' and such a path, else NULL; a copy of exactly those bytes,
** NUL-terminated, in memory of the library's allocator. Replayed with its
** one allocation failing: NULL, no leak.
*/
#include "../../src/nslist.c"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *d = (const char *)data;
  /* the reference */
  const char *want = NULL, *p = d, *end = d + size;
  size_t wn = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    const char *c1 = memchr(p, ':', (size_t)(le - p));
    const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
    if (c2 && (size_t)(le - c2 - 1) > 1) {
      int v2 = le - p >= 3 && memcmp(p, "0::", 3) == 0;
      if (!want || v2) want = c2 + 1, wn = (size_t)(le - c2 - 1);
      if (v2) break;
    }
    p = le + 1;
  }

  fuzz_alloc_reset(0);
  char *got = cgroup_path(d, size);
  unsigned allocs = fuzz_alloc_count;
  if (!want) {
    CHECK(got == NULL && allocs == 0);
  } else {
    CHECK(got != NULL && allocs == 1);
    CHECK(memcmp(got, want, wn) == 0 && got[wn] == '\0');
  }
  psnap_free(got);
  if (allocs) {
    fuzz_alloc_reset(1);
    CHECK(cgroup_path(d, size) == NULL && fuzz_alloc_failed == 1);
  }
  psnap_set_allocator(NULL, NULL, NULL);
  return 0;
}
