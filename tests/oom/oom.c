/*
** oom.c: out-of-memory injection for the ps extension.
**
**   cc -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra tests/oom/oom.c -lsqlite3 -o build/oom
**   build/oom build/ps.so                  host queries only
**   build/oom build/ps.so PID              also the container of PID: ps(PID)
**   tests/oom/run.sh                       builds, starts a container, runs it
**
** An allocator that wraps libc's malloc is installed with
** SQLITE_CONFIG_MALLOC before sqlite3_initialize(). The extension allocates
** through sqlite3_malloc64() and friends (ext/init.c), so this allocator
** sees every allocation of SQLite and of the extension. It counts the live
** blocks and fails the Nth allocation (malloc or realloc): once, or, in the
** "persist" mode, that one and every one after it.
**
** For N = 1, 2, 3, ... an iteration opens an in-memory database, loads the
** extension and runs a fixed list of queries, stepping every row and
** reading every column, then closes the database. The loop ends at the
** first N that the iteration no longer reaches. Checks, for every N:
**   - every prepare/step returns SQLITE_OK/ROW/DONE, SQLITE_NOMEM, or
**     SQLITE_ERROR with a message; SQLite's generic "SQL logic error"
**     counts as no message when the failed allocation was the extension's
**     (SQLite itself drops a message it cannot copy: not ours to check);
**   - after sqlite3_close() no allocation is live (no leak), and as many
**     fds are open as before sqlite3_open() (no fd leak);
**   - no crash, no hang (a 60 s alarm per iteration);
**   - without failures, every query gives its expected result.
** One line per failing N, with the stack of the failed allocation
** (addr2line for the extension's frames), then a summary; exit 1 on any
** failure. The iterations run one after the other in a worker process;
** when it dies, that N is reported and a new worker goes on at N+1.
**
** Two phases, because a full scan of /proc costs 0.1-1 s with 1,000-8,000
** processes and cannot run once per N:
**   queries  every query that names its pids (pid = / pid IN, the self-join
**            restricted to two outer rows, ps_descriptors, the functions,
**            the container without hpid, the error cases), with open and
**            load: every allocation is failed in turn.
**   scan     SELECT pid, comm FROM ps, SELECT * FROM ps(container),
**            SELECT * FROM ps, SELECT * FROM ps_namespaces, ps_fds,
**            ps_sockets and ps_threads, which read
**            every process: open, load and prepare
**            run without failures (the same code is failed in the queries
**            phase), then each allocation made while stepping is failed in
**            turn; an iteration stops after the query that saw the failure.
** Text columns are read with sqlite3_column_blob(): sqlite3_column_text()
** must add a NUL to the extension's values, one SQLite allocation per text
** column per row (70,000 on a busy host), which would test SQLite, not us.
**
** Also reported, as WARN lines (failures with --strict):
**   - a query that succeeds without failures but answers SQLITE_ERROR
**     after a failure (an out-of-memory reported as another error);
**   - a query whose rows are the same on every run (pid-restricted, error
**     cases) that completes after an injected failure with other values
**     than without failures: a failed allocation that was swallowed and
**     turned into a NULL or a number instead of SQLITE_NOMEM.
**
** Options:
**   --mode=once|persist|both   failure kind (default both)
**   --phase=queries|scan|both  (default both)
**   --no-fail                  one plain iteration of both phases, no
**                              injection, no fork: for valgrind
**   --from=N --to=N            only this range of N (debugging)
**   --strict                   WARN lines count as failures
**   -v                         every N, and the allocations per query
*/
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* The allocator                                                       */

#define HDR 16 /* keeps the payload 16-byte aligned; holds the size */

static struct {
  int armed;         /* count and fail only while set */
  int persist;       /* fail every allocation after the Nth too */
  long long fail_at; /* N: the allocation to fail (1-based), 0 = never */
  long long count;   /* allocations seen while armed */
  long long fired;   /* allocations failed */
  long long live;    /* blocks allocated and not freed */
} A;

/*
** Where the first failed allocation was asked for: module and offset of
** each frame, taken at once (the extension is unloaded by sqlite3_close).
*/
#define BT_MAX 20
static struct frame {
  char module[256];
  unsigned long off;
  char sym[64];
} bt[BT_MAX];
static int nbt;
static int bt_in_ext;          /* a frame of the failed allocation is in the extension */
static char ext_base[256];     /* the extension's file name, "ps.so" */
static char program_base[256]; /* this program's, "oom" */

static void take_backtrace(void) {
  void *pc[BT_MAX + 8];
  int n = backtrace(pc, BT_MAX + 8);
  int top = 1; /* still in this program's allocator frames */
  nbt = 0;
  bt_in_ext = 0;
  for (int i = 0; i < n && nbt < BT_MAX; i++) {
    Dl_info di;
    struct frame f = {.module = "?", .off = (unsigned long)pc[i]};
    if (dladdr(pc[i], &di) && di.dli_fname) {
      const char *b = strrchr(di.dli_fname, '/') ? strrchr(di.dli_fname, '/') + 1 : di.dli_fname;
      if (top && strcmp(b, program_base) == 0) continue;
      snprintf(f.module, sizeof f.module, "%s", di.dli_fname);
      f.off = (unsigned long)((char *)pc[i] - (char *)di.dli_fbase) - 1; /* the call, not the return */
      if (di.dli_sname) snprintf(f.sym, sizeof f.sym, "%s", di.dli_sname);
      if (strcmp(b, ext_base) == 0) bt_in_ext = 1;
    }
    top = 0;
    bt[nbt++] = f;
  }
}

static int should_fail(void) {
  if (!__atomic_load_n(&A.armed, __ATOMIC_RELAXED)) return 0;
  long long n = __atomic_add_fetch(&A.count, 1, __ATOMIC_RELAXED);
  if (A.fail_at > 0 && (n == A.fail_at || (A.persist && n > A.fail_at))) {
    if (__atomic_add_fetch(&A.fired, 1, __ATOMIC_RELAXED) == 1) take_backtrace();
    return 1;
  }
  return 0;
}

static void *xMalloc(int n) {
  if (n <= 0 || should_fail()) return NULL;
  char *p = malloc((size_t)n + HDR);
  if (!p) return NULL;
  *(size_t *)p = (size_t)n;
  __atomic_add_fetch(&A.live, 1, __ATOMIC_RELAXED);
  return p + HDR;
}

static void xFree(void *q) {
  if (!q) return;
  __atomic_sub_fetch(&A.live, 1, __ATOMIC_RELAXED);
  free((char *)q - HDR);
}

static void *xRealloc(void *q, int n) {
  if (!q) return xMalloc(n);
  if (n <= 0 || should_fail()) return NULL;
  char *p = realloc((char *)q - HDR, (size_t)n + HDR);
  if (!p) return NULL;
  *(size_t *)p = (size_t)n;
  return p + HDR;
}

static int xSize(void *q) { return q ? (int)*(size_t *)((char *)q - HDR) : 0; }
static int xRoundup(int n) { return (n + 7) & ~7; }
static int xInit(void *x) {
  (void)x;
  return SQLITE_OK;
}
static void xShutdown(void *x) { (void)x; }

static const sqlite3_mem_methods mem = {xMalloc, xFree, xRealloc, xSize, xRoundup, xInit, xShutdown, 0};

/* ------------------------------------------------------------------ */
/* The queries                                                         */

enum expect { OK, ERR };
enum phase { QUERIES = 1, SCAN = 2 };

struct query {
  const char *sql; /* %1$d: our pid, %2$d: our parent's, %3$d: the container's */
  enum phase phase;
  enum expect expect;
  int container; /* needs the container pid */
  int stable;    /* same rows and values on every run (volatile columns left out) */
};

static const struct query queries[] = {
    {"SELECT * FROM ps WHERE pid = %1$d", QUERIES, OK, 0, 1},
    {"SELECT * FROM ps WHERE pid IN (1, %1$d)", QUERIES, OK, 0, 1},
    /* The inner cursor is filtered again for each outer row. b.pid IN
       keeps the outer side to two rows: unrestricted, the join opens one
       snapshot per process, thousands of allocations per iteration. */
    {"SELECT count(*) FROM ps a JOIN ps b ON a.pid = b.ppid WHERE b.pid IN (%1$d, %2$d)", QUERIES, OK, 0, 1},
    {"SELECT * FROM ps_descriptors", QUERIES, OK, 0, 1},
    {"SELECT ps_etime(93784), ps_etime(59.9), ps_cputime(4), ps_cputime(NULL), ps_version()", QUERIES, OK, 0, 1},
    {"SELECT pid, ps_etime(etime), ps_cputime(time) FROM ps WHERE pid IN (1, %1$d)", QUERIES, OK, 0, 0},
    /* The container without hpid: hpid maps every host process (a walk of
       the host's /proc, too slow for every N; the scan phase has it). Two
       targets: the caller's namespace (NULL) and the container's. */
    {"SELECT user, pid, ppid, args, comm, \"group\", groups, uid, tty, stime, label, huser, huid, hgroup, hgroups,"
     " pidns FROM ps(%3$d)",
     QUERIES, OK, 1, 1},
    {"SELECT pid, user, huser FROM ps WHERE pidns IN (NULL, %3$d, %3$d) AND pid IN (1, %1$d)", QUERIES, OK, 1, 1},
    {"SELECT pid FROM ps(0)", QUERIES, ERR, 0, 1},
    {"SELECT pid FROM ps('x')", QUERIES, ERR, 0, 1},
    {"SELECT pid FROM ps(4000000)", QUERIES, ERR, 0, 1},
    {"SELECT ps_etime('x')", QUERIES, ERR, 0, 1},
    /* connect and plan only: the scan phase walks it */
    {"SELECT * FROM ps_namespaces WHERE 0", QUERIES, OK, 0, 1},
    /* descriptors and sockets of one process (our parent: idle), of the container */
    {"SELECT * FROM ps_fds WHERE pid = %2$d", QUERIES, OK, 0, 0},
    {"SELECT * FROM ps_sockets WHERE pid IN (1, %2$d)", QUERIES, OK, 0, 0},
    {"SELECT * FROM ps_fds(%3$d)", QUERIES, OK, 1, 0},
    {"SELECT fd FROM ps_fds('x')", QUERIES, ERR, 0, 1},
    {"SELECT fd FROM ps_sockets(4000000)", QUERIES, ERR, 0, 1},
    /* threads of two processes (init's, our parent's), of the container; a one-shot sample */
    {"SELECT * FROM ps_threads WHERE pid IN (1, %2$d)", QUERIES, OK, 0, 0},
    {"SELECT * FROM ps_threads(%3$d)", QUERIES, OK, 1, 0},
    {"SELECT tid, pcpu_now FROM ps_threads(NULL, 0.01) WHERE pid = %1$d", QUERIES, OK, 0, 0},
    {"SELECT tid FROM ps_threads('x')", QUERIES, ERR, 0, 1},
    {"SELECT * FROM ps_descriptors('ps_threads')", QUERIES, OK, 0, 1},
    /* every process: failures while stepping only */
    {"SELECT pid, comm FROM ps", SCAN, OK, 0, 0},
    {"SELECT * FROM ps(%3$d)", SCAN, OK, 1, 1},
    {"SELECT * FROM ps", SCAN, OK, 0, 0},
    {"SELECT * FROM ps_namespaces", SCAN, OK, 0, 0},
    {"SELECT * FROM ps_fds", SCAN, OK, 0, 0},
    {"SELECT * FROM ps_sockets", SCAN, OK, 0, 0},
    {"SELECT * FROM ps_threads", SCAN, OK, 0, 0},
};
#define NQ ((int)(sizeof queries / sizeof queries[0]))

/* Columns whose values change from one run (or forked child) to the next. */
static int volatile_col(const char *name) {
  /* pid, stime: the reference and the worker are two processes (same parent) */
  static const char *const v[] = {"pid", "hpid", "pcpu", "etime", "time", "vsz", "rss", "state", "stime",
                                  "ps_etime(etime)", "ps_cputime(time)",
                                  /* memory, I/O, files and CPU now move with the process's work */
                                  "pss", "uss", "swap", "shared", "pmem", "nfds", "psr", "oom_score", "pcpu_now",
                                  "rchar", "wchar", "read_bytes", "write_bytes", "syscr", "syscw",
                                  /* a thread's ids, and what moves with its work */
                                  "tid", "htid", "wchan", "syscall", "voluntary_switches", "involuntary_switches"};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    if (strcmp(name, v[i]) == 0) return 1;
  return 0;
}

/* What the run without failures saw, shared with the forked children. */
#define DIGEST_MAX 32768
struct shared {
  int have_ref;
  int ref_rc[NQ];
  char ref_digest[NQ][DIGEST_MAX];
  /* the child's report */
  long long count;
  int warned;
  char msg[8192];
  /* the worker's progress: the N it runs, checks failed, warnings */
  long long cur_n, last_count;
  int w_failed, w_warned;
  int w_done; /* the worker reached an N past the end */
};
static struct shared *sh;

/* The rows of a query as text (libc's memory: neither counted nor failed). */
struct digest {
  char *p;
  size_t n, cap;
};

static void dg_add(struct digest *d, const char *s, size_t n) {
  if (d->n + n + 1 > d->cap) {
    size_t ncap = d->cap ? d->cap : 1024;
    while (d->n + n + 1 > ncap) ncap *= 2;
    d->p = realloc(d->p, ncap);
    if (!d->p) abort();
    d->cap = ncap;
  }
  memcpy(d->p + d->n, s, n);
  d->n += n;
  d->p[d->n] = '\0';
}

/* ------------------------------------------------------------------ */
/* One iteration                                                       */

static const char *ext_path;
static long container_pid;
static int strict, verbose;

struct result {
  int failed; /* checks that failed */
  int warned; /* WARN lines */
  char msg[8192];
  size_t len;
};

/* fail: 1 a failure, 0 a warning, -1 more text for the last one */
static void note(struct result *r, int fail, const char *fmt, ...) {
  if (fail > 0)
    r->failed++;
  else if (fail == 0)
    r->warned++;
  if (r->len >= sizeof r->msg - 1) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(r->msg + r->len, sizeof r->msg - r->len, fmt, ap);
  va_end(ap);
  if (n > 0) r->len += (size_t)n;
  if (r->len >= sizeof r->msg) r->len = sizeof r->msg - 1;
}

/* The number of open fds (not counting the one that lists them). */
static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (de->d_name[0] != '.') n++;
  closedir(d);
  return n - 1;
}

/*
** Check one result code. Returns 1 when the statement ended with an
** error, 0 when it goes on (ROW) or ended well (OK/DONE).
*/
static int check_rc(struct result *r, sqlite3 *db, int qi, const char *what, int rc, const char *sql) {
  int base = rc & 0xff;
  if (base == SQLITE_OK || base == SQLITE_ROW || base == SQLITE_DONE) return 0;
  if (base == SQLITE_NOMEM) return 1;
  const char *msg = sqlite3_errmsg(db);
  if (base == SQLITE_ERROR) {
    if (!msg || !*msg || strcmp(msg, sqlite3_errstr(rc)) == 0) {
      /* SQLite drops a message it cannot copy (sqlite3VdbeTransferError
         allocates it as a benign malloc): only the extension is to blame,
         when the failed allocation was its own */
      if (!A.fired || bt_in_ext)
        note(r, 1, "q%d %s: SQLITE_ERROR without a message (\"%s\"): %s\n", qi, what, msg ? msg : "NULL", sql);
    } else if (queries[qi].expect == OK && A.fired)
      note(r, strict, "q%d %s: out of memory reported as SQLITE_ERROR \"%s\": %s\n", qi, what, msg, sql);
    return 1;
  }
  note(r, 1, "q%d %s: unexpected result %d (%s): %s\n", qi, what, rc, msg ? msg : "NULL", sql);
  return 1;
}

/* Run query qi: prepare, step every row, read every column. */
static void run_query(struct result *r, sqlite3 *db, int qi) {
  const struct query *q = &queries[qi];
  char sql[512];
  snprintf(sql, sizeof sql, q->sql, (int)getpid(), (int)getppid(), (int)container_pid);
  sqlite3_stmt *st = NULL;
  struct digest d = {0};
  int scan = q->phase == SCAN;
  int keep = !scan || q->stable; /* keep the values (a scan of every process changes) */
  int noted = r->failed + r->warned;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  int final = rc;
  if (check_rc(r, db, qi, "prepare", rc, sql) == 0) {
    if (!st) note(r, 1, "q%d: prepare gave no statement: %s\n", qi, sql);
    if (scan) A.armed = 1; /* the scan phase fails allocations while stepping only */
    for (int nrows = 1; st; nrows++) {
      rc = sqlite3_step(st);
      final = rc;
      if (rc != SQLITE_ROW) {
        check_rc(r, db, qi, "step", rc, sql);
        break;
      }
      int ncol = sqlite3_column_count(st);
      for (int i = 0; i < ncol; i++) {
        const char *name = sqlite3_column_name(st, i);
        char buf[64];
        const char *val = buf;
        size_t vn;
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER: snprintf(buf, sizeof buf, "%lld", sqlite3_column_int64(st, i)); break;
        case SQLITE_FLOAT: snprintf(buf, sizeof buf, "%.17g", sqlite3_column_double(st, i)); break;
        case SQLITE_TEXT:
        case SQLITE_BLOB: {
          /* the bytes as they are: no conversion, no NUL added, no allocation */
          const char *s = sqlite3_column_blob(st, i);
          int n = sqlite3_column_bytes(st, i);
          if (!s && n > 0) note(r, 1, "q%d row %d: column %d has %d bytes at NULL\n", qi, nrows, i, n);
          if (!s) n = 0;
          snprintf(buf, sizeof buf, "%s:", sqlite3_column_type(st, i) == SQLITE_TEXT ? "text" : "blob");
          if (keep) {
            dg_add(&d, name ? name : "?", name ? strlen(name) : 1);
            dg_add(&d, "=", 1);
            dg_add(&d, s ? s : "", (size_t)n);
            dg_add(&d, "|", 1);
          }
          continue;
        }
        default: snprintf(buf, sizeof buf, "NULL"); break;
        }
        vn = strlen(val);
        if (!keep || (name && volatile_col(name))) continue;
        dg_add(&d, name ? name : "?", name ? strlen(name) : 1);
        dg_add(&d, "=", 1);
        dg_add(&d, val, vn);
        dg_add(&d, "|", 1);
      }
      if (keep) dg_add(&d, "\n", 1);
    }
    if (scan) A.armed = 0;
  }
  int lost = 0; /* SQLite could not copy the error message (see check_rc) */
  if ((final & 0xff) == SQLITE_ERROR) {
    const char *m = sqlite3_errmsg(db);
    lost = A.fired && !bt_in_ext && strcmp(m, sqlite3_errstr(final)) == 0;
    dg_add(&d, "error: ", 7);
    dg_add(&d, m, strlen(m));
  }
  sqlite3_finalize(st);

  if (!sh->have_ref) {
    /* the run without failures: record, and check the expectation */
    sh->ref_rc[qi] = final;
    snprintf(sh->ref_digest[qi], DIGEST_MAX, "%s", d.p ? d.p : "");
    if (q->expect == OK && final != SQLITE_DONE)
      note(r, 1, "q%d without failures: %d (%s): %s\n", qi, final, sqlite3_errmsg(db), sql);
    if (q->expect == ERR && final != SQLITE_ERROR)
      note(r, 1, "q%d without failures: expected SQLITE_ERROR, got %d: %s\n", qi, final, sql);
  } else if (q->stable && A.fired && !lost && noted == r->failed + r->warned && final == sh->ref_rc[qi] &&
             strcmp(d.p ? d.p : "", sh->ref_digest[qi]) != 0) {
    /* completed as without failures, but with other values */
    const char *a = sh->ref_digest[qi], *b = d.p ? d.p : "";
    size_t k = 0;
    while (a[k] && a[k] == b[k]) k++;
    while (k > 0 && a[k - 1] != '|' && a[k - 1] != '\n') k--;
    note(r, strict,
         "q%d: completed after an injected failure with other values: %s\n    got      %.80s\n"
         "    expected %.80s\n",
         qi, sql, b + k, a + k);
  } else if (q->expect == ERR && (final & 0xff) != SQLITE_ERROR && (final & 0xff) != SQLITE_NOMEM) {
    note(r, 1, "q%d: expected an error, got %d: %s\n", qi, final, sql);
  }
  free(d.p);
}

/* One iteration of a phase: open, load, run its queries, close, check. */
static void iteration(struct result *r, unsigned phases) {
  int fds = count_fds();
  long long live = A.live;
  sqlite3 *db = NULL;
  int scan_only = phases == SCAN;
  A.armed = !scan_only;
  int rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_enable_load_extension(db, 1);
  if (rc == SQLITE_OK) {
    char *err = NULL;
    long long c0 = A.count;
    rc = sqlite3_load_extension(db, ext_path, NULL, &err);
    if (verbose && !sh->have_ref) printf("  open: %lld, load: %lld allocations\n", c0, A.count - c0);
    /* Without failures it must load. Under OOM SQLite turns any failure
       of the init function into SQLITE_ERROR "error during
       initialization", whose text is lost when it cannot be allocated. */
    if (rc != SQLITE_OK && (!A.fired || (rc != SQLITE_NOMEM && rc != SQLITE_ERROR)))
      note(r, 1, "load_extension: %d: %s\n", rc, err ? err : "(no message)");
    sqlite3_free(err);
  } else if (rc != SQLITE_NOMEM) {
    note(r, 1, "open: unexpected %d\n", rc);
  }
  if (rc == SQLITE_OK) {
    for (int qi = 0; qi < NQ; qi++) {
      if (!(queries[qi].phase & phases) || (queries[qi].container && container_pid <= 0)) continue;
      long long c0 = A.count;
      run_query(r, db, qi);
      if (verbose && !sh->have_ref) printf("  q%d: %lld allocations\n", qi, A.count - c0);
      /* scan phase: the rest is a full scan again, and the recovery of a
         connection after a failure is the queries phase's business */
      if (scan_only && A.fired) break;
    }
  }
  rc = sqlite3_close(db);
  A.armed = 0;
  if (rc != SQLITE_OK) note(r, 1, "sqlite3_close: %d\n", rc);
  if (A.live != live) note(r, 1, "leak: %lld allocations live after sqlite3_close\n", A.live - live);
  int fds_after = count_fds();
  if (fds_after != fds)
    note(r, 1, "fd leak: %d fds open before sqlite3_open, %d after sqlite3_close\n", fds, fds_after);
}

/*
** The stack of the failed allocation, as text: frames in the extension
** (hidden symbols) and in this program go through addr2line for function,
** file and line; the others show the nearest exported symbol.
*/
static void describe_backtrace(struct result *r) {
  char lines[BT_MAX][400];
  memset(lines, 0, sizeof lines);
  /* one addr2line per module with debug info of ours: the extension, this program */
  for (int i = 0; i < nbt; i++) {
    const char *b = strrchr(bt[i].module, '/') ? strrchr(bt[i].module, '/') + 1 : bt[i].module;
    if (lines[i][0] || bt[i].sym[0] || (strcmp(b, ext_base) != 0 && strcmp(b, program_base) != 0)) continue;
    char cmd[4096];
    /* without the sanitizers' preload and options (build/asan/oom) */
    int k = snprintf(cmd, sizeof cmd, "env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS addr2line -f -i -p -e '%s'",
                     bt[i].module);
    int idx[BT_MAX], n = 0;
    for (int j = i; j < nbt && k < (int)sizeof cmd - 40; j++)
      if (!bt[j].sym[0] && strcmp(bt[j].module, bt[i].module) == 0) {
        k += snprintf(cmd + k, sizeof cmd - (size_t)k, " 0x%lx", bt[j].off);
        idx[n++] = j;
      }
    snprintf(cmd + k, sizeof cmd - (size_t)k, " 2>/dev/null");
    FILE *p = popen(cmd, "r");
    if (!p) continue;
    /* one line per address, plus "(inlined by)" lines that belong to it */
    char buf[400];
    int at = -1;
    while (fgets(buf, sizeof buf, p)) {
      buf[strcspn(buf, "\n")] = '\0';
      if (strncmp(buf, " (inlined by) ", 14) == 0 && at >= 0) {
        size_t l = strlen(lines[idx[at]]);
        snprintf(lines[idx[at]] + l, sizeof lines[0] - l, ";%s", buf);
      } else if (at + 1 < n) {
        at++;
        snprintf(lines[idx[at]], sizeof lines[0], "%s", strstr(buf, "??") ? "" : buf);
      }
    }
    pclose(p);
  }
  note(r, -1, "  failed allocation (N=%lld):\n", A.fail_at);
  for (int i = 0; i < nbt; i++) {
    const struct frame *f = &bt[i];
    const char *b = strrchr(f->module, '/') ? strrchr(f->module, '/') + 1 : f->module;
    if (strstr(b, "libsqlite3") && strcmp(f->sym, "sqlite3_step") == 0) {
      note(r, -1, "    #%d %s sqlite3_step\n", i, b);
      break; /* the rest is this program */
    }
    note(r, -1, "    #%d %s+0x%lx %s\n", i, b, f->off, lines[i][0] ? lines[i] : f->sym);
  }
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */

/*
** The loop. A worker process runs the iterations N = from, from+1, ...
** one after the other, each from its start (a fresh connection and a fresh
** load of the extension), and reports each N that fails a check. When it
** dies (a crash, or the alarm of a hang), the parent reports that N and
** starts another worker at N+1. Forking once per N would cost more than the
** iteration itself on this kind of VM (copy-on-write faults).
*/
enum { CHILD_FIRED = 0, CHILD_FIRED_FAIL = 1, CHILD_DONE = 2, CHILD_DONE_FAIL = 3 };

/* Store this child's result in shared memory, return its exit code. */
static int child_report(struct result *r) {
  if ((r->failed || r->warned) && A.fired) describe_backtrace(r);
  sh->count = A.count;
  sh->warned = r->warned;
  snprintf(sh->msg, sizeof sh->msg, "%s", r->msg);
  return A.fired ? (r->failed ? CHILD_FIRED_FAIL : CHILD_FIRED) : (r->failed ? CHILD_DONE_FAIL : CHILD_DONE);
}

static int wait_child(pid_t p) {
  int status;
  while (waitpid(p, &status, 0) < 0)
    if (errno != EINTR) {
      perror("oom: waitpid");
      exit(2);
    }
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return WEXITSTATUS(status);
}

/* Run one iteration (fail_at n) in a child. Returns its code or -signal. */
static int run_child(unsigned phase, long long n, int persist) {
  sh->count = 0, sh->warned = 0, sh->msg[0] = '\0';
  fflush(stdout);
  pid_t p = fork();
  if (p < 0) {
    perror("oom: fork");
    exit(2);
  }
  if (p == 0) {
    alarm(60);
    A.fail_at = n, A.persist = persist, A.count = 0, A.fired = 0;
    struct result r = {0};
    iteration(&r, phase);
    fflush(stdout);
    exit(child_report(&r)); /* exit(), not _exit(): LeakSanitizer checks at exit */
  }
  return wait_child(p);
}

static void print_indented(const char *prefix, const char *msg) {
  for (const char *p = msg; *p;) {
    const char *nl = strchr(p, '\n');
    size_t k = nl ? (size_t)(nl - p) : strlen(p);
    printf("%s%.*s\n", prefix, (int)k, p);
    p += k + (nl ? 1 : 0);
  }
}

static const char *phase_name(unsigned phase) { return phase == SCAN ? "scan" : "queries"; }

/* The run without failures of a phase: records what every query gives. */
static int reference(unsigned phase) {
  /* twice: a first-time effect (NSS, a cache) shows here, not as a failure later */
  for (int k = 0; k < 2; k++) {
    sh->have_ref = 0;
    int code = run_child(phase, 0, 0);
    if (code != CHILD_DONE) {
      printf("FAIL %s, without failures: %s\n", phase_name(phase),
             code < 0                  ? strsignal(-code)
             : code == CHILD_DONE_FAIL ? ""
                                       : "exit code");
      print_indented("  ", sh->msg);
      return 1;
    }
  }
  sh->have_ref = 1;
  printf("%s: %lld allocations without failures\n", phase_name(phase), sh->count);
  return 0;
}

/*
** A crash in the worker: its stack and the failed allocation's, on stdout,
** then the signal's default action. Not under AddressSanitizer, whose own
** report is better.
*/
#if !defined(__SANITIZE_ADDRESS__)
static void on_crash(int sig) {
  char buf[160];
  int k = snprintf(buf, sizeof buf, "  crash: signal %d in the iteration that failed allocation N=%lld; stack:\n", sig,
                   A.fail_at);
  if (write(1, buf, (size_t)k) < 0) _exit(3);
  void *pc[32];
  int n = backtrace(pc, 32);
  backtrace_symbols_fd(pc, n, 1);
  k = snprintf(buf, sizeof buf, "  the failed allocation (module+offset):\n");
  if (write(1, buf, (size_t)k) < 0) _exit(3);
  for (int i = 0; i < nbt; i++) {
    k = snprintf(buf, sizeof buf, "    #%d %s+0x%lx %s\n", i, bt[i].module, bt[i].off, bt[i].sym);
    if (write(1, buf, (size_t)k) < 0) _exit(3);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

static void catch_crashes(void) {
  static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], on_crash);
}
#else
static void catch_crashes(void) {}
#endif

/* The worker: iterations from n on. Exits 0 when an iteration no longer reaches its N. */
static void worker(unsigned phase, int persist, long long n, long long to) {
  const char *ph = phase_name(phase), *mode = persist ? "persist" : "once";
  catch_crashes();
  for (;; n++) {
    sh->cur_n = n;
    alarm(60);
    A.fail_at = n, A.persist = persist, A.count = 0, A.fired = 0;
    struct result r = {0};
    iteration(&r, phase);
    alarm(0);
    if ((r.failed || r.warned) && A.fired) describe_backtrace(&r);
    if (r.failed) {
      printf("FAIL %s %s N=%lld:\n", ph, mode, n);
      print_indented("  ", r.msg);
      sh->w_failed++;
    } else if (r.warned) {
      printf("WARN %s %s N=%lld:\n", ph, mode, n);
      print_indented("  ", r.msg);
      sh->w_warned += r.warned;
    } else if (verbose) {
      printf("ok %s %s N=%lld%s\n", ph, mode, n, A.fired ? "" : " (not reached)");
    }
    sh->last_count = A.count;
    if (!A.fired || (to > 0 && n >= to)) break;
  }
  sh->w_done = 1;
  fflush(stdout);
  exit(0); /* exit(), not _exit(): LeakSanitizer checks at exit */
}

/* Every N of a phase in one mode. Returns the failures. */
static int loop(unsigned phase, int persist, long long from, long long to, int *warnings) {
  const char *ph = phase_name(phase), *mode = persist ? "persist" : "once";
  int failures = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  sh->w_failed = sh->w_warned = sh->w_done = 0;
  sh->last_count = 0;
  for (long long n = from;;) {
    sh->cur_n = n;
    fflush(stdout);
    pid_t p = fork();
    if (p < 0) {
      perror("oom: fork");
      exit(2);
    }
    if (p == 0) worker(phase, persist, n, to);
    int code = wait_child(p);
    if (code == 0) break;
    failures++;
    if (sh->w_done) {
      /* after its last iteration: at exit (LeakSanitizer reports there) */
      printf("FAIL %s %s: the worker %s %d at exit\n", ph, mode, code < 0 ? "was killed by signal" : "exited",
             code < 0 ? -code : code);
      break;
    }
    if (code < 0)
      printf("FAIL %s %s N=%lld: killed by signal %d (%s)\n", ph, mode, sh->cur_n, -code, strsignal(-code));
    else
      printf("FAIL %s %s N=%lld: the worker exited %d\n", ph, mode, sh->cur_n, code);
    n = sh->cur_n + 1;
    if (to > 0 && n > to) break;
  }
  failures += sh->w_failed;
  *warnings += sh->w_warned;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%s %s: N=%lld..%lld (%lld allocations in the last iteration), %d failed, %.1f s\n", ph, mode, from, sh->cur_n,
         sh->last_count, failures, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  return failures;
}

static void usage(void) {
  fprintf(stderr, "usage: oom [--mode=once|persist|both] [--phase=queries|scan|both] [--no-fail] "
                  "[--from=N] [--to=N] [--strict] [-v] EXT.so [CONTAINER_PID]\n");
  exit(2);
}

int main(int argc, char **argv) {
  int once = 1, persist = 1, nofail = 0;
  unsigned phases = QUERIES | SCAN;
  long long from = 1, to = 0;
  int ai = 1;
  for (; ai < argc && argv[ai][0] == '-'; ai++) {
    const char *a = argv[ai];
    if (strcmp(a, "--mode=once") == 0)
      persist = 0;
    else if (strcmp(a, "--mode=persist") == 0)
      once = 0;
    else if (strcmp(a, "--mode=both") == 0)
      once = persist = 1;
    else if (strcmp(a, "--phase=queries") == 0)
      phases = QUERIES;
    else if (strcmp(a, "--phase=scan") == 0)
      phases = SCAN;
    else if (strcmp(a, "--phase=both") == 0)
      phases = QUERIES | SCAN;
    else if (strcmp(a, "--no-fail") == 0)
      nofail = 1;
    else if (strncmp(a, "--from=", 7) == 0)
      from = atoll(a + 7);
    else if (strncmp(a, "--to=", 5) == 0)
      to = atoll(a + 5);
    else if (strcmp(a, "--strict") == 0)
      strict = 1;
    else if (strcmp(a, "-v") == 0)
      verbose = 1;
    else
      usage();
  }
  if (ai >= argc || argc - ai > 2) usage();
  ext_path = argv[ai];
  snprintf(program_base, sizeof program_base, "%s", strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]);
  {
    const char *b = strrchr(ext_path, '/') ? strrchr(ext_path, '/') + 1 : ext_path;
    size_t k = strlen(b);
    snprintf(ext_base, sizeof ext_base, "%s%s", b, k > 3 && strcmp(b + k - 3, ".so") == 0 ? "" : ".so");
  }
  if (argc - ai == 2) {
    container_pid = atol(argv[ai + 1]);
    if (container_pid <= 0 || kill((pid_t)container_pid, 0) < 0) {
      fprintf(stderr, "oom: no container process %s\n", argv[ai + 1]);
      return 2;
    }
  }
  if (from < 1) from = 1;
  setvbuf(stdout, NULL, _IOLBF, 0);

  if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK) {
    fprintf(stderr, "oom: sqlite3_config(SQLITE_CONFIG_MALLOC) failed\n");
    return 2;
  }
  if (sqlite3_initialize() != SQLITE_OK) {
    fprintf(stderr, "oom: sqlite3_initialize failed\n");
    return 2;
  }
  sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) {
    perror("oom: mmap");
    return 2;
  }

  int failures = 0, warnings = 0;
  if (nofail) {
    /* One plain iteration of every query in this process (for valgrind). */
    struct result r = {0};
    iteration(&r, phases);
    print_indented("", r.msg);
    sqlite3_shutdown();
    if (A.live != 0) printf("FAIL: %lld allocations live after sqlite3_shutdown\n", A.live), r.failed++;
    printf("oom --no-fail: %d failed\n", r.failed);
    munmap(sh, sizeof *sh);
    return r.failed ? 1 : 0;
  }

  if (container_pid <= 0) printf("no container pid: the container queries are skipped\n");
  for (unsigned phase = QUERIES; phase <= SCAN; phase <<= 1) {
    if (!(phases & phase)) continue;
    if (reference(phase)) {
      failures++;
      continue;
    }
    if (once) failures += loop(phase, 0, from, to, &warnings);
    if (persist) failures += loop(phase, 1, from, to, &warnings);
  }

  sqlite3_shutdown();
  if (A.live != 0) {
    printf("FAIL: %lld allocations live after sqlite3_shutdown\n", A.live);
    failures++;
  }
  printf("oom: %d failed, %d warnings%s\n", failures, warnings, strict ? " (counted as failures: --strict)" : "");
  munmap(sh, sizeof *sh);
  return failures || (strict && warnings) ? 1 : 0;
}
