/*
** fuzz_idmap.c: psnap_parse_idmap() on arbitrary uid_map/gid_map contents,
** then psnap_idmap_in() on ids around the extents' edges and a few fixed
** ones.
**
** Invariants: at most 340 extents and no more than the input has lines;
** every lookup gives the overflow id when no extent holds the id, else the
** first holding extent's inside + (id - outside) (so the result lies inside
** that extent, modulo 2^32 for maps the kernel would refuse).
*/
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t OVERFLOW = 65534;

static void lookup(const struct psnap_idmap *m, uint32_t id) {
  uint32_t got = psnap_idmap_in(m, id, OVERFLOW);
  for (unsigned i = 0; i < m->n; i++) {
    uint64_t lo = m->e[i].outside;
    if (id >= lo && (uint64_t)id < lo + m->e[i].count) {
      uint32_t want = m->e[i].inside + (id - m->e[i].outside);
      CHECK(got == want);
      CHECK((uint32_t)(got - m->e[i].inside) < m->e[i].count);
      return;
    }
  }
  CHECK(got == OVERFLOW);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *)data;
  static struct psnap_idmap m; /* 4 KB: keep it off the stack */
  memset(&m, 0xA5, sizeof m);
  CHECK(psnap_parse_idmap(buf, size, &m) == 0);
  size_t lines = 0;
  for (size_t i = 0; i < size; i++) lines += buf[i] == '\n';
  if (size && buf[size - 1] != '\n') lines++;
  CHECK(m.n <= 340 && m.n <= lines);

  static const uint32_t fixed[] = {0, 1, 1000, 65534, 65535, 65536, 100000, 300000, 0x7fffffff, 0xfffffffe, 0xffffffff};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) lookup(&m, fixed[i]);
  /* the edges of the first 32 and the last 16 extents (lookups are O(n)) */
  for (unsigned i = 0; i < m.n; i++) {
    if (i == 32 && m.n > 48) i = m.n - 16;
    uint32_t lo = m.e[i].outside, c = m.e[i].count;
    lookup(&m, lo - 1);
    lookup(&m, lo);
    lookup(&m, lo + c / 2);
    lookup(&m, lo + c - 1);
    lookup(&m, lo + c);
  }
  return 0;
}
