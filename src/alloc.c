/*
** alloc.c: the library's allocator, replaceable as a whole.
**
** The SQLite extension routes every allocation of the library through
** sqlite3_malloc64() and friends (ext/init.c), so an application's
** SQLITE_CONFIG_MALLOC hook, and the out-of-memory tests, see them all.
** Programs that link the library directly get the C library's malloc.
*/
#include "procfs.h"

#include <stdlib.h>
#include <string.h>

static void *(*a_malloc)(size_t) = malloc;
static void *(*a_realloc)(void *, size_t) = realloc;
static void (*a_free)(void *) = free;

/* Replace the allocator; call before any snapshot exists. NULLs restore libc's. */
void psnap_set_allocator(void *(*m)(size_t), void *(*r)(void *, size_t), void (*f)(void *)) {
  a_malloc = m ? m : malloc;
  a_realloc = r ? r : realloc;
  a_free = f ? f : free;
}

void *psnap_malloc(size_t n) { return a_malloc(n ? n : 1); }
void *psnap_realloc(void *p, size_t n) { return a_realloc(p, n ? n : 1); }
void psnap_free(void *p) {
  if (p) a_free(p);
}
void *psnap_calloc(size_t n) {
  void *p = psnap_malloc(n);
  if (p) memset(p, 0, n);
  return p;
}
char *psnap_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = psnap_malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}
