/*
** scope.c: which processes a scan visits, for every table that lists
** processes (ps, ps_threads, ps_fds, ps_sockets): the hidden pidns, the
** hidden sample, and pid, from xBestIndex to the snapshots of xFilter.
**
** pidns = X (or X IN (...)) names PID namespaces by a pid in each; NULL,
** or no constraint, is the caller's own. Each namespace is listed once
** (IN (NULL, 1) too), and the snapshots of one cursor share one census of
** /proc (which process is in which namespace): a join over N containers
** walks /proc once. pid = X (or IN) is the view's pid: a container's pid
** in a container. sample = X is seconds for a one-shot pcpu_now.
**
** idxNum bits, the same in every table (a table adds its own from 0x100):
**   0x001  pidns = ?           one argv value
**   0x002  pidns IN (...)      the whole list in one argv value (sqlite3_vtab_in)
**   0x004  pid = ?             one argv value
**   0x008  pid IN (...)        the whole list in one argv value
**   0x010  sample = ?          one argv value: seconds pcpu_now measures over
** argv holds the pidns value first, then sample, then pid.
*/
#include "ps.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/*
** xBestIndex: the constraints on the columns pidns, sample and pid (-1:
** the table has no such column). Sets their argvIndex (pidns, sample, pid)
** and omit (pid is re-checked by SQLite: pid = '12' stays exact; pidns and
** sample are arguments, never re-checked). Returns the PS_IDX_* bits;
** *unusable is 1 when a pidns or sample constraint is there but not usable
** on this plan (listing the host there would be wrong: the table decides
** what that costs).
*/
/* The SQL of a constraint's operator, for error messages. */
static const char *op_sql(int op) {
  switch (op) {
  case SQLITE_INDEX_CONSTRAINT_GT: return ">";
  case SQLITE_INDEX_CONSTRAINT_LE: return "<=";
  case SQLITE_INDEX_CONSTRAINT_LT: return "<";
  case SQLITE_INDEX_CONSTRAINT_GE: return ">=";
  case SQLITE_INDEX_CONSTRAINT_MATCH: return "MATCH";
  case SQLITE_INDEX_CONSTRAINT_LIKE: return "LIKE";
  case SQLITE_INDEX_CONSTRAINT_GLOB: return "GLOB";
  case SQLITE_INDEX_CONSTRAINT_REGEXP: return "REGEXP";
  case SQLITE_INDEX_CONSTRAINT_NE: return "<>";
  case SQLITE_INDEX_CONSTRAINT_ISNOT: return "IS NOT";
  case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: return "IS NOT NULL";
  case SQLITE_INDEX_CONSTRAINT_ISNULL: return "IS NULL";
  case SQLITE_INDEX_CONSTRAINT_IS: return "IS";
  default: return "a function";
  }
}

/*
** xBestIndex, first: pidns and sample are arguments, which take = (and
** IN, for pidns) only; any other operator on them would filter rows that
** never carry the value compared (a host row's pidns is NULL) and answer
** nothing, silently. SQLITE_OK, or SQLITE_ERROR with the vtab's message.
*/
int ps_scope_check(sqlite3_vtab *vt, const char *table, const sqlite3_index_info *info, int pidns, int sample) {
  for (int i = 0; i < info->nConstraint; i++) {
    const struct sqlite3_index_constraint *c = &info->aConstraint[i];
    if (c->op == SQLITE_INDEX_CONSTRAINT_EQ || c->op == SQLITE_INDEX_CONSTRAINT_LIMIT ||
        c->op == SQLITE_INDEX_CONSTRAINT_OFFSET)
      continue;
    if (c->iColumn == pidns && pidns >= 0)
      return ps_error(vt, table, "pidns takes = and IN only (a pid, or a list of pids), not %s", op_sql(c->op));
    if (c->iColumn == sample && sample >= 0)
      return ps_error(vt, table, "sample takes = only (seconds), not %s", op_sql(c->op));
  }
  return SQLITE_OK;
}

int ps_scope_index(sqlite3_index_info *info, int pidns, int sample, int pid, int *unusable) {
  int ipidns = -1, ipid = -1, isample = -1, pidns_unusable = 0, sample_unusable = 0;
  int in_ok = sqlite3_libversion_number() >= 3038000;
  for (int i = 0; i < info->nConstraint; i++) {
    const struct sqlite3_index_constraint *c = &info->aConstraint[i];
    if (c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (c->iColumn == pidns) {
      if (!c->usable)
        pidns_unusable = 1;
      else if (ipidns < 0)
        ipidns = i;
    } else if (c->iColumn == sample && sample >= 0) {
      if (!c->usable)
        sample_unusable = 1;
      else if (isample < 0)
        isample = i;
    } else if (c->iColumn == pid && c->usable && ipid < 0) {
      ipid = i;
    }
  }
  *unusable = (pidns_unusable && ipidns < 0) || (sample_unusable && isample < 0);
  int idx = 0, argv = 0;
  if (ipidns >= 0) {
    idx |= PS_IDX_PIDNS;
    info->aConstraintUsage[ipidns].argvIndex = ++argv;
    info->aConstraintUsage[ipidns].omit = 1;
    if (in_ok && sqlite3_vtab_in(info, ipidns, -1)) {
      sqlite3_vtab_in(info, ipidns, 1);
      idx |= PS_IDX_PIDNS_IN;
    }
  }
  if (isample >= 0) {
    idx |= PS_IDX_SAMPLE;
    info->aConstraintUsage[isample].argvIndex = ++argv;
    info->aConstraintUsage[isample].omit = 1;
  }
  if (ipid >= 0) {
    idx |= PS_IDX_PID;
    info->aConstraintUsage[ipid].argvIndex = ++argv;
    info->aConstraintUsage[ipid].omit = 0;
    if (in_ok && sqlite3_vtab_in(info, ipid, -1)) {
      sqlite3_vtab_in(info, ipid, 1);
      idx |= PS_IDX_PID_IN;
    }
  }
  return idx;
}

/*
** xConnect of a table that lists processes: declare it from "CREATE TABLE
** x(...)" sql (a sqlite3_malloc'ed string, freed here; NULL: out of
** memory), mark it DIRECTONLY (it shows what every process runs, so
** triggers and persistent views may not use it; TEMP views may), and
** allocate its vtab of size bytes, zeroed. SQLITE_OK or an error.
*/
int ps_connect(sqlite3 *db, const char *table, char *sql, size_t size, sqlite3_vtab **pp, char **pzErr) {
  if (!sql) return SQLITE_NOMEM;
  int rc = sqlite3_declare_vtab(db, sql);
  sqlite3_free(sql);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s: cannot declare the table: %s", table, sqlite3_errmsg(db));
    return rc;
  }
  if (sqlite3_libversion_number() >= 3031000) sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  *pp = sqlite3_malloc64(size);
  if (!*pp) return SQLITE_NOMEM;
  memset(*pp, 0, size);
  return SQLITE_OK;
}

/*
** Replace the vtab's error message (freeing the old one) with
** "TABLE: " and fmt, its one %s being arg. Returns SQLITE_ERROR, or
** SQLITE_NOMEM when the message itself could not be made.
*/
int ps_error(sqlite3_vtab *vt, const char *table, const char *fmt, const char *arg) {
  sqlite3_free(vt->zErrMsg);
  char *m = sqlite3_mprintf(fmt, arg);
  vt->zErrMsg = m ? sqlite3_mprintf("%s: %s", table, m) : NULL;
  sqlite3_free(m);
  return vt->zErrMsg ? SQLITE_ERROR : SQLITE_NOMEM;
}

/* A value that is not what the constraint takes: "TABLE: what ..., not 'x'". */
static int bad_value(struct ps_scope *sc, const char *fmt, sqlite3_value *v) {
  char *what = ps_value_shown(v);
  if (!what) return SQLITE_NOMEM;
  int rc = ps_error(sc->vt, sc->table, fmt, what);
  sqlite3_free(what);
  return rc;
}

/*
** One pidns value: NULL is the caller's namespace; otherwise a positive
** integer, resolved once (psnap_target_resolve words its errors). A value
** whose PID namespace is in the list already is dropped, so each
** namespace is listed once and no process appears twice.
*/
static int add_target(void *ctx, sqlite3_value *v) {
  struct ps_scope *sc = ctx;
  long long x = 0;
  struct psnap_target t = {0};
  struct psnap_err err = {0};
  if (sqlite3_value_type(v) != SQLITE_NULL && (!ps_value_whole(v, &x) || x <= 0))
    return bad_value(sc, "pidns must be a positive integer (a pid), not %s", v);
  /* NULL names the caller's namespace: resolve our own pid for its inode */
  if (psnap_target_resolve(x ? x : (long long)getpid(), &t, &err) < 0)
    return err.code == ENOMEM ? SQLITE_NOMEM : ps_error(sc->vt, sc->table, "%s", err.msg);
  if (!x) t.pid = 0;
  for (int i = 0; i < sc->ntargets; i++)
    if (sc->targets[i].ns == t.ns) return SQLITE_OK;
  struct psnap_target *nt = sqlite3_realloc64(sc->targets, (sqlite3_uint64)(sc->ntargets + 1) * sizeof *nt);
  if (!nt) return SQLITE_NOMEM;
  nt[sc->ntargets++] = t;
  sc->targets = nt;
  return SQLITE_OK;
}

/* One pid value: whole numbers only (pid = 'x' matches nothing). */
static int add_pid(void *ctx, sqlite3_value *v) {
  struct ps_scope *sc = ctx;
  long long x;
  if (!ps_value_whole(v, &x)) return SQLITE_OK;
  long long *np = sqlite3_realloc64(sc->pids, (sqlite3_uint64)(sc->npids + 1) * sizeof *np);
  if (!np) return SQLITE_NOMEM;
  np[sc->npids++] = x;
  sc->pids = np;
  return SQLITE_OK;
}

/*
** sample = X: seconds from PSNAP_SAMPLE_MIN to PSNAP_SAMPLE_MAX, or NULL
** (no wait: pcpu_now since the connection's previous scan).
*/
static int set_sample(struct ps_scope *sc, sqlite3_value *v) {
  int t = sqlite3_value_numeric_type(v);
  double x = sqlite3_value_double(v);
  if (t == SQLITE_NULL) return SQLITE_OK;
  if ((t == SQLITE_INTEGER || t == SQLITE_FLOAT) && x >= PSNAP_SAMPLE_MIN && x <= PSNAP_SAMPLE_MAX) {
    sc->sample = x;
    return SQLITE_OK;
  }
  return bad_value(sc, "sample must be a number of seconds from 0.01 to 60, not %s", v);
}

/* Drop what a previous xFilter chose (the census stays: the statement's). */
void ps_scope_reset(struct ps_scope *sc) {
  sqlite3_free(sc->targets);
  sqlite3_free(sc->pids);
  sc->targets = NULL;
  sc->pids = NULL;
  sc->ntargets = sc->npids = sc->itarget = 0;
  sc->sample = 0;
}

/* Free everything, the census too (xClose). */
void ps_scope_free(struct ps_scope *sc) {
  ps_scope_reset(sc);
  psnap_census_free(sc->census);
  sc->census = NULL;
}

/*
** xFilter: read the constraint values that ps_scope_index() planned, in
** argv order. Afterwards targets lists each namespace once (with no pidns
** constraint one target, the caller's, unresolved: level 0), pids the pid
** values (NULL: every process; an empty list when no value was a whole
** number) and sample the seconds (0: none). SQLITE_OK or an error.
*/
int ps_scope_filter(struct ps_scope *sc, int idxNum, int argc, sqlite3_value **argv) {
  ps_scope_reset(sc);
  int a = 0, rc = SQLITE_OK;
  if (idxNum & PS_IDX_PIDNS) {
    if (a >= argc) return SQLITE_ERROR;
    rc = ps_value_each(argv[a++], idxNum & PS_IDX_PIDNS_IN, add_target, sc);
  } else { /* the caller's view, nothing to resolve */
    sc->targets = sqlite3_malloc(sizeof *sc->targets);
    if (!sc->targets) return SQLITE_NOMEM;
    memset(sc->targets, 0, sizeof *sc->targets);
    sc->ntargets = 1;
  }
  if (rc == SQLITE_OK && (idxNum & PS_IDX_SAMPLE)) {
    if (a >= argc) return SQLITE_ERROR;
    rc = set_sample(sc, argv[a++]);
  }
  if (rc == SQLITE_OK && (idxNum & PS_IDX_PID)) {
    if (a >= argc) return SQLITE_ERROR;
    rc = ps_value_each(argv[a++], idxNum & PS_IDX_PID_IN, add_pid, sc);
    if (rc == SQLITE_OK && !sc->pids) { /* no usable pid value: an empty list, not a full scan */
      sc->pids = sqlite3_malloc(sizeof *sc->pids);
      if (!sc->pids) rc = SQLITE_NOMEM;
    }
  }
  return rc;
}

/*
** Open the snapshot of the current target (itarget) with cfg (its
** sources, and what else the table sets): the target, the census (taken
** on the first target in another namespace) and the pids are filled in
** here. SQLITE_OK with *out set, or an error with the library's message.
*/
int ps_scope_open(struct ps_scope *sc, struct psnap_cfg *cfg, struct psnap **out) {
  const struct psnap_target *t = &sc->targets[sc->itarget];
  struct psnap_err err = {0};
  if (t->level > 0 && !sc->census && psnap_census_take(&sc->census, &err) < 0)
    return err.code == ENOMEM ? SQLITE_NOMEM : ps_error(sc->vt, sc->table, "%s", err.msg);
  cfg->target = t;
  cfg->census = sc->census;
  cfg->sample = sc->sample;
  cfg->pids = sc->pids;
  cfg->npids = sc->pids ? (size_t)sc->npids : 0;
  int rc = psnap_open(out, cfg, &err);
  if (rc == -ENOMEM) return SQLITE_NOMEM;
  if (rc == -EINTR) return SQLITE_INTERRUPT;
  if (rc < 0) return ps_error(sc->vt, sc->table, "%s", err.msg);
  return SQLITE_OK;
}
