/*
** fuzz_idtab.c: psnap_idtab_parse() and psnap_idtab_find() on arbitrary
** /etc/passwd or /etc/group contents (a container's: hostile), parsed once
** normally and then with each of its allocations failing in turn.
**
** Invariants: 0 or -ENOMEM (only when an allocation failed, leaving an
** empty table); at most one entry per line, sorted by (id, line); every
** name is a non-empty NUL-terminated string of at most PSNAP_NAME_MAX
** bytes inside the table's own buffer of names, which holds the names in
** line order and nothing else (not the file), without ':' or '\n', not
** starting with '+', '-' or '#'; find(id) of every id present gives the name of its first
** line, and find() of absent ids gives NULL. A reference parser (written
** from the comment in procfs.c, with overflow-checked ids) must find the
** same (id, name) entries. (It found ids of 20+ digits wrapping modulo
** 2^64 past the UINT32_MAX check, "a::18446744073709551616" read as id 0;
** fixed in d4be8b4, psnap_next_uint() saturates: tests/fuzz/regress/idtab.)
*/
#include <errno.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
** The reference: for each line without NUL bytes, "name:x:id[:...]" with a
** name of 1 to PSNAP_NAME_MAX bytes not starting with '+', '-' or '#', and an id of decimal
** digits (after optional ' ', '\t' or ',', as psnap_next_uint skips) that is
** at most UINT32_MAX. Checks that t holds each such entry (same line, id and
** name) and returns how many there are.
*/
static size_t reference(const char *buf, size_t size, const struct psnap_idtab *t) {
  size_t found = 0;
  uint32_t line = 0;
  const char *p = buf, *end = buf + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    line++;
    const char *c1 = memchr(p, ':', (size_t)(le - p));
    const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
    if (c1 && c2 && c1 > p && (size_t)(c1 - p) <= PSNAP_NAME_MAX && *p != '+' && *p != '-' && *p != '#' &&
        !memchr(p, '\0', (size_t)(le - p))) {
      const char *q = c2 + 1;
      while (q < le && (*q == ' ' || *q == '\t' || *q == ',')) q++;
      uint64_t id = 0;
      int digits = 0, big = 0;
      for (; q < le && *q >= '0' && *q <= '9'; q++, digits++) {
        id = id * 10 + (uint64_t)(*q - '0');
        if (id > UINT32_MAX) big = 1, id = UINT32_MAX + 1ull; /* saturate */
      }
      if (digits && !big && (q == le || *q == ':')) {
        /* the library must hold exactly this entry */
        size_t lo = 0, hi = t->n;
        while (lo < hi) { /* first entry with (id, line) >= ours */
          size_t mid = lo + (hi - lo) / 2;
          if (t->e[mid].id < id || (t->e[mid].id == id && t->e[mid].line < line))
            lo = mid + 1;
          else
            hi = mid;
        }
        CHECK(lo < t->n && t->e[lo].id == id && t->e[lo].line == line);
        size_t nlen = (size_t)(c1 - p);
        CHECK(strlen(t->e[lo].name) == nlen && memcmp(t->e[lo].name, p, nlen) == 0);
        found++;
      }
    }
    p = le + 1;
  }
  return found;
}

static int by_line(const void *a, const void *b) {
  const struct psnap_idtab_ent *x = a, *y = b;
  return x->line < y->line ? -1 : x->line > y->line;
}

static void check_table(const struct psnap_idtab *t, const char *buf, size_t size) {
  size_t lines = 0;
  for (size_t i = 0; i < size; i++) lines += buf[i] == '\n';
  if (size && buf[size - 1] != '\n') lines++;
  CHECK(t->n <= lines);
  CHECK(t->n == 0 ? t->e == NULL && t->text == NULL : t->e != NULL && t->text != NULL);
  /* the names buffer: each entry's name and its NUL, packed in line order */
  const char *tend = t->text;
  if (t->n) {
    struct psnap_idtab_ent *byline = malloc(t->n * sizeof *byline);
    CHECK(byline);
    memcpy(byline, t->e, t->n * sizeof *byline);
    qsort(byline, t->n, sizeof *byline, by_line);
    for (size_t i = 0; i < t->n; i++) {
      CHECK(byline[i].name == tend && (i == 0 || byline[i - 1].line < byline[i].line));
      tend += strlen(tend) + 1;
    }
    free(byline);
  }
  size_t first = 0; /* the index of the first entry of the current id */
  for (size_t i = 0; i < t->n; i++) {
    const struct psnap_idtab_ent *e = &t->e[i];
    if (i) CHECK(t->e[i - 1].id < e->id || (t->e[i - 1].id == e->id && t->e[i - 1].line < e->line));
    CHECK(e->name >= t->text && e->name < tend);
    size_t len = strlen(e->name);
    CHECK(len > 0 && len <= PSNAP_NAME_MAX && e->name + len < tend); /* tend: past the last name's NUL */
    CHECK(!memchr(e->name, ':', len) && !memchr(e->name, '\n', len));
    CHECK(e->name[0] != '+' && e->name[0] != '-' && e->name[0] != '#');
    CHECK(e->name == t->text || e->name[-1] == '\0'); /* a name starts after the last one's NUL */
    /* the first line of this id wins */
    if (i == 0 || t->e[i - 1].id != e->id) first = i;
    CHECK(psnap_idtab_find(t, e->id) == t->e[first].name);
    /* neighbours that are absent give NULL */
    if (e->id > 0 && (i == 0 || t->e[i - 1].id < e->id - 1)) CHECK(psnap_idtab_find(t, e->id - 1) == NULL);
    if (e->id < UINT32_MAX && (i + 1 == t->n || t->e[i + 1].id > e->id + 1))
      CHECK(psnap_idtab_find(t, e->id + 1) == NULL);
  }
  if (t->n == 0) CHECK(psnap_idtab_find(t, 0) == NULL && psnap_idtab_find(t, UINT32_MAX) == NULL);
  size_t found = reference(buf, size, t);
  if (found != t->n) {
    fprintf(stderr, "idtab: the library holds %zu entries, the reference parser %zu:\n", t->n, found);
    for (size_t i = 0; i < t->n && i < 20; i++)
      fprintf(stderr, "  line %u id %u name '%s'\n", t->e[i].line, t->e[i].id, t->e[i].name);
  }
  CHECK(found == t->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *)data;
  unsigned total = 0;
  for (unsigned fail_at = 0; fail_at == 0 || fail_at <= total; fail_at++) {
    fuzz_alloc_reset(fail_at);
    struct psnap_idtab t;
    int rc = psnap_idtab_parse(&t, buf, size);
    if (fail_at == 0) {
      total = fuzz_alloc_count;
      CHECK(rc == 0);
      check_table(&t, buf, size);
    } else {
      CHECK(fuzz_alloc_failed == 1);
      CHECK(rc == -ENOMEM);
      CHECK(t.e == NULL && t.text == NULL && t.n == 0);
    }
    psnap_idtab_free(&t);
    CHECK(t.e == NULL && t.text == NULL && t.n == 0);
  }
  psnap_set_allocator(NULL, NULL, NULL);
  return 0;
}
