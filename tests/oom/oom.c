/*
** oom.c: out-of-memory injection for the ps extension.
**
**   cc -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra tests/oom/oom.c -lsqlite3 -o build/oom
**   build/oom build/ps.so                  host queries only
**   build/oom build/ps.so PID              also SELECT * FROM ps(PID) (a container)
**   tests/oom/run.sh                       builds, starts a container, runs both modes
**
** An allocator that wraps libc's malloc is installed with
** SQLITE_CONFIG_MALLOC before sqlite3_initialize(). The extension allocates
** through sqlite3_malloc64() and friends (ext/init.c), so it sees every
** allocation of SQLite and of the extension. It counts the live blocks and
** fails the Nth allocation (malloc or realloc), either once or, in the
** "persist" mode, that one and every one after it.
**
** For N = 1, 2, 3, ... one iteration (run in a forked child, so a crash or
** a hang is reported with its N and the loop goes on) opens an in-memory
** database, loads the extension and runs the fixed list of queries below,
** stepping every row and reading every column. The loop ends at the first
** N that the iteration never reaches. Checks, per N:
**   - every prepare/step returns SQLITE_OK/ROW/DONE, SQLITE_NOMEM, or
**     SQLITE_ERROR with a message (not SQLite's generic "SQL logic error");
**   - after sqlite3_close() no allocation is live (no leak) and as many fds
**     are open as before the open (no fd leak);
**   - no crash, no hang (30 s alarm).
** One line is printed per failing N, then a summary; exit 1 on any failure.
**
** Also reported, as WARN lines (failures with --strict):
**   - a query that succeeds on no failure but answers SQLITE_ERROR under OOM
**     (an OOM reported as some other error);
**   - a query that completes (SQLITE_DONE) under OOM with other values than
**     the run without failures: an allocation failure that was swallowed
**     and turned into a NULL or a number instead of SQLITE_NOMEM.
**
** Options:
**   --mode=once|persist|both   failure kind (default both)
**   --no-fail                  one iteration, no injection, no fork: for
**                              valgrind (tests/sanitize/valgrind.sh)
**   --from=N --to=N            only this range of N (debugging)
**   --strict                   WARN lines count as failures
**   -v                         print every N
*/
#include <dirent.h>
#include <errno.h>
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
  int armed;          /* count and fail only while set */
  int persist;        /* fail every allocation after the Nth too */
  long long fail_at;  /* N: the allocation to fail (1-based), 0 = never */
  long long count;    /* allocations seen while armed */
  long long fired;    /* allocations failed */
  long long live;     /* blocks allocated and not freed */
} A;

static int should_fail(void) {
  if (!A.armed) return 0;
  long long n = ++A.count;
  if (A.fail_at > 0 && (n == A.fail_at || (A.persist && n > A.fail_at))) {
    A.fired++;
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
  if (n <= 0 || should_fail()) return NULL;
  if (!q) return xMalloc(n);
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

struct query {
  const char *sql; /* may hold %1$d (our pid), %2$d (our parent), %3$d (the container) */
  enum expect expect;
  int container;   /* needs the container pid */
  int stable;      /* same rows and values every time (volatile columns left out) */
};

static const struct query queries[] = {
    {"SELECT * FROM ps", OK, 0, 0},
    {"SELECT pid, comm FROM ps", OK, 0, 0},
    {"SELECT * FROM ps WHERE pid = %1$d", OK, 0, 1},
    {"SELECT * FROM ps WHERE pid IN (1, %1$d)", OK, 0, 1},
    /* the inner cursor is filtered again for every outer row; b.pid IN
       keeps it to two lookups (a full self-join opens one snapshot per
       process: thousands of allocations per iteration) */
    {"SELECT count(*) FROM ps a JOIN ps b ON a.pid = b.ppid WHERE b.pid IN (%1$d, %2$d)", OK, 0, 1},
    {"SELECT * FROM ps_descriptors", OK, 0, 1},
    {"SELECT ps_etime(93784), ps_etime(59.9), ps_cputime(4), ps_cputime(NULL), ps_version()", OK, 0, 1},
    {"SELECT pid, ps_etime(etime), ps_cputime(time) FROM ps WHERE pid IN (1, %1$d)", OK, 0, 0},
    {"SELECT * FROM ps(%3$d)", OK, 1, 1},
    {"SELECT pid, user, hpid, huser FROM ps WHERE pidns IN (NULL, %3$d) AND pid IN (1, %1$d)", OK, 1, 0},
    {"SELECT * FROM ps(0)", ERR, 0, 1},
    {"SELECT * FROM ps('x')", ERR, 0, 1},
    {"SELECT * FROM ps(4000000)", ERR, 0, 1},
    {"SELECT ps_etime('x')", ERR, 0, 1},
};
#define NQ ((int)(sizeof queries / sizeof queries[0]))

/* Columns whose values change from one run to the next. */
static int volatile_col(const char *name) {
  static const char *const v[] = {"pid", "hpid", "pcpu", "etime", "time", "vsz", "rss", "state", "ps_etime(etime)",
                                  "ps_cputime(time)"};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    if (strcmp(name, v[i]) == 0) return 1;
  return 0;
}

/* What the run without failures saw, shared with the forked children. */
#define DIGEST_MAX 65536
struct shared {
  int have_ref;
  int ref_rc[NQ];             /* final code of each query */
  char ref_digest[NQ][DIGEST_MAX];
};
static struct shared *ref;

struct digest {
  char *p;
  size_t n, cap;
};

static void dg_add(struct digest *d, const char *s, size_t n) {
  if (d->n + n + 1 > d->cap) {
    size_t ncap = d->cap ? d->cap : 1024;
    while (d->n + n + 1 > ncap) ncap *= 2;
    d->p = realloc(d->p, ncap); /* libc's: not counted, not failed */
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
  int failed;   /* checks that failed */
  int warned;   /* WARN lines */
  char msg[8192];
  size_t len;
};

static void note(struct result *r, int fail, const char *fmt, ...) {
  if (fail) r->failed++;
  else r->warned++;
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

/* SQLite's text for an error that carries no message of its own. */
static int generic_message(int rc, const char *msg) {
  return !msg || !*msg || strcmp(msg, sqlite3_errstr(rc)) == 0;
}

/*
** Check one result code. Returns 1 when the query ended (an error), 0
** when it goes on (ROW) or is done (DONE/OK).
*/
static int check_rc(struct result *r, sqlite3 *db, int qi, const char *what, int rc) {
  int base = rc & 0xff;
  if (base == SQLITE_OK || base == SQLITE_ROW || base == SQLITE_DONE) return 0;
  const char *msg = sqlite3_errmsg(db);
  if (base == SQLITE_NOMEM) return 1;
  if (base == SQLITE_ERROR) {
    if (generic_message(rc, msg))
      note(r, 1, "q%d %s: SQLITE_ERROR without a message (%s): %s\n", qi, what, msg ? msg : "NULL",
           queries[qi].sql);
    else if (queries[qi].expect == OK && A.fired)
      note(r, strict, "q%d %s: OOM reported as SQLITE_ERROR: %s\n", qi, what, msg);
    return 1;
  }
  note(r, 1, "q%d %s: unexpected result %d (%s): %s\n", qi, what, rc, msg ? msg : "NULL", queries[qi].sql);
  return 1;
}

/* Run query qi: prepare, step every row, read every column. */
static void run_query(struct result *r, sqlite3 *db, int qi) {
  const struct query *q = &queries[qi];
  char sql[512];
  snprintf(sql, sizeof sql, q->sql, (int)getpid(), (int)getppid(), (int)container_pid);
  sqlite3_stmt *st = NULL;
  struct digest d = {0};
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  int final = rc;
  if (check_rc(r, db, qi, "prepare", rc) == 0 && st) {
    int nrows = 0;
    for (;;) {
      rc = sqlite3_step(st);
      final = rc;
      if (rc != SQLITE_ROW) {
        check_rc(r, db, qi, "step", rc);
        break;
      }
      nrows++;
      int ncol = sqlite3_column_count(st);
      for (int i = 0; i < ncol; i++) {
        const char *name = sqlite3_column_name(st, i);
        int t = sqlite3_column_type(st, i);
        char buf[64];
        const char *val = buf;
        size_t vn = 0;
        switch (t) {
        case SQLITE_INTEGER: snprintf(buf, sizeof buf, "%lld", sqlite3_column_int64(st, i)); break;
        case SQLITE_FLOAT: snprintf(buf, sizeof buf, "%.17g", sqlite3_column_double(st, i)); break;
        case SQLITE_TEXT: {
          const unsigned char *s = sqlite3_column_text(st, i);
          int n = sqlite3_column_bytes(st, i);
          if (!s) {
            /* a TEXT value is already text: no conversion, no allocation */
            note(r, 1, "q%d row %d: TEXT column %d gave NULL\n", qi, nrows, i);
            s = (const unsigned char *)"";
            n = 0;
          }
          val = (const char *)s;
          vn = (size_t)n;
          goto add;
        }
        case SQLITE_BLOB: {
          int n = sqlite3_column_bytes(st, i);
          const void *b = sqlite3_column_blob(st, i);
          snprintf(buf, sizeof buf, "blob:%d:%d", n, b != NULL);
          break;
        }
        default: snprintf(buf, sizeof buf, "NULL"); break;
        }
        vn = strlen(val);
      add:
        if (name && volatile_col(name)) continue;
        dg_add(&d, name ? name : "?", name ? strlen(name) : 1);
        dg_add(&d, "=", 1);
        dg_add(&d, val, vn);
        dg_add(&d, "|", 1);
      }
      dg_add(&d, "\n", 1);
    }
  }
  if (final == SQLITE_OK && st == NULL) {
    /* empty statement: cannot happen with this list */
    note(r, 1, "q%d: prepare gave no statement: %s\n", qi, sql);
  }
  /* the message of an expected error, for the digest */
  if ((final & 0xff) == SQLITE_ERROR) {
    const char *m = sqlite3_errmsg(db);
    dg_add(&d, "error: ", 7);
    dg_add(&d, m, strlen(m));
  }
  sqlite3_finalize(st);

  if (!ref->have_ref) {
    /* the run without failures: record, and check the expectation */
    ref->ref_rc[qi] = final;
    snprintf(ref->ref_digest[qi], DIGEST_MAX, "%s", d.p ? d.p : "");
    if (q->expect == OK && final != SQLITE_DONE)
      note(r, 1, "q%d without failures: %d (%s): %s\n", qi, final, sqlite3_errmsg(db), sql);
    if (q->expect == ERR && final != SQLITE_ERROR)
      note(r, 1, "q%d without failures: expected SQLITE_ERROR, got %d: %s\n", qi, final, sql);
  } else if (q->stable && A.fired && final == ref->ref_rc[qi] &&
             strcmp(d.p ? d.p : "", ref->ref_digest[qi]) != 0) {
    /* completed as without failures, but with other values */
    const char *a = ref->ref_digest[qi], *b = d.p ? d.p : "";
    size_t k = 0;
    while (a[k] && a[k] == b[k]) k++;
    size_t from = k > 60 ? k - 60 : 0;
    note(r, strict, "q%d: completed under OOM with other values: at ...%.100s\n    expected ...%.100s\n", qi, b + from,
         a + from);
  } else if (q->expect == ERR && (final & 0xff) != SQLITE_ERROR && (final & 0xff) != SQLITE_NOMEM) {
    note(r, 1, "q%d: expected an error, got %d: %s\n", qi, final, sql);
  }
  free(d.p);
}

/* One iteration: open, load, run every query, close, check. */
static void iteration(struct result *r) {
  int fds = count_fds();
  long long live = A.live;
  sqlite3 *db = NULL;
  A.armed = 1;
  int rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_enable_load_extension(db, 1);
  char *err = NULL;
  if (rc == SQLITE_OK) {
    long long c0 = A.count;
    rc = sqlite3_load_extension(db, ext_path, NULL, &err);
    if (verbose && !ref->have_ref) printf("  open+load: %lld, %lld allocations\n", c0, A.count - c0);
    if (rc != SQLITE_OK && rc != SQLITE_NOMEM) {
      if (!A.fired) note(r, 1, "load_extension: %d: %s\n", rc, err ? err : "(no message)");
      else if (!err && rc != SQLITE_ERROR) note(r, 1, "load_extension: %d without a message\n", rc);
      /* dlopen's message under OOM can be anything: not checked further */
    }
    sqlite3_free(err);
  } else if (rc != SQLITE_NOMEM) {
    note(r, 1, "open: unexpected %d\n", rc);
  }
  if (rc == SQLITE_OK) {
    for (int qi = 0; qi < NQ; qi++) {
      if (queries[qi].container && container_pid <= 0) continue;
      long long c0 = A.count;
      run_query(r, db, qi);
      if (verbose && !ref->have_ref) printf("  q%d: %lld allocations\n", qi, A.count - c0);
    }
  }
  rc = sqlite3_close(db);
  A.armed = 0;
  if (rc != SQLITE_OK) note(r, 1, "sqlite3_close: %d\n", rc);
  if (A.live != live) note(r, 1, "leak: %lld allocations live after sqlite3_close\n", A.live - live);
  int fds_after = count_fds();
  if (fds_after != fds) note(r, 1, "fd leak: %d fds open before, %d after\n", fds, fds_after);
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */

enum { CHILD_FIRED = 0, CHILD_FIRED_FAIL = 1, CHILD_DONE = 2, CHILD_DONE_FAIL = 3 };

struct shared_msg {
  long long count;
  int warned;
  char msg[8192];
};
static struct shared_msg *cm;

/* Run iteration N in a child. Returns the child's code or -signal. */
static int run_child(long long n, int persist) {
  fflush(stdout);
  pid_t p = fork();
  if (p < 0) {
    perror("fork");
    exit(2);
  }
  if (p == 0) {
    alarm(30);
    A.fail_at = n, A.persist = persist, A.count = 0, A.fired = 0;
    struct result r = {0};
    iteration(&r);
    cm->count = A.count;
    cm->warned = r.warned;
    snprintf(cm->msg, sizeof cm->msg, "%s", r.msg);
    _exit(A.fired ? (r.failed ? CHILD_FIRED_FAIL : CHILD_FIRED) : (r.failed ? CHILD_DONE_FAIL : CHILD_DONE));
  }
  int status;
  while (waitpid(p, &status, 0) < 0)
    if (errno != EINTR) {
      perror("waitpid");
      exit(2);
    }
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return WEXITSTATUS(status);
}

static void print_indented(const char *prefix, const char *msg) {
  const char *p = msg;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t k = nl ? (size_t)(nl - p) : strlen(p);
    printf("%s%.*s\n", prefix, (int)k, p);
    p += k + (nl ? 1 : 0);
  }
}

static const char *mode_name(int persist) { return persist ? "persist" : "once"; }

/* N = from .. until an iteration no longer reaches N. Returns failures. */
static int loop(int persist, long long from, long long to, int *warnings) {
  int failures = 0;
  long long n;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (n = from; to <= 0 || n <= to; n++) {
    memset(cm, 0, sizeof *cm);
    int code = run_child(n, persist);
    if (code < 0) {
      printf("FAIL %s N=%lld: killed by signal %d (%s)\n", mode_name(persist), n, -code, strsignal(-code));
      failures++;
      continue;
    }
    if (code == CHILD_FIRED_FAIL || code == CHILD_DONE_FAIL) {
      printf("FAIL %s N=%lld:\n", mode_name(persist), n);
      print_indented("  ", cm->msg);
      failures++;
    } else if (cm->warned) {
      printf("WARN %s N=%lld:\n", mode_name(persist), n);
      print_indented("  ", cm->msg);
      *warnings += cm->warned;
    } else if (verbose) {
      printf("ok %s N=%lld\n", mode_name(persist), n);
    }
    if (code == CHILD_DONE || code == CHILD_DONE_FAIL) break;
    if (code > CHILD_DONE_FAIL) {
      printf("FAIL %s N=%lld: child exited %d\n", mode_name(persist), n, code);
      failures++;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%s: N=%lld..%lld (%lld allocations in a full iteration), %d failed, %.1f s\n", mode_name(persist), from,
         n, cm->count, failures, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  return failures;
}

static void usage(void) {
  fprintf(stderr,
          "usage: oom [--mode=once|persist|both] [--no-fail] [--from=N] [--to=N] [--strict] [-v] EXT.so "
          "[CONTAINER_PID]\n");
  exit(2);
}

int main(int argc, char **argv) {
  int once = 1, persist = 1, nofail = 0;
  long long from = 1, to = 0;
  int ai = 1;
  for (; ai < argc && argv[ai][0] == '-'; ai++) {
    const char *a = argv[ai];
    if (strcmp(a, "--mode=once") == 0) persist = 0;
    else if (strcmp(a, "--mode=persist") == 0) once = 0;
    else if (strcmp(a, "--mode=both") == 0) once = persist = 1;
    else if (strcmp(a, "--no-fail") == 0) nofail = 1;
    else if (strncmp(a, "--from=", 7) == 0) from = atoll(a + 7);
    else if (strncmp(a, "--to=", 5) == 0) to = atoll(a + 5);
    else if (strcmp(a, "--strict") == 0) strict = 1;
    else if (strcmp(a, "-v") == 0) verbose = 1;
    else usage();
  }
  if (ai >= argc || argc - ai > 2) usage();
  ext_path = argv[ai];
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
  ref = mmap(NULL, sizeof *ref, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  cm = mmap(NULL, sizeof *cm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (ref == MAP_FAILED || cm == MAP_FAILED) {
    perror("mmap");
    return 2;
  }

  int failures = 0, warnings = 0;
  if (nofail) {
    /* One plain iteration in this process (valgrind follows it). */
    struct result r = {0};
    iteration(&r);
    if (r.len) print_indented("", r.msg);
    sqlite3_shutdown();
    if (A.live != 0) printf("FAIL no-fail: %lld allocations live after sqlite3_shutdown\n", A.live), r.failed++;
    printf("no-fail: %lld allocations, %d failed\n", A.count, r.failed);
    munmap(ref, sizeof *ref);
    munmap(cm, sizeof *cm);
    return r.failed ? 1 : 0;
  }

  /* The run without failures, in a child as every other (same parent pid
     for the self-join, same one-time initializations left undone): it
     records the reference results. Run twice, so a first-time effect
     (NSS, a cache) shows as a difference here, not as a failure later. */
  for (int k = 0; k < 2; k++) {
    memset(cm, 0, sizeof *cm);
    ref->have_ref = 0;
    int code = run_child(0, 0);
    if (code != CHILD_DONE) {
      printf("FAIL reference run (no failures): %s\n", code < 0 ? strsignal(-code) : "");
      print_indented("  ", cm->msg);
      return 1;
    }
    ref->have_ref = 1;
  }
  printf("reference: %lld allocations per iteration, %d queries%s\n", cm->count, NQ,
         container_pid > 0 ? "" : " (no container pid: container queries skipped)");

  if (once) failures += loop(0, from, to, &warnings);
  if (persist) failures += loop(1, from, to, &warnings);

  sqlite3_shutdown();
  if (A.live != 0) {
    printf("FAIL: %lld allocations live after sqlite3_shutdown\n", A.live);
    failures++;
  }
  printf("oom: %d failed, %d warnings%s\n", failures, warnings, strict ? " (strict)" : "");
  return failures || (strict && warnings) ? 1 : 0;
}
