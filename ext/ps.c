/*
** ps.c: the `ps` virtual table, one row per process, and `ps_threads`, one
** row per thread.
**
**   .load build/ps
**   SELECT user, pid, ppid, pcpu, etime, tty, time, args FROM ps;
**   SELECT pid, comm, rss FROM ps WHERE user = 'root' ORDER BY rss DESC LIMIT 5;
**   SELECT pid, user, huser, hpid, args FROM ps(1234);      -- a container
**   SELECT * FROM ps WHERE pidns = 1234 AND pid = 1;
**   SELECT pid, comm, pcpu_now FROM ps WHERE sample = 0.5 ORDER BY pcpu_now DESC LIMIT 5;
**   SELECT c.name, p.* FROM containers c JOIN ps p ON p.pidns = c.pid;
**
** The table is eponymous-only (no CREATE VIRTUAL TABLE) and DIRECTONLY: it
** reads every process's command line and the names containers lend, so triggers and
** persistent views may not use it; TEMP views may.
**
**   CREATE TABLE ps(user TEXT, pid INTEGER, ppid INTEGER, ..., syscw INTEGER,
**     pidns INTEGER HIDDEN, sample REAL HIDDEN, ..., comm_raw BLOB HIDDEN,
**     args_raw BLOB HIDDEN, exe_raw BLOB HIDDEN, cwd_raw BLOB HIDDEN)
** is generated from the registry (src/columns.h): SELECT * FROM
** ps_descriptors lists every column, its type, source and meaning.
** pidns is HIDDEN: a pid whose PID namespace to list. sample is HIDDEN
** too, after it (ps(X, 0.5)): seconds over which pcpu_now measures, one
** wait per scan; without it pcpu_now is the use since the connection's
** previous scan of pcpu_now (the baseline lives in struct ps_conn).
**
** Text is UTF-8: every TEXT value goes through ps_result_text()
** (ext/values.c), which replaces each invalid sequence by U+FFFD, as
** Python's bytes.decode('utf-8', 'replace') does. The bytes a process
** chose itself stay reachable, exactly, as HIDDEN BLOBs after the
** arguments: comm_raw, args_raw (cmdline as the kernel gives it, NULs
** included), exe_raw, cwd_raw; ps_threads has comm_raw.
**   SELECT pid, comm, hex(comm_raw) FROM ps WHERE comm_raw <> CAST(comm AS BLOB);
**   SELECT pid, cwd FROM ps WHERE cwd LIKE '%' || char(0xfffd) || '%';
** They come after io in the registry, where colUsed has one bit for all
** (src/columns.h): each is read on its first use in a row, through the
** row's directory, so a query reads only the files of the _raw columns it
** names (and, through that shared bit, io).
**
** pidns = X lists the PID namespace of process X as the container sees it
** (its pids, its user names), with the host's view in hpid, huser, huid,
** hgroup, hgroups. Every row and value comes from the caller's own /proc;
** the container lends names only, read by a helper program under a
** deadline (src/lend.c, docs/lending.md): past it, names stay numbers. The
** deadline is per connection: SELECT ps_deadline(0.5) sets it (seconds;
** the previous value is returned), SELECT ps_deadline() reads it;
** sqlite3_interrupt() ends the wait. A helper past its deadline that no
** signal reaches (a FUSE request never answered) stays until its FUSE
** daemon dies: one per namespace, at most PSNAP_LEND_STUCK (4) per
** program, after which no namespace lends until one is gone. NULL, or X in the caller's
** own PID namespace, lists the caller's processes. The snapshots of one
** statement share one census of /proc (which process is in which PID
** namespace): a join over N containers walks /proc once.
**
** ps_threads is the same table over threads: one row per entry of
** /proc/PID/task of every process the view lists, read from the thread's
** own files (task/TID/stat, status, wchan, syscall), with the same hidden
** pidns and sample, and the same rules:
**
**   SELECT tid, comm, state, pcpu_now FROM ps_threads(NULL, 0.5) WHERE pid = 1234;
**   SELECT pid, tid, comm, wchan, syscall FROM ps_threads WHERE state = 'D';
**   SELECT pid, count(*) FROM ps_threads GROUP BY pid ORDER BY 2 DESC LIMIT 5;
**   SELECT pid, tid, htid, comm FROM ps_threads(1234);      -- a container's threads
**
**   CREATE TABLE ps_threads(pid, tid, hpid, htid, comm, state, time, pcpu,
**     pcpu_now, nice, priority, psr, wchan, syscall, voluntary_switches,
**     involuntary_switches, pidns HIDDEN, sample HIDDEN, comm_raw HIDDEN)
** (types and meanings in src/columns.h, PSNAP_THREAD_COLUMNS). pid and tid
** are the view's (a container's: NSpid at its level), hpid and htid the
** host's. WHERE pid = X reads only the tasks of process X. time and pcpu
** are the thread's own, the main thread's too: ps -L shows the process's
** totals on that row. pcpu_now's polling baseline is the connection's, kept
** apart from ps's.
**
** idxNum bits, set by xBestIndex and read by xFilter (ext/scope.c, shared
** with ps_fds and ps_sockets):
**   0x001  pidns = ?           one argv value
**   0x002  pidns IN (...)      the whole list in one argv value (sqlite3_vtab_in)
**   0x004  pid = ?             one argv value
**   0x008  pid IN (...)        the whole list in one argv value
**   0x010  sample = ?          one argv value: seconds pcpu_now measures over
** argv holds the pidns value first (when bit 0x001 or 0x002), then sample,
** then pid. A pidns or sample constraint that a plan cannot use makes the
** plan unusable (SQLITE_CONSTRAINT): scanning the host there would be wrong.
** idxStr is "src=X": X the PSNAP_SRC_* bits (hex) of the files the used
** columns need; EXPLAIN QUERY PLAN shows both ("INDEX 4:src=3"). The
** sources do not fit beside the flags in idxNum's 31 bits. colUsed has one
** bit for every column from 63 on; the registry puts there only the io
** group and the _raw columns, which read their files on first use, so
** that bit widens no query's reads beyond io.
*/
#include "ps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "psnap.h"

typedef struct ps_cursor ps_cursor;

/* What differs between ps and ps_threads: the registry and its indexes. */
struct ps_table {
  const char *name;              /* in error messages */
  const struct psnap_desc *cols; /* the registry (columns.h) */
  int ncols;
  int pid, pidns, sample; /* indexes of those columns */
  int threads;            /* psnap_cfg.threads */
  unsigned (*src)(uint64_t colused);
};
static const struct ps_table ps_def = {
    "ps", psnap_cols, PSNAP_COL__COUNT, PSNAP_COL_PID, PSNAP_COL_PIDNS, PSNAP_COL_SAMPLE, 0, psnap_cols_src};
static const struct ps_table threads_def = {
    "ps_threads",         psnap_thread_cols, PSNAP_TCOL__COUNT, PSNAP_TCOL_PID, PSNAP_TCOL_PIDNS, PSNAP_TCOL_SAMPLE, 1,
    psnap_thread_cols_src};

struct ps_conn;
/* A table of a connection: the module's aux. */
struct ps_aux {
  struct ps_conn *conn;
  const struct ps_table *t;
  struct psnap_cpuhist *hist; /* pcpu_now's polling baseline: the last scan's CPU times */
};

/* What a connection sets: shared by the tables and ps_deadline(). */
struct ps_conn {
  sqlite3 *db;
  int counted;          /* in nconns */
  unsigned deadline_ms; /* for a container's names */
  struct ps_aux ps, threads;
};

typedef struct ps_vtab {
  sqlite3_vtab base; /* Base class - must be first */
  struct ps_aux *aux;
} ps_vtab;

struct ps_cursor {
  sqlite3_vtab_cursor base; /* Base class - must be first */
  const struct ps_table *t; /* ps or ps_threads */
  struct psnap *snap;       /* The snapshot being read, or NULL */
  unsigned src;             /* Sources to read (from idxStr) */
  struct ps_scope sc;       /* pidns, sample, pid: which processes */
  int eof;
};

/* Build "CREATE TABLE x(...)" from the column registry. */
static char *schema(const struct ps_table *t) {
  sqlite3_str *s = sqlite3_str_new(NULL);
  sqlite3_str_appendall(s, "CREATE TABLE x(");
  for (int i = 0; i < t->ncols; i++) {
    const struct psnap_desc *d = &t->cols[i];
    sqlite3_str_appendf(s, "%s\"%w\" %s%s", i ? ", " : "", d->name, d->type,
                        (d->flags & PSNAP_F_HIDDEN) ? " HIDDEN" : "");
  }
  sqlite3_str_appendall(s, ")");
  return sqlite3_str_finish(s);
}

/* xConnect (also xCreate-less: the table is eponymous-only). */
static int psConnect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **ppVtab, char **pzErr) {
  (void)argc, (void)argv;
  struct ps_aux *a = aux;
  int rc = ps_connect(db, a->t->name, schema(a->t), sizeof(ps_vtab), ppVtab, pzErr);
  if (rc == SQLITE_OK) ((ps_vtab *)*ppVtab)->aux = a;
  return rc;
}

static int psDisconnect(sqlite3_vtab *pVtab) {
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

/*
** xBestIndex: use pidns, sample and pid (and their IN lists, whole, where
** SQLite is 3.38 or newer: ps_scope_index), and turn colUsed into the
** sources to read (idxStr). A pidns or sample constraint that is not
** usable on this plan (the join's other order) makes the plan unusable:
** scanning the host there would be wrong.
*/
static int psBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *info) {
  const struct ps_table *t = ((ps_vtab *)pVtab)->aux->t;
  int unusable;
  int rc = ps_scope_check(pVtab, t->name, info, t->pidns, t->sample);
  if (rc != SQLITE_OK) return rc;
  int idx = ps_scope_index(info, t->pidns, t->sample, t->pid, &unusable);
  if (unusable) {
    if (sqlite3_libversion_number() >= 3026000) return SQLITE_CONSTRAINT;
    info->estimatedCost = 1e18;
    return SQLITE_OK;
  }
  double rows = 1000, cost = 1000;
  if (idx & PS_IDX_PIDNS_IN) rows *= 4, cost *= 4;
  if (idx & PS_IDX_PID_IN)
    rows = 10, cost = 100;
  else if (idx & PS_IDX_PID)
    rows = 1, cost = 10;
  /* one row per process: pid = X finds at most one (not so for threads) */
  if ((idx & PS_IDX_PID) && !(idx & (PS_IDX_PID_IN | PS_IDX_PIDNS_IN)) && !t->threads)
    info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  if ((idx & PS_IDX_PID) && t->threads) rows *= 10, cost *= 10;
  info->idxStr = sqlite3_mprintf("src=%x", t->src(info->colUsed));
  if (!info->idxStr) return SQLITE_NOMEM;
  info->needToFreeIdxStr = 1;
  info->idxNum = idx;
  info->estimatedRows = (sqlite3_int64)rows;
  info->estimatedCost = cost;
  return SQLITE_OK;
}

static int psOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor) {
  ps_cursor *c = sqlite3_malloc(sizeof *c);
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, sizeof *c);
  c->t = ((ps_vtab *)pVtab)->aux->t;
  c->sc.vt = pVtab;
  c->sc.table = c->t->name;
  *ppCursor = &c->base;
  return SQLITE_OK;
}

static int psClose(sqlite3_vtab_cursor *cur) {
  ps_cursor *c = (ps_cursor *)cur;
  psnap_close(c->snap);
  ps_scope_free(&c->sc);
  sqlite3_free(c);
  return SQLITE_OK;
}

/*
** Whether the statement was interrupted (sqlite3_interrupt(), Ctrl-C in
** the shell), asked while a container's names are awaited. SQLite 3.41's
** sqlite3_is_interrupted() is not in every library that loads us; what
** every version does is refuse to prepare a statement on an interrupted
** connection (SQLITE_INTERRUPT), so that is the question asked.
*/
static int interrupted(void *db) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, "SELECT 1", -1, &st, NULL);
  sqlite3_finalize(st);
  return rc == SQLITE_INTERRUPT;
}

/* Open the snapshot of the scope's current target. */
static int open_target(ps_cursor *c) {
  struct ps_aux *aux = ((ps_vtab *)c->base.pVtab)->aux;
  struct psnap_cfg cfg = {.src = c->src,
                          .deadline_ms = aux->conn->deadline_ms,
                          .hist = aux->hist,
                          .threads = c->t->threads,
                          .interrupted = interrupted,
                          .interrupt_arg = aux->conn->db};
  return ps_scope_open(&c->sc, &cfg, &c->snap);
}

/* Step to the next row, across targets. */
static int advance(ps_cursor *c) {
  for (;;) {
    if (!c->snap) {
      if (c->sc.itarget >= c->sc.ntargets) {
        c->eof = 1;
        return SQLITE_OK;
      }
      int rc = open_target(c);
      if (rc != SQLITE_OK) return rc;
    }
    int r = psnap_next(c->snap);
    if (r > 0) return SQLITE_OK;
    if (r < 0) {
      if (r == -ENOMEM) return SQLITE_NOMEM;
      return ps_error(c->base.pVtab, c->t->name, "%s", psnap_error(c->snap)->msg);
    }
    psnap_close(c->snap);
    c->snap = NULL;
    c->sc.itarget++;
  }
}

/* The sources that xBestIndex wrote into idxStr ("src=X", X in hex). */
static unsigned idx_sources(const char *idxStr) {
  if (!idxStr || strncmp(idxStr, "src=", 4) != 0) return 0;
  return (unsigned)strtoul(idxStr + 4, NULL, 16);
}

static int psFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc, sqlite3_value **argv) {
  ps_cursor *c = (ps_cursor *)cur;
  psnap_close(c->snap);
  c->snap = NULL;
  c->src = idx_sources(idxStr);
  int rc = ps_scope_filter(&c->sc, idxNum, argc, argv);
  c->eof = rc != SQLITE_OK;
  return rc == SQLITE_OK ? advance(c) : rc;
}

static int psNext(sqlite3_vtab_cursor *cur) { return advance((ps_cursor *)cur); }

static int psEof(sqlite3_vtab_cursor *cur) { return ((ps_cursor *)cur)->eof; }

static int psColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  ps_cursor *c = (ps_cursor *)cur;
  struct psnap_value v;
  if (psnap_column(c->snap, i, &v) == -ENOMEM) {
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
  switch (v.type) {
  case PSNAP_INT: sqlite3_result_int64(ctx, v.i); break;
  case PSNAP_REAL: sqlite3_result_double(ctx, v.r); break;
  case PSNAP_TEXT: ps_result_text(ctx, v.s, v.n); break;
  case PSNAP_BLOB: ps_result_blob(ctx, v.s, v.n); break;
  case PSNAP_NULL: break;
  }
  return SQLITE_OK;
}

static int psRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid) {
  *pRowid = psnap_rowid(((ps_cursor *)cur)->snap);
  return SQLITE_OK;
}

static sqlite3_module ps_module = {
    /* iVersion    */ 0,
    /* xCreate     */ 0, /* eponymous-only */
    /* xConnect    */ psConnect,
    /* xBestIndex  */ psBestIndex,
    /* xDisconnect */ psDisconnect,
    /* xDestroy    */ 0,
    /* xOpen       */ psOpen,
    /* xClose      */ psClose,
    /* xFilter     */ psFilter,
    /* xNext       */ psNext,
    /* xEof        */ psEof,
    /* xColumn     */ psColumn,
    /* xRowid      */ psRowid,
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

/*
** ps_deadline([seconds]): the deadline for a container's names on this
** connection. With an argument (0.001 to 3600) it sets it; either way it
** returns the value in force before the call, in seconds. A namespace
** whose helper missed it lends nothing for PSNAP_LEND_RETRY (10)
** deadlines; at most PSNAP_LEND_STUCK (4) helpers of a program are stuck.
*/
static void ps_deadline(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  struct ps_conn *conn = sqlite3_user_data(ctx);
  double before = conn->deadline_ms / 1000.0;
  if (argc == 1) {
    int t = sqlite3_value_numeric_type(argv[0]);
    double v = sqlite3_value_double(argv[0]);
    if ((t != SQLITE_INTEGER && t != SQLITE_FLOAT) || !(v >= 0.001 && v <= 3600)) {
      sqlite3_result_error(ctx, "ps_deadline: seconds must be a number from 0.001 to 3600", -1);
      return;
    }
    conn->deadline_ms = (unsigned)(v * 1000 + 0.5);
  }
  sqlite3_result_double(ctx, before);
}

/* Connections of this program with the tables registered: the last one
   to close releases the name-lending helper kept for the next query. */
static int nconns;

/* Free what a connection set: with the ps module (conn->ps is its aux). */
static void conn_free(void *p) {
  struct ps_conn *conn = ((struct ps_aux *)p)->conn;
  psnap_cpuhist_free(conn->ps.hist);
  psnap_cpuhist_free(conn->threads.hist);
  if (conn->counted && __atomic_sub_fetch(&nconns, 1, __ATOMIC_SEQ_CST) == 0) psnap_lend_release();
  sqlite3_free(conn);
}

/* Register the ps and ps_threads tables and ps_deadline() on a connection. */
int ps_register_table(sqlite3 *db) {
  struct ps_conn *conn = sqlite3_malloc(sizeof *conn);
  if (!conn) return SQLITE_NOMEM;
  memset(conn, 0, sizeof *conn);
  conn->db = db;
  conn->deadline_ms = PSNAP_DEADLINE_MS;
  conn->ps = (struct ps_aux){conn, &ps_def, psnap_cpuhist_new()};
  conn->threads = (struct ps_aux){conn, &threads_def, psnap_cpuhist_new()};
  if (!conn->ps.hist || !conn->threads.hist) {
    conn_free(&conn->ps);
    return SQLITE_NOMEM;
  }
  /* the ps module owns conn: freed with the connection, or now on failure;
     ps_threads' aux lives in conn and has no destructor of its own */
  __atomic_add_fetch(&nconns, 1, __ATOMIC_SEQ_CST);
  conn->counted = 1;
  int rc = sqlite3_create_module_v2(db, "ps", &ps_module, &conn->ps, conn_free);
  if (rc == SQLITE_OK) rc = sqlite3_create_module_v2(db, "ps_threads", &ps_module, &conn->threads, NULL);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_create_function(db, "ps_deadline", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY, conn, ps_deadline, 0, 0);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function(db, "ps_deadline", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, conn, ps_deadline, 0, 0);
  return rc;
}
