/*
** descriptors.c: the `ps_descriptors` table, the column registry as rows.
**
**   .load build/ps
**   SELECT name, header, type, doc FROM ps_descriptors;
**   SELECT name FROM ps_descriptors WHERE psgo AND NOT procps;   -- psgo-only
**   SELECT group_concat(name, ',') FROM ps_descriptors WHERE NOT hidden;
**   SELECT name, type, doc FROM ps_descriptors('ps_threads');  -- another table
**
**   CREATE TABLE ps_descriptors(
**     name TEXT,     -- column of `ps` (psgo's descriptor name)
**     code TEXT,     -- AIX format code (%C ...), NULL when none
**     header TEXT,   -- the header ps/psgo print
**     type TEXT,     -- declared SQL type
**     source TEXT,   -- where the value comes from (/proc file and field)
**     psgo INTEGER,  -- 1 when psgo has this descriptor
**     procps INTEGER,-- 1 when procps ps -o knows this name
**     hidden INTEGER,-- 1 for HIDDEN columns (pidns)
**     doc TEXT,      -- one line of documentation
**     tbl TEXT HIDDEN-- whose columns: 'ps' (the default, also for NULL) or 'ps_threads'
**   );
**
** One row per entry of the table's registry (psnap_cols[] or
** psnap_thread_cols[], src/desc.c), in column order: every column of that
** table appears, and nothing else. idxNum 1: tbl = ? is argv[0].
*/
#include "ps.h"

#include <string.h>

#include "psnap.h"

enum { D_NAME, D_CODE, D_HEADER, D_TYPE, D_SOURCE, D_PSGO, D_PROCPS, D_HIDDEN, D_DOC, D_TBL };

/* The tables that have a registry. */
static const struct {
  const char *name;
  const struct psnap_desc *cols;
  int n;
} tables[] = {{"ps", psnap_cols, PSNAP_COL__COUNT}, {"ps_threads", psnap_thread_cols, PSNAP_TCOL__COUNT}};

typedef struct desc_cursor desc_cursor;
struct desc_cursor {
  sqlite3_vtab_cursor base; /* Base class - must be first */
  int t;                    /* Index into tables[] */
  int i;                    /* Index into its registry */
};

static int descConnect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **ppVtab, char **pzErr) {
  (void)aux, (void)argc, (void)argv, (void)pzErr;
  int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(name TEXT, code TEXT, header TEXT, type TEXT, source TEXT, "
                                    "psgo INTEGER, procps INTEGER, hidden INTEGER, doc TEXT, tbl TEXT HIDDEN)");
  if (rc != SQLITE_OK) return rc;
  if (sqlite3_libversion_number() >= 3031000) sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  sqlite3_vtab *vt = sqlite3_malloc(sizeof *vt);
  if (!vt) return SQLITE_NOMEM;
  memset(vt, 0, sizeof *vt);
  *ppVtab = vt;
  return SQLITE_OK;
}

static int descDisconnect(sqlite3_vtab *vt) {
  sqlite3_free(vt);
  return SQLITE_OK;
}

/* tbl = ? chooses the table (checked in xFilter, never re-checked). */
static int descBestIndex(sqlite3_vtab *vt, sqlite3_index_info *info) {
  (void)vt;
  for (int i = 0; i < info->nConstraint; i++) {
    const struct sqlite3_index_constraint *c = &info->aConstraint[i];
    if (c->iColumn == D_TBL && c->op == SQLITE_INDEX_CONSTRAINT_EQ && c->usable) {
      info->aConstraintUsage[i].argvIndex = 1;
      info->aConstraintUsage[i].omit = 1;
      info->idxNum = 1;
      break;
    }
  }
  info->estimatedCost = PSNAP_COL__COUNT;
  info->estimatedRows = PSNAP_COL__COUNT;
  return SQLITE_OK;
}

static int descOpen(sqlite3_vtab *vt, sqlite3_vtab_cursor **pp) {
  (void)vt;
  desc_cursor *c = sqlite3_malloc(sizeof *c);
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, sizeof *c);
  *pp = &c->base;
  return SQLITE_OK;
}

static int descClose(sqlite3_vtab_cursor *cur) {
  sqlite3_free(cur);
  return SQLITE_OK;
}

static int descFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc, sqlite3_value **argv) {
  (void)idxStr;
  desc_cursor *c = (desc_cursor *)cur;
  c->i = c->t = 0;
  const unsigned char *want = idxNum == 1 && argc > 0 ? sqlite3_value_text(argv[0]) : NULL;
  if (!want) return SQLITE_OK; /* NULL: ps */
  for (c->t = 0; c->t < (int)(sizeof tables / sizeof tables[0]); c->t++)
    if (strcmp((const char *)want, tables[c->t].name) == 0) return SQLITE_OK;
  c->t = 0;
  char *what = ps_value_shown(argv[0]);
  sqlite3_free(cur->pVtab->zErrMsg);
  cur->pVtab->zErrMsg = what ? sqlite3_mprintf("ps_descriptors: tbl must be 'ps' or 'ps_threads', not %s", what) : NULL;
  sqlite3_free(what);
  return cur->pVtab->zErrMsg ? SQLITE_ERROR : SQLITE_NOMEM;
}

static int descNext(sqlite3_vtab_cursor *cur) {
  ((desc_cursor *)cur)->i++;
  return SQLITE_OK;
}

static int descEof(sqlite3_vtab_cursor *cur) {
  const desc_cursor *c = (const desc_cursor *)cur;
  return c->i >= tables[c->t].n;
}

static int descColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
  const desc_cursor *c = (const desc_cursor *)cur;
  const struct psnap_desc *d = &tables[c->t].cols[c->i];
  const char *t = NULL;
  switch (col) {
  case D_NAME: t = d->name; break;
  case D_CODE: t = d->code; break;
  case D_HEADER: t = d->header; break;
  case D_TYPE: t = d->type; break;
  case D_SOURCE: t = d->from; break;
  case D_DOC: t = d->doc; break;
  case D_TBL: t = tables[c->t].name; break;
  case D_PSGO: sqlite3_result_int(ctx, !!(d->flags & PSNAP_F_PSGO)); return SQLITE_OK;
  case D_PROCPS: sqlite3_result_int(ctx, !!(d->flags & PSNAP_F_PROCPS)); return SQLITE_OK;
  case D_HIDDEN: sqlite3_result_int(ctx, !!(d->flags & PSNAP_F_HIDDEN)); return SQLITE_OK;
  }
  if (t) ps_result_text(ctx, t, strlen(t));
  return SQLITE_OK;
}

static int descRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid) {
  *pRowid = ((desc_cursor *)cur)->i + 1;
  return SQLITE_OK;
}

static sqlite3_module desc_module = {
    /* iVersion    */ 0,
    /* xCreate     */ 0, /* eponymous-only */
    /* xConnect    */ descConnect,
    /* xBestIndex  */ descBestIndex,
    /* xDisconnect */ descDisconnect,
    /* xDestroy    */ 0,
    /* xOpen       */ descOpen,
    /* xClose      */ descClose,
    /* xFilter     */ descFilter,
    /* xNext       */ descNext,
    /* xEof        */ descEof,
    /* xColumn     */ descColumn,
    /* xRowid      */ descRowid,
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

/* Register ps_descriptors on a connection. */
int ps_register_descriptors(sqlite3 *db) { return sqlite3_create_module(db, "ps_descriptors", &desc_module, 0); }
