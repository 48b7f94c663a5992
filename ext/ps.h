/*
** ps.h: what the files of ext/ share. Every ext/ file includes this
** instead of <sqlite3ext.h>, so they all use the API routines handed to
** the entry point (ext/init.c).
*/
#ifndef PS_EXT_H
#define PS_EXT_H

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3

#include "psnap.h"

int ps_register_table(sqlite3 *db);
int ps_register_descriptors(sqlite3 *db);
int ps_register_format(sqlite3 *db);
int ps_register_namespaces(sqlite3 *db);
int ps_register_fds(sqlite3 *db);

/* ext/values.c: text as well-formed UTF-8, raw bytes as a blob; constraint values as xFilter reads them */
void ps_result_text(sqlite3_context *ctx, const char *s, size_t n);
void ps_result_blob(sqlite3_context *ctx, const void *p, size_t n);
char *ps_value_shown(sqlite3_value *v);
int ps_value_whole(sqlite3_value *v, long long *x);
int ps_value_each(sqlite3_value *arg, int whole, int (*fn)(void *, sqlite3_value *), void *ctx);

/* ext/scope.c: which processes a scan visits (pidns, sample, pid) */
#define PS_IDX_PIDNS 0x001
#define PS_IDX_PIDNS_IN 0x002
#define PS_IDX_PID 0x004
#define PS_IDX_PID_IN 0x008
#define PS_IDX_SAMPLE 0x010
struct ps_scope {
  sqlite3_vtab *vt;             /* for error messages */
  const char *table;            /* the table's name, their prefix */
  struct psnap_target *targets; /* one per PID namespace; pid 0: the caller's */
  int ntargets;
  int itarget;     /* the target being listed */
  long long *pids; /* pid constraint values, or NULL for all */
  int npids;
  double sample;               /* sample = ? (seconds), 0 when none */
  struct psnap_census *census; /* shared by the snapshots of this cursor */
};
int ps_scope_check(sqlite3_vtab *vt, const char *table, const sqlite3_index_info *info, int pidns, int sample);
int ps_scope_index(sqlite3_index_info *info, int pidns, int sample, int pid, int *unusable);
int ps_scope_filter(struct ps_scope *sc, int idxNum, int argc, sqlite3_value **argv);
int ps_scope_open(struct ps_scope *sc, struct psnap_cfg *cfg, struct psnap **out);
void ps_scope_reset(struct ps_scope *sc);
void ps_scope_free(struct ps_scope *sc);
int ps_connect(sqlite3 *db, const char *table, char *sql, size_t size, sqlite3_vtab **pp, char **pzErr);
int ps_error(sqlite3_vtab *vt, const char *table, const char *fmt, const char *arg);

#endif
