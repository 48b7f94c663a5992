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
**     pidns INTEGER HIDDEN,
**     target_raw BLOB HIDDEN -- target's exact bytes
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
**     path TEXT,           -- unix: the bound name ('@' starts an abstract name, NULs read '@');
**                          -- NULL when unbound, or when another namespace's text cannot delimit it
**     ns_net INTEGER,      -- inode of the network namespace whose tables list the socket
**     pidns INTEGER HIDDEN,
**     path_raw BLOB HIDDEN -- path's exact bytes, as /proc/PID/net/unix lists them
**   );
**
** Every TEXT value is UTF-8 (ps_result_text, ext/values.c): a path with
** bytes that are not becomes text with U+FFFD for each invalid sequence;
** target_raw and path_raw keep the bytes exactly (an abstract name's NULs
** read '@' in both, as the kernel lists them).
**
** pidns works as in `ps`: NULL (or a pid of the caller's own PID namespace)
** lists the host's processes; X lists the PID namespace of host process X,
** pid being the container's pid and hpid the host's. pidns IN (...) lists
** each namespace once; the views of one statement share one census of
** /proc. WHERE pid = X (or pid IN (...)) reads only those processes: in a
** container they are container pids.
**
** Trust: every value comes from the caller's own /proc: /proc/HPID/fd/N
** (readlink: its text only), /proc/HPID/fdinfo/N and the /proc/HPID/net/
** files (the tables of the process's own network namespace, so a
** container's listeners show their in-container addresses), and, for the
** unix sockets of the caller's own network namespace, NETLINK_SOCK_DIAG
** (any user may ask it). A descriptor's target is never stat()ed or opened
** (a container's FUSE daemon could hold the calling thread); so type is
** read from the link text and fdinfo (src/fds.c says how): a directory
** opened without O_DIRECTORY reads file. The socket tables of each network
** namespace are read once per statement (cached by ns/net inode), not once
** per process; a socket made in another namespace than its holder's
** (socket activation) is looked up in every table the statement read, and
** in the caller's namespace by inode, and gets NULLs when none, or more
** than one socket, claims it. Another namespace's unix sockets come from
** its /proc/HPID/net/unix, which prints a socket's name raw: a name with a
** newline can print lines that read as other sockets' rows. src/sockets.c
** says which lines are trusted: such a line never changes another
** socket's family, type, state or path, and a path that a line could
** continue is NULL unless the next line's socket is held in that
** namespace (a census of its processes' descriptors, taken when its text
** has such lines). A process whose descriptors the caller may not read
** (another user's, without CAP_SYS_PTRACE) gives no rows and no error; a
** process or descriptor that goes away during the scan is skipped.
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
** idxNum bits, set by xBestIndex and read by xFilter; the first four are
** ext/scope.c's, shared with ps:
**   0x001  pidns = ?         one argv value
**   0x002  pidns IN (...)    the whole list in one argv value (sqlite3_vtab_in)
**   0x004  pid = ?           one argv value
**   0x008  pid IN (...)      the whole list in one argv value
**   0x100  read fdinfo       (ps_fds: type, inode, pos, flags or mnt_id is used)
** argv holds the pidns value first (when 0x001), then pid.
*/
#include "ps.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "psfds.h"
#include "psnap.h"

#define IDX_INFO 0x100

/* The columns of each table: one list, from which the enum and the schema
   come. Both start with pid, hpid, fd; pidns is the first hidden column. */
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
  X(PIDNS, "pidns INTEGER HIDDEN")                                                                                     \
  X(TARGET_RAW, "target_raw BLOB HIDDEN")
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
  X(PIDNS, "pidns INTEGER HIDDEN")                                                                                     \
  X(PATH_RAW, "path_raw BLOB HIDDEN")
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
  sqlite3_vtab_cursor base;  /* Base class - must be first */
  const struct fds_table *t; /* which table */
  struct psnap *snap;        /* the view of the current target: its processes */
  struct ps_scope sc;        /* pidns, pid: which processes */
  struct psnap_fdscan *scan; /* kept for the statement: socket tables are read once per namespace */
  unsigned what;             /* PSNAP_FDS_* of scan */
  long long vpid;            /* the current process, in the view */
  int hpid;                  /* and on the host */
  int in_process;            /* scan is on a process */
  struct psnap_fd fd;
  char flags[256]; /* the current fd's flags as text */
  int eof;
} fds_cursor;

static int fdsConnect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **ppVtab, char **pzErr) {
  (void)argc, (void)argv;
  const struct fds_table *t = aux;
  int rc = ps_connect(db, t->name, sqlite3_mprintf("CREATE TABLE x(%s)", t->schema), sizeof(fds_vtab), ppVtab, pzErr);
  if (rc == SQLITE_OK) ((fds_vtab *)*ppVtab)->t = t;
  return rc;
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
  int unusable;
  int rc = ps_scope_check(pVtab, t->name, info, t->pidns, -1);
  if (rc != SQLITE_OK) return rc;
  int idx = ps_scope_index(info, t->pidns, -1, F_PID, &unusable);
  /* Unattractive, not unusable: ps refuses the plan where it is the outer
     loop of a pidns join, so `ps_sockets s JOIN ps p ON p.pidns = s.pidns`
     has only this one, and it is right (s lists the caller's namespace,
     s.pidns reads NULL, and ps with pidns = NULL lists the same). Any
     other outer loop (containers c ... ON s.pidns = c.pid) costs less. */
  double penalty = unusable ? 1e18 : 0;
  double rows = 20000, cost = 20000;
  if (idx & PS_IDX_PIDNS_IN) rows *= 4, cost *= 4;
  if (idx & PS_IDX_PID_IN)
    rows = 200, cost = 200;
  else if (idx & PS_IDX_PID)
    rows = 20, cost = 20;
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
  c->sc.vt = pVtab;
  c->sc.table = c->t->name;
  c->eof = 1;
  *ppCursor = &c->base;
  return SQLITE_OK;
}

/* Drop what a previous xFilter left (the census and the scan's socket tables stay). */
static void reset(fds_cursor *c) {
  psnap_close(c->snap);
  c->snap = NULL;
  ps_scope_reset(&c->sc);
  c->in_process = 0;
  c->eof = 1;
}

static int fdsClose(sqlite3_vtab_cursor *cur) {
  fds_cursor *c = (fds_cursor *)cur;
  reset(c);
  ps_scope_free(&c->sc);
  psnap_fdscan_close(c->scan);
  sqlite3_free(c);
  return SQLITE_OK;
}

/* Open the view of the scope's current target: its processes, pid and hpid only. */
static int open_target(fds_cursor *c) {
  struct psnap_cfg cfg = {.src = psnap_cols_src(1ull << PSNAP_COL_PID | 1ull << PSNAP_COL_HPID)};
  return ps_scope_open(&c->sc, &cfg, &c->snap);
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
      if (c->sc.itarget >= c->sc.ntargets) {
        c->eof = 1;
        return SQLITE_OK;
      }
      int rc = open_target(c);
      if (rc != SQLITE_OK) return rc;
    }
    int r = psnap_next(c->snap);
    if (r < 0) {
      if (r == -ENOMEM) return SQLITE_NOMEM;
      return ps_error(c->base.pVtab, c->t->name, "%s", psnap_error(c->snap)->msg);
    }
    if (r == 0) {
      psnap_close(c->snap);
      c->snap = NULL;
      c->sc.itarget++;
      continue;
    }
    long long hpid;
    if (snap_int(c, PSNAP_COL_PID, &c->vpid) != SQLITE_OK || snap_int(c, PSNAP_COL_HPID, &hpid) != SQLITE_OK)
      return SQLITE_NOMEM;
    c->hpid = (int)hpid;
    /* gone, not ours to read, or no longer that pid of the view: no rows */
    int rc = psnap_fdscan_process(c->scan, c->hpid, &c->sc.targets[c->sc.itarget], c->vpid);
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
    if (r < 0) return ps_error(cur->pVtab, c->t->name, "%s", err.msg);
    c->what = what;
  }
  int rc = ps_scope_filter(&c->sc, idxNum, argc, argv);
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
  if (s) ps_result_text(ctx, s, n);
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
  case F_TARGET_RAW:
    if (d->target) ps_result_blob(ctx, d->target, d->target_len);
    break;
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
  case S_PATH_RAW:
    if (s->path) ps_result_blob(ctx, s->path, s->path_len);
    break;
  case S_NS_NET:
    if (s->netns) sqlite3_result_int64(ctx, (sqlite3_int64)s->netns);
    break;
  }
}

static int fdsColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
  fds_cursor *c = (fds_cursor *)cur;
  long long x = c->sc.targets[c->sc.itarget].pid;
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
