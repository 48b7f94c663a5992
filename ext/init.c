/*
** init.c: the extension's entry point.
**
**   .load build/ps                      -- sqlite3 shell
**   conn.load_extension("build/ps")     -- Python
**   SELECT ps_version();                -- '0.1.0 (abc1234)'
**
** Registers the tables `ps` and `ps_threads` with the function
** ps_deadline() (ext/ps.c), `ps_descriptors` (ext/descriptors.c),
** `ps_namespaces` (ext/namespaces.c), `ps_fds` and `ps_sockets`
** (ext/fds.c), the functions ps_etime(), ps_cputime() and ps_printable()
** (ext/format.c), and ps_version().
** The loader finds sqlite3_ps_init from the file name ps.so.
**
** Every TEXT value of these tables and functions is well-formed UTF-8:
** the tables' text goes through ps_result_text() (ext/values.c), which
** replaces each ill-formed sequence by U+FFFD; the raw bytes are the
** HIDDEN BLOB columns named <column>_raw. The functions make their text
** themselves: digits and ':' (ps_etime, ps_cputime), the version, and
** ps_printable's '?' for every byte that is not valid UTF-8.
*/
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "ps.h"
#include "psnap.h"

#include <pthread.h>
#include <string.h>

#ifndef PSNAP_VERSION
#define PSNAP_VERSION "unknown"
#endif

/* ps_version(): the version of this build, from VERSION and git. */
static void ps_version(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc, (void)argv;
  ps_result_text(ctx, PSNAP_VERSION, strlen(PSNAP_VERSION));
}

/* The library allocates through SQLite, so SQLITE_CONFIG_MALLOC sees it all.
   Set once per process: a second connection's load must not rewrite the
   allocator while scans of other connections use it. */
static void *sq_malloc(size_t n) { return sqlite3_malloc64(n); }
static void *sq_realloc(void *p, size_t n) { return sqlite3_realloc64(p, n); }
static void sq_free(void *p) { sqlite3_free(p); }
static pthread_once_t allocator_once = PTHREAD_ONCE_INIT;
static void set_allocator(void) { psnap_set_allocator(sq_malloc, sq_realloc, sq_free); }

__attribute__((visibility("default"))) int sqlite3_ps_init(sqlite3 *db, char **pzErrMsg,
                                                           const sqlite3_api_routines *pApi);
__attribute__((visibility("default"))) int sqlite3_ps_init(sqlite3 *db, char **pzErrMsg,
                                                           const sqlite3_api_routines *pApi) {
  SQLITE_EXTENSION_INIT2(pApi);
  (void)pzErrMsg;
  pthread_once(&allocator_once, set_allocator);
  int rc = sqlite3_create_function(db, "ps_version", 0, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, 0,
                                   ps_version, 0, 0);
  if (rc == SQLITE_OK) rc = ps_register_format(db);
#ifndef SQLITE_OMIT_VIRTUALTABLE
  if (rc == SQLITE_OK) rc = ps_register_table(db);
  if (rc == SQLITE_OK) rc = ps_register_descriptors(db);
  if (rc == SQLITE_OK) rc = ps_register_namespaces(db);
  if (rc == SQLITE_OK) rc = ps_register_fds(db);
#endif
  return rc;
}
