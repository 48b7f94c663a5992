/*
** fds.c: the `ps_fds` and `ps_sockets` virtual tables: what processes hold
** open, and who listens where, on the host or inside a container.
**
**   .load build/ps
**   SELECT pid, fd, type, target, flags FROM ps_fds WHERE pid = 1234;
**   SELECT pid, fd, target FROM ps_fds WHERE deleted;                -- deleted files held open
**   SELECT pid, count(*) AS n FROM ps_fds GROUP BY pid ORDER BY n DESC LIMIT 5;
**   SELECT pid, proto, local_addr, local_port FROM ps_sockets(1234)
**     WHERE state = 'LISTEN';                                        -- a container's listeners
**   SELECT s.pid, p.comm, s.path FROM ps_sockets s JOIN ps p ON p.pid = s.pid
**     WHERE s.family = 'unix' AND s.path IS NOT NULL;
**
**   CREATE TABLE ps_fds(
**     pid INTEGER,     -- the process, as the view (pidns) sees it
**     hpid INTEGER,    -- the process on the host (the caller's pid)
**     fd INTEGER,      -- the descriptor
**     type TEXT,       -- file, dir, device, socket, pipe, anon, memfd, ns, other
**     target TEXT,     -- the link text of /proc/PID/fd/N: a path, socket:[ino], anon_inode:[eventfd]
**     inode INTEGER,   -- from the link text, else fdinfo ino
**     pos INTEGER,     -- fdinfo pos
**     flags TEXT,      -- fdinfo flags: O_RDWR|O_NONBLOCK|O_CLOEXEC (O_LARGEFILE left out)
**     mnt_id INTEGER,  -- fdinfo mnt_id (/proc/PID/mountinfo's first field)
**     deleted INTEGER, -- 1 when the link text ends in " (deleted)"
**     pidns INTEGER HIDDEN
**   );
**   CREATE TABLE ps_sockets(
**     pid INTEGER, hpid INTEGER, fd INTEGER, -- as in ps_fds
**     inode INTEGER,       -- the socket's inode (socket:[ino])
**     family TEXT,         -- inet, inet6, unix, netlink, packet; NULL: no table read lists it
**     proto TEXT,          -- tcp, udp, udplite, raw, icmp; unix: stream, dgram, seqpacket;
**                          -- netlink: route, sock_diag, audit, ...; packet: raw, dgram
**     state TEXT,          -- LISTEN, ESTABLISHED, TIME_WAIT, CLOSE, ... (below)
**     local_addr TEXT,     -- 127.0.0.1, ::1, 0.0.0.0 (inet, inet6)
**     local_port INTEGER,  -- raw: the protocol; netlink: the port id
**     remote_addr TEXT,    -- NULL when not connected
**     remote_port INTEGER,
**     path TEXT,           -- unix: the bound path; '@' starts an abstract name
**     ns_net INTEGER,      -- inode of the network namespace whose tables list the socket
**     pidns INTEGER HIDDEN
**   );
**
** pidns works as in `ps`: NULL (or a pid of the caller's own PID namespace)
** lists the host's processes; X lists the PID namespace of host process X,
** pid being the container's pid and hpid the host's. pidns IN (...) lists
** each namespace once; the views of one statement share one census of
** /proc. WHERE pid = X (or pid IN (...)) reads only those processes: in a
** container they are container pids.
**
** Trust: every value comes from the caller's own /proc: /proc/HPID/fd/N
** (readlink: its text only), /proc/HPID/fdinfo/N and the /proc/HPID/net/ files (the
** tables of the process's own network namespace, so a container's
** listeners show their in-container addresses). A descriptor's target is
** never stat()ed or opened (a container's FUSE daemon could hold the
** calling thread); so type is read from the link text and fdinfo (src/fds.c
** says how): a directory opened without O_DIRECTORY reads file. The socket
** tables of each network namespace are read once per statement (cached by
** ns/net inode), not once per process; a socket made in another namespace
** than its holder's (socket activation) is looked up in every table the
** statement read, and gets NULLs when no table, or more than one row,
** claims it (a unix socket's path is its owner's text: a path with a
** newline could forge a row, and a forged row can only make a socket
** ambiguous). A process whose descriptors the caller may not read (another
** user's, without CAP_SYS_PTRACE) gives no rows and no error; a process or
** descriptor that goes away during the scan is skipped.
**
** state: one naming for every family, the kernel's TCP_* names without
** TCP_, which are netstat's for TCP (ss shortens ESTABLISHED to ESTAB and
** shows CLOSE as UNCONN): LISTEN, ESTABLISHED, SYN_SENT, SYN_RECV,
** FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, CLOSING.
** UDP and raw sockets are ESTABLISHED when connected, else CLOSE; unix
** sockets LISTEN, ESTABLISHED (connected) or CLOSE, as the kernel keeps
** them; netlink and packet sockets NULL.
**
** Both tables are eponymous-only and DIRECTONLY (they show what every
** process holds open): triggers and persistent views may not use them;
** TEMP views may (sql/listening.sql).
**
** idxNum bits, set by xBestIndex and read by xFilter:
**   0x01  pidns = ?         one argv value
**   0x02  pidns IN (...)    the whole list in one argv value (sqlite3_vtab_in)
**   0x04  pid = ?           one argv value
**   0x08  pid IN (...)      the whole list in one argv value
**   0x10  read fdinfo       (ps_fds: type, inode, pos, flags or mnt_id is used)
** argv holds the pidns value first (when 0x01), then pid.
*/
#include "ps.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "psfds.h"
#include "psnap.h"

#define IDX_PIDNS 0x01
#define IDX_PIDNS_IN 0x02
#define IDX_PID 0x04
#define IDX_PID_IN 0x08
#define IDX_INFO 0x10

/* The columns of each table: one list, from which the enum and the schema
   come. Both start with pid, hpid, fd and end with pidns. */
#define FD_COLUMNS(X)                                                                                                  \
  X(PID, "pid INTEGER")                                                                                                \
  X(HPID, "hpid INTEGER")                                                                                              \
  X(FD, "fd INTEGER")                                                                                                  \
  X(TYPE, "type TEXT")                                                                                                 \
  X(TARGET, "target TEXT")                                                                                             \
  X(INODE, "inode INTEGER")                                                                                            \
  X(POS, "pos INTEGER")                                                                                                \
  X(FLAGS, "flags TEXT")                                                                                               \
  X(MNT_ID, "mnt_id INTEGER")                                                                                          \
  X(DELETED, "deleted INTEGER")                                                                                        \
  X(PIDNS, "pidns INTEGER HIDDEN")
#define SOCK_COLUMNS(X)                                                                                                \
  X(PID, "pid INTEGER")                                                                                                \
  X(HPID, "hpid INTEGER")                                                                                              \
  X(FD, "fd INTEGER")                                                                                                  \
  X(INODE, "inode INTEGER")                                                                                            \
  X(FAMILY, "family TEXT")                                                                                             \
  X(PROTO, "proto TEXT")                                                                                               \
  X(STATE, "state TEXT")                                                                                               \
  X(LOCAL_ADDR, "local_addr TEXT")                                                                                     \
  X(LOCAL_PORT, "local_port INTEGER")                                                                                  \
  X(REMOTE_ADDR, "remote_addr TEXT")                                                                                   \
  X(REMOTE_PORT, "remote_port INTEGER")                                                                                \
  X(PATH, "path TEXT")                                                                                                 \
  X(NS_NET, "ns_net INTEGER")                                                                                          \
  X(PIDNS, "pidns INTEGER HIDDEN")
#define FD_ENUM(id, decl) F_##id,
#define SOCK_ENUM(id, decl) S_##id,
#define DECL(id, decl) ", " decl
enum { FD_COLUMNS(FD_ENUM) F__COUNT };
enum { SOCK_COLUMNS(SOCK_ENUM) S__COUNT };
/* ", pid INTEGER, ...": the schema skips the first ", " */
static const char fd_schema[] = FD_COLUMNS(DECL);
static const char sock_schema[] = SOCK_COLUMNS(DECL);
_Static_assert(F_PID == 0 && F_HPID == 1 && F_FD == 2 && S_PID == 0 && S_HPID == 1 && S_FD == 2,
               "both tables start with pid, hpid, fd");

/* The columns of ps_fds that need /proc/PID/fdinfo/N. */
#define FD_INFO_COLS (1ull << F_TYPE | 1ull << F_INODE | 1ull << F_POS | 1ull << F_FLAGS | 1ull << F_MNT_ID)

/* What differs between the two tables. */
struct fds_table {
  const char *name;   /* in error messages */
  const char *schema; /* column declarations */
  int pidns;          /* index of the hidden pidns column */
  unsigned what;      /* PSNAP_FDS_* always read */
};
static const struct fds_table fds_def = {"ps_fds", fd_schema + 2, F_PIDNS, 0};
static const struct fds_table sockets_def = {"ps_sockets", sock_schema + 2, S_PIDNS, PSNAP_FDS_SOCKETS};

typedef struct fds_vtab {
  sqlite3_vtab base; /* Base class - must be first */
  const struct fds_table *t;
} fds_vtab;

typedef struct fds_cursor {
  sqlite3_vtab_cursor base;     /* Base class - must be first */
  const struct fds_table *t;    /* which table */
  struct psnap *snap;           /* the view of the current target: its processes */
  struct psnap_census *census;  /* shared by the views of this statement */
  struct psnap_fdscan *scan;    /* kept for the statement: socket tables are read once per namespace */
  unsigned what;                /* PSNAP_FDS_* of scan */
  struct psnap_target *targets; /* one per PID namespace; pid 0: the caller's */
  int ntargets;
  int itarget;     /* the target of snap */
  long long *pids; /* pid constraint values, or NULL for all */
  int npids;
  long long vpid; /* the current process, in the view */
  int hpid;       /* and on the host */
  int in_process; /* scan is on a process */
  struct psnap_fd fd;
  char flags[256]; /* the current fd's flags as text */
  int eof;
} fds_cursor;

/* Replace the vtab's error message: "TABLE: msg". SQLITE_ERROR, or SQLITE_NOMEM. */
static int set_error(sqlite3_vtab *vt, const char *table, const char *fmt, const char *arg) {
  sqlite3_free(vt->zErrMsg);
  char *msg = sqlite3_mprintf(fmt, arg);
  vt->zErrMsg = msg ? sqlite3_mprintf("%s: %s", table, msg) : NULL;
  sqlite3_free(msg);
  return vt->zErrMsg ? SQLITE_ERROR : SQLITE_NOMEM;
}

static int fdsConnect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **ppVtab, char **pzErr) {
  (void)argc, (void)argv;
  const struct fds_table *t = aux;
  char *sql = sqlite3_mprintf("CREATE TABLE x(%s)", t->schema);
  if (!sql) return SQLITE_NOMEM;
  int rc = sqlite3_declare_vtab(db, sql);
  sqlite3_free(sql);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s: cannot declare the table: %s", t->name, sqlite3_errmsg(db));
    return rc;
  }
  if (sqlite3_libversion_number() >= 3031000) sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  fds_vtab *vt = sqlite3_malloc(sizeof *vt);
  if (!vt) return SQLITE_NOMEM;
  memset(vt, 0, sizeof *vt);
  vt->t = t;
  *ppVtab = &vt->base;
  return SQLITE_OK;
}

static int fdsDisconnect(sqlite3_vtab *pVtab) {
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

/*
** xBestIndex: use pidns = ? and pid = ? (their IN lists whole on 3.38+),
** as `ps` does; a pidns constraint that is not usable on this plan makes
** the plan cost 1e18 (listing the host there is wrong, unless the other
** side is ps itself, see below). colUsed says whether fdinfo is read.
*/
static int fdsBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *info) {
  const struct fds_table *t = ((fds_vtab *)pVtab)->t;
  int ipidns = -1, ipid = -1, pidns_unusable = 0;
  int in_ok = sqlite3_libversion_number() >= 3038000;
  for (int i = 0; i < info->nConstraint; i++) {
    const struct sqlite3_index_constraint *c = &info->aConstraint[i];
    if (c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (c->iColumn == t->pidns) {
      if (!c->usable)
        pidns_unusable = 1;
      else if (ipidns < 0)
        ipidns = i;
    } else if (c->iColumn == F_PID && c->usable && ipid < 0) {
      ipid = i;
    }
  }
  /* Unattractive, not unusable: ps refuses the plan where it is the outer
     loop of a pidns join, so `ps_sockets s JOIN ps p ON p.pidns = s.pidns`
     has only this one, and it is right (s lists the caller's namespace,
     s.pidns reads NULL, and ps with pidns = NULL lists the same). Any
     other outer loop (containers c ... ON s.pidns = c.pid) costs less. */
  double penalty = pidns_unusable && ipidns < 0 ? 1e18 : 0;
  int idx = 0, argv = 0;
  double rows = 20000, cost = 20000;
  if (ipidns >= 0) {
    idx |= IDX_PIDNS;
    info->aConstraintUsage[ipidns].argvIndex = ++argv;
    info->aConstraintUsage[ipidns].omit = 1;
    if (in_ok && sqlite3_vtab_in(info, ipidns, -1)) {
      sqlite3_vtab_in(info, ipidns, 1);
      idx |= IDX_PIDNS_IN;
      rows *= 4, cost *= 4;
    }
  }
  if (ipid >= 0) {
    idx |= IDX_PID;
    info->aConstraintUsage[ipid].argvIndex = ++argv;
    info->aConstraintUsage[ipid].omit = 0; /* SQLite re-checks: pid = '12' stays exact */
    rows = 20, cost = 20;
    if (in_ok && sqlite3_vtab_in(info, ipid, -1)) {
      sqlite3_vtab_in(info, ipid, 1);
      idx |= IDX_PID_IN;
      rows = 200, cost = 200;
    }
  }
  if (t == &fds_def && (info->colUsed & FD_INFO_COLS)) idx |= IDX_INFO;
  info->idxNum = idx;
  info->estimatedRows = (sqlite3_int64)rows;
  info->estimatedCost = cost + penalty;
  return SQLITE_OK;
}

static int fdsOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor) {
  fds_cursor *c = sqlite3_malloc(sizeof *c);
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, sizeof *c);
  c->t = ((fds_vtab *)pVtab)->t;
  c->eof = 1;
  *ppCursor = &c->base;
  return SQLITE_OK;
}

/* Drop what a previous xFilter left (the census and the scan's socket tables stay). */
static void reset(fds_cursor *c) {
  psnap_close(c->snap);
  c->snap = NULL;
  sqlite3_free(c->targets);
  sqlite3_free(c->pids);
  c->targets = NULL;
  c->pids = NULL;
  c->ntargets = c->npids = c->itarget = 0;
  c->in_process = 0;
  c->eof = 1;
}

static int fdsClose(sqlite3_vtab_cursor *cur) {
  fds_cursor *c = (fds_cursor *)cur;
  reset(c);
  psnap_census_free(c->census);
  psnap_fdscan_close(c->scan);
  sqlite3_free(c);
  return SQLITE_OK;
}

/*
** One pidns value: NULL is the caller's namespace; otherwise a positive
** integer, resolved once. A value whose PID namespace is in the list
** already is dropped: each namespace is listed once.
*/
static int add_target(void *ctx, sqlite3_value *v) {
  fds_cursor *c = ctx;
  sqlite3_vtab *vt = c->base.pVtab;
  long long x = 0;
  struct psnap_target t = {0};
  struct psnap_err err = {0};
  if (v && sqlite3_value_type(v) != SQLITE_NULL && (!ps_value_whole(v, &x) || x <= 0)) {
    char *what = ps_value_shown(v);
    if (!what) return SQLITE_NOMEM;
    int rc = set_error(vt, c->t->name, "pidns must be a positive integer (a pid), not %s", what);
    sqlite3_free(what);
    return rc;
  }
  /* the caller's namespace: resolve our own pid for its inode */
  if (psnap_target_resolve(x ? x : (long long)getpid(), &t, &err) < 0)
    return err.code == ENOMEM ? SQLITE_NOMEM : set_error(vt, c->t->name, "%s", err.msg);
  if (!x) t.pid = 0;
  for (int i = 0; i < c->ntargets; i++)
    if (c->targets[i].ns == t.ns) return SQLITE_OK;
  struct psnap_target *nt = sqlite3_realloc64(c->targets, (sqlite3_uint64)(c->ntargets + 1) * sizeof *nt);
  if (!nt) return SQLITE_NOMEM;
  nt[c->ntargets++] = t;
  c->targets = nt;
  return SQLITE_OK;
}

/* One pid value: whole numbers only (pid = 'x' matches nothing). */
static int add_pid(void *ctx, sqlite3_value *v) {
  fds_cursor *c = ctx;
  long long x;
  if (!ps_value_whole(v, &x)) return SQLITE_OK;
  long long *np = sqlite3_realloc64(c->pids, (sqlite3_uint64)(c->npids + 1) * sizeof *np);
  if (!np) return SQLITE_NOMEM;
  np[c->npids++] = x;
  c->pids = np;
  return SQLITE_OK;
}

/* Open the view of target itarget: its processes, pid and hpid only. */
static int open_target(fds_cursor *c) {
  const struct psnap_target *t = &c->targets[c->itarget];
  struct psnap_err err = {0};
  if (t->level > 0 && !c->census && psnap_census_take(&c->census, &err) < 0)
    return err.code == ENOMEM ? SQLITE_NOMEM : set_error(c->base.pVtab, c->t->name, "%s", err.msg);
  struct psnap_cfg cfg = {
      .src = psnap_cols_src(1ull << PSNAP_COL_PID | 1ull << PSNAP_COL_HPID), .target = t, .census = c->census};
  if (c->pids) {
    cfg.pids = c->pids;
    cfg.npids = (size_t)c->npids;
  }
  int rc = psnap_open(&c->snap, &cfg, &err);
  if (rc == -ENOMEM) return SQLITE_NOMEM;
  if (rc < 0) return set_error(c->base.pVtab, c->t->name, "%s", err.msg);
  return SQLITE_OK;
}

/* The integer value of a psnap column of the current process. */
static int snap_int(fds_cursor *c, int col, long long *x) {
  struct psnap_value v;
  if (psnap_column(c->snap, col, &v) == -ENOMEM) return SQLITE_NOMEM;
  *x = v.type == PSNAP_INT ? v.i : -1;
  return SQLITE_OK;
}

/*
** Step to the next descriptor: the current process's next, else the next
** process of the view whose descriptors can be read, else the next target.
*/
static int advance(fds_cursor *c) {
  for (;;) {
    if (c->in_process) {
      int r = psnap_fdscan_next(c->scan, &c->fd);
      if (r < 0) return SQLITE_NOMEM;
      if (r > 0) return SQLITE_OK;
      c->in_process = 0;
    }
    if (!c->snap) {
      if (c->itarget >= c->ntargets) {
        c->eof = 1;
        return SQLITE_OK;
      }
      int rc = open_target(c);
      if (rc != SQLITE_OK) return rc;
    }
    int r = psnap_next(c->snap);
    if (r < 0) {
      if (r == -ENOMEM) return SQLITE_NOMEM;
      return set_error(c->base.pVtab, c->t->name, "%s", psnap_error(c->snap)->msg);
    }
    if (r == 0) {
      psnap_close(c->snap);
      c->snap = NULL;
      c->itarget++;
      continue;
    }
    long long hpid;
    if (snap_int(c, PSNAP_COL_PID, &c->vpid) != SQLITE_OK || snap_int(c, PSNAP_COL_HPID, &hpid) != SQLITE_OK)
      return SQLITE_NOMEM;
    c->hpid = (int)hpid;
    /* gone, not ours to read, or no longer that pid of the view: no rows */
    int rc = psnap_fdscan_process(c->scan, c->hpid, &c->targets[c->itarget], c->vpid);
    if (rc == -ENOMEM) return SQLITE_NOMEM;
    c->in_process = rc == 0;
  }
}

static int fdsFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc, sqlite3_value **argv) {
  (void)idxStr;
  fds_cursor *c = (fds_cursor *)cur;
  reset(c);
  unsigned what = c->t->what | (idxNum & IDX_INFO ? PSNAP_FDS_INFO : 0);
  if (c->scan && c->what != what) {
    psnap_fdscan_close(c->scan);
    c->scan = NULL;
  }
  if (!c->scan) {
    struct psnap_err err = {0};
    int r = psnap_fdscan_open(&c->scan, what, &err);
    if (r == -ENOMEM) return SQLITE_NOMEM;
    if (r < 0) return set_error(cur->pVtab, c->t->name, "%s", err.msg);
    c->what = what;
  }
  int a = 0, rc;
  if (idxNum & IDX_PIDNS) {
    if (a >= argc) return SQLITE_ERROR;
    rc = ps_value_each(argv[a++], idxNum & IDX_PIDNS_IN, add_target, c);
  } else {
    rc = add_target(c, NULL);
  }
  if (rc == SQLITE_OK && (idxNum & IDX_PID)) {
    if (a >= argc) return SQLITE_ERROR;
    rc = ps_value_each(argv[a++], idxNum & IDX_PID_IN, add_pid, c);
    if (rc == SQLITE_OK && !c->pids) {
      /* no usable pid value: an empty list, not a full scan */
      c->pids = sqlite3_malloc(sizeof *c->pids);
      if (!c->pids) rc = SQLITE_NOMEM;
    }
  }
  if (rc != SQLITE_OK) return rc;
  c->eof = 0;
  rc = advance(c);
  if (rc != SQLITE_OK) c->eof = 1;
  return rc;
}

static int fdsNext(sqlite3_vtab_cursor *cur) {
  fds_cursor *c = (fds_cursor *)cur;
  int rc = advance(c);
  if (rc != SQLITE_OK) c->eof = 1;
  return rc;
}

static int fdsEof(sqlite3_vtab_cursor *cur) { return ((fds_cursor *)cur)->eof; }

static void result_text(sqlite3_context *ctx, const char *s, size_t n) {
  if (s) sqlite3_result_text64(ctx, s, n, SQLITE_TRANSIENT, SQLITE_UTF8);
}
static void result_int(sqlite3_context *ctx, long long v, int null_below_zero) {
  if (!null_below_zero || v >= 0) sqlite3_result_int64(ctx, v);
}

/* A column of ps_fds. */
static void fd_column(fds_cursor *c, sqlite3_context *ctx, int col) {
  const struct psnap_fd *d = &c->fd;
  switch (col) {
  case F_TYPE: {
    const char *s = psnap_fd_type_name(d->type);
    result_text(ctx, s, s ? strlen(s) : 0);
    break;
  }
  case F_TARGET: result_text(ctx, d->target, d->target_len); break;
  case F_INODE:
    if (d->inode) sqlite3_result_int64(ctx, (sqlite3_int64)d->inode);
    break;
  case F_POS: result_int(ctx, d->pos, 1); break;
  case F_FLAGS:
    if (d->flags >= 0) {
      size_t n = psnap_fd_flags_format(d->flags, c->flags, sizeof c->flags);
      result_text(ctx, c->flags, n < sizeof c->flags ? n : sizeof c->flags - 1);
    }
    break;
  case F_MNT_ID: result_int(ctx, d->mnt_id, 1); break;
  case F_DELETED: sqlite3_result_int(ctx, d->deleted); break;
  }
}

/* A column of ps_sockets. */
static void sock_column(fds_cursor *c, sqlite3_context *ctx, int col) {
  const struct psnap_sock *s = c->fd.sock;
  if (col == S_INODE) {
    sqlite3_result_int64(ctx, (sqlite3_int64)c->fd.inode);
    return;
  }
  if (!s) return;
  switch (col) {
  case S_FAMILY: result_text(ctx, s->family, s->family ? strlen(s->family) : 0); break;
  case S_PROTO: result_text(ctx, s->proto, s->proto ? strlen(s->proto) : 0); break;
  case S_STATE: result_text(ctx, s->state, s->state ? strlen(s->state) : 0); break;
  case S_LOCAL_ADDR: result_text(ctx, s->local_addr, s->local_addr ? strlen(s->local_addr) : 0); break;
  case S_LOCAL_PORT: result_int(ctx, s->local_port, 1); break;
  case S_REMOTE_ADDR: result_text(ctx, s->remote_addr, s->remote_addr ? strlen(s->remote_addr) : 0); break;
  case S_REMOTE_PORT: result_int(ctx, s->remote_port, 1); break;
  case S_PATH: result_text(ctx, s->path, s->path_len); break;
  case S_NS_NET:
    if (s->netns) sqlite3_result_int64(ctx, (sqlite3_int64)s->netns);
    break;
  }
}

static int fdsColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
  fds_cursor *c = (fds_cursor *)cur;
  long long x = c->targets[c->itarget].pid;
  if (col == F_PID)
    sqlite3_result_int64(ctx, c->vpid);
  else if (col == F_HPID)
    sqlite3_result_int(ctx, c->hpid);
  else if (col == F_FD)
    sqlite3_result_int(ctx, c->fd.fd);
  else if (col == c->t->pidns) {
    if (x) sqlite3_result_int64(ctx, x);
  } else if (c->t == &fds_def)
    fd_column(c, ctx, col);
  else
    sock_column(c, ctx, col);
  return SQLITE_OK;
}

/* The host pid and the descriptor: the same in every scan of a statement. */
static int fdsRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid) {
  fds_cursor *c = (fds_cursor *)cur;
  *pRowid = (sqlite_int64)c->hpid << 32 | (sqlite_int64)(unsigned)c->fd.fd;
  return SQLITE_OK;
}

static sqlite3_module fds_module = {
    /* iVersion    */ 0,
    /* xCreate     */ 0, /* eponymous-only */
    /* xConnect    */ fdsConnect,
    /* xBestIndex  */ fdsBestIndex,
    /* xDisconnect */ fdsDisconnect,
    /* xDestroy    */ 0,
    /* xOpen       */ fdsOpen,
    /* xClose      */ fdsClose,
    /* xFilter     */ fdsFilter,
    /* xNext       */ fdsNext,
    /* xEof        */ fdsEof,
    /* xColumn     */ fdsColumn,
    /* xRowid      */ fdsRowid,
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

/* Register ps_fds and ps_sockets on a connection. */
int ps_register_fds(sqlite3 *db) {
  int rc = sqlite3_create_module(db, "ps_fds", &fds_module, (void *)&fds_def);
  if (rc == SQLITE_OK) rc = sqlite3_create_module(db, "ps_sockets", &fds_module, (void *)&sockets_def);
  return rc;
}
