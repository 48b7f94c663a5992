/*
** namespaces.c: the `ps_namespaces` table, one row per PID namespace.
**
**   .load build/ps
**   SELECT * FROM ps_namespaces;
**   SELECT n.pid, n.cgroup, p.pid, p.user, p.args
**     FROM ps_namespaces n JOIN ps p ON p.pidns = n.pid;   -- every container
**   SELECT * FROM ps_namespaces WHERE nprocs > 1 AND pid <> 1;
**
**   CREATE TABLE ps_namespaces(
**     ns_pid INTEGER,  -- inode of the PID namespace
**     pid INTEGER,     -- host pid of its init (NULL when not visible)
**     nprocs INTEGER,  -- processes in it, nested namespaces not counted
**     ns_user INTEGER, -- inode of the init's user namespace
**     comm TEXT,       -- the init's comm
**     cgroup TEXT      -- the init's cgroup path (container engines put ids there)
**   );
**
** The caller's own namespace is a row too (its init is pid 1). Namespaces
** the caller may not inspect (ns links need ptrace access) are missing:
** run as root to see them all. One walk of /proc per scan; no constraint
** is used (idxNum is always 0). DIRECTONLY, as `ps`.
*/
#include "ps.h"

#include <errno.h>
#include <string.h>

#include "psnap.h"

/* The columns: one list, from which the enum and the schema both come. */
#define NS_COLUMNS(X)                                                                                                  \
  X(NS_PID, "ns_pid INTEGER")                                                                                          \
  X(PID, "pid INTEGER")                                                                                                \
  X(NPROCS, "nprocs INTEGER")                                                                                          \
  X(NS_USER, "ns_user INTEGER")                                                                                        \
  X(COMM, "comm TEXT")                                                                                                 \
  X(CGROUP, "cgroup TEXT")
#define NS_ENUM(id, decl) N_##id,
#define NS_DECL(id, decl) ", " decl
enum { NS_COLUMNS(NS_ENUM) N__COUNT };
/* ", ns_pid INTEGER, pid INTEGER, ...": the schema skips the first ", " */
static const char ns_schema[] = NS_COLUMNS(NS_DECL);

typedef struct ns_cursor ns_cursor;
struct ns_cursor {
  sqlite3_vtab_cursor base; /* Base class - must be first */
  struct psnap_nsinfo *v;   /* The namespaces of this scan */
  size_t n;
  size_t i; /* Current row */
};

static int nsConnect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **ppVtab, char **pzErr) {
  (void)aux, (void)argc, (void)argv, (void)pzErr;
  char *sql = sqlite3_mprintf("CREATE TABLE x(%s)", ns_schema + 2);
  if (!sql) return SQLITE_NOMEM;
  int rc = sqlite3_declare_vtab(db, sql);
  sqlite3_free(sql);
  if (rc != SQLITE_OK) return rc;
  if (sqlite3_libversion_number() >= 3031000) sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  sqlite3_vtab *vt = sqlite3_malloc(sizeof *vt);
  if (!vt) return SQLITE_NOMEM;
  memset(vt, 0, sizeof *vt);
  *ppVtab = vt;
  return SQLITE_OK;
}

static int nsDisconnect(sqlite3_vtab *vt) {
  sqlite3_free(vt);
  return SQLITE_OK;
}

static int nsBestIndex(sqlite3_vtab *vt, sqlite3_index_info *info) {
  (void)vt;
  info->estimatedCost = 10000;
  info->estimatedRows = 10;
  return SQLITE_OK;
}

static int nsOpen(sqlite3_vtab *vt, sqlite3_vtab_cursor **pp) {
  (void)vt;
  ns_cursor *c = sqlite3_malloc(sizeof *c);
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, sizeof *c);
  *pp = &c->base;
  return SQLITE_OK;
}

static int nsClose(sqlite3_vtab_cursor *cur) {
  ns_cursor *c = (ns_cursor *)cur;
  psnap_namespaces_free(c->v, c->n);
  sqlite3_free(c);
  return SQLITE_OK;
}

static int nsFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc, sqlite3_value **argv) {
  (void)idxNum, (void)idxStr, (void)argc, (void)argv;
  ns_cursor *c = (ns_cursor *)cur;
  psnap_namespaces_free(c->v, c->n);
  c->v = NULL;
  c->n = c->i = 0;
  struct psnap_err err = {0};
  int rc = psnap_namespaces(&c->v, &c->n, &err);
  if (rc == -ENOMEM) return SQLITE_NOMEM;
  if (rc < 0) {
    sqlite3_free(cur->pVtab->zErrMsg);
    cur->pVtab->zErrMsg = sqlite3_mprintf("ps_namespaces: %s", err.msg);
    return cur->pVtab->zErrMsg ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

static int nsNext(sqlite3_vtab_cursor *cur) {
  ((ns_cursor *)cur)->i++;
  return SQLITE_OK;
}

static int nsEof(sqlite3_vtab_cursor *cur) {
  ns_cursor *c = (ns_cursor *)cur;
  return c->i >= c->n;
}

static int nsColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
  ns_cursor *c = (ns_cursor *)cur;
  const struct psnap_nsinfo *r = &c->v[c->i];
  switch (col) {
  case N_NS_PID: sqlite3_result_int64(ctx, (sqlite3_int64)r->ns_pid); break;
  case N_PID:
    if (r->pid > 0) sqlite3_result_int(ctx, r->pid);
    break;
  case N_NPROCS: sqlite3_result_int(ctx, r->nprocs); break;
  case N_NS_USER:
    if (r->ns_user) sqlite3_result_int64(ctx, (sqlite3_int64)r->ns_user);
    break;
  case N_COMM:
    if (r->pid > 0) ps_result_text(ctx, r->comm, strlen(r->comm));
    break;
  case N_CGROUP:
    if (r->cgroup) ps_result_text(ctx, r->cgroup, strlen(r->cgroup));
    break;
  }
  return SQLITE_OK;
}

static int nsRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid) {
  *pRowid = (sqlite_int64)((ns_cursor *)cur)->i + 1;
  return SQLITE_OK;
}

static sqlite3_module ns_module = {
    /* iVersion    */ 0,
    /* xCreate     */ 0, /* eponymous-only */
    /* xConnect    */ nsConnect,
    /* xBestIndex  */ nsBestIndex,
    /* xDisconnect */ nsDisconnect,
    /* xDestroy    */ 0,
    /* xOpen       */ nsOpen,
    /* xClose      */ nsClose,
    /* xFilter     */ nsFilter,
    /* xNext       */ nsNext,
    /* xEof        */ nsEof,
    /* xColumn     */ nsColumn,
    /* xRowid      */ nsRowid,
    /* xUpdate     */ 0,
    /* xBegin      */ 0,
    /* xSync       */ 0,
    /* xCommit     */ 0,
    /* xRollback   */ 0,
    /* xFindMethod */ 0,
    /* xRename     */ 0,
    /* xSavepoint  */ 0,
    /* xRelease    */ 0,
    /* xRollbackTo */ 0,
    /* xShadowName */ 0,
};

/* Register ps_namespaces on a connection. */
int ps_register_namespaces(sqlite3 *db) { return sqlite3_create_module(db, "ps_namespaces", &ns_module, 0); }
