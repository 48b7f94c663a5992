/*
** qtime: time SQL queries (and floor passes) inside one process, so the
** sqlite3 shell's start-up is not in the numbers.
**
**   qtime [-n RUNS] [-w WARMUP] [-e EXTENSION] [-s SETUP] [-b MIB] CASE...
**
** -b MIB: before anything else, allocate MIB MiB and write every page, so
** that the process has that much more resident memory, in 4 KiB pages, as
** a big host program has (what copying a process costs grows with it).
** -s SETUP: SQL run (sqlite3_exec, untimed) on every connection right after
** the extension is loaded, e.g. to fill a TEMP table that a case joins.
**
** CASE
**   sql:SELECT ...           prepare, step every row, fetch every column
**                            (sqlite3_column_int64/double/text/blob by
**                            type), finalize; on one connection that has
**                            loaded EXTENSION (default build/ps) once
**   sql@PATH:SELECT ...      the same on a connection that loaded PATH
**                            instead (one connection per PATH, shared by
**                            its cases): two builds of the extension timed
**                            round-robin in one process.  Each PATH is
**                            another file named ps.so (dlopen keeps one copy
**                            per file; SQLite finds sqlite3_ps_init by the
**                            name), e.g. build/bench/old/ps
**   fresh:SELECT ...         the same, on a new connection per run
**                            (open :memory:, load the extension, query,
**                            close): per-connection set-up included
**   floor:MODE[@PROCDIR]     one floor pass (see floor.c): stat, ps-ef,
**                            pid=X, threads, read:ITEMS, dir:ITEMS
**
** The cases run round-robin (case 1, case 2, ..., case 1, ...) so drift
** in the machine's load hits them all alike.  WARMUP rounds (default 2)
** are not timed.  For each case one line, tab separated:
**   median_ms  min_ms  rows  CASE
** or, when the case failed (it is then dropped from later rounds):
**   ERROR  message  CASE
** Exit status: 0 when every case ran, 1 otherwise.
*/
#include "floor.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum kind { K_SQL, K_FRESH, K_FLOOR };

#define QTIME_MAXEXT 8 /* extensions (sql@PATH:) in one run */

struct qcase {
  const char *arg;
  enum kind kind;
  const char *sql;
  int conn; /* K_SQL: index into the connections */
  struct floor_mode fm;
  char procdir[4096];
  double *t;
  long rows;
  char err[512];
};

static const char *ext = "build/ps";
static const char *setup; /* -s: SQL run on each connection after the load */
static volatile unsigned long long sink;

static int open_db(sqlite3 **db, const char *path, char *err, size_t errlen) {
  if (sqlite3_open(":memory:", db) != SQLITE_OK) {
    snprintf(err, errlen, "open: %s", sqlite3_errmsg(*db));
    return -1;
  }
  sqlite3_db_config(*db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, NULL);
  char *msg = NULL;
  if (sqlite3_load_extension(*db, path, NULL, &msg) != SQLITE_OK) {
    snprintf(err, errlen, "load %s: %s", path, msg ? msg : sqlite3_errmsg(*db));
    sqlite3_free(msg);
    return -1;
  }
  if (setup && sqlite3_exec(*db, setup, NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(err, errlen, "setup: %s", msg ? msg : sqlite3_errmsg(*db));
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

/* Run sql to the end, touching every value; rows or -1 (err set). */
static long run_sql(sqlite3 *db, const char *sql, char *err, size_t errlen) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    return -1;
  }
  int ncol = sqlite3_column_count(st), rc;
  long rows = 0;
  unsigned long long acc = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    rows++;
    for (int i = 0; i < ncol; i++) {
      switch (sqlite3_column_type(st, i)) {
      case SQLITE_INTEGER: acc += (unsigned long long)sqlite3_column_int64(st, i); break;
      case SQLITE_FLOAT: acc += (unsigned long long)sqlite3_column_double(st, i); break;
      case SQLITE_TEXT:
        acc += sqlite3_column_text(st, i)[0];
        acc += (unsigned)sqlite3_column_bytes(st, i);
        break;
      case SQLITE_BLOB:
        sqlite3_column_blob(st, i);
        acc += (unsigned)sqlite3_column_bytes(st, i);
        break;
      default: break;
      }
    }
  }
  if (rc != SQLITE_DONE) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);
  sink += acc;
  return rows;
}

static void usage(void) {
  fprintf(stderr, "usage: qtime [-n RUNS] [-w WARMUP] [-e EXTENSION] [-s SETUP] [-b MIB] "
                  "sql:SQL|sql@PATH:SQL|fresh:SQL|floor:MODE[@PROCDIR]...\n");
  exit(2);
}

int main(int argc, char **argv) {
  int runs = 15, warm = 2, c;
  long ballast = 0;
  while ((c = getopt(argc, argv, "n:w:e:s:b:")) != -1) {
    switch (c) {
    case 'n': runs = atoi(optarg); break;
    case 'w': warm = atoi(optarg); break;
    case 'e': ext = optarg; break;
    case 's': setup = optarg; break;
    case 'b': ballast = atol(optarg); break;
    default: usage();
    }
  }
  if (ballast < 0) usage();
  if (ballast > 0) {
    /* in 4 KiB pages, as a heap of many small allocations is: a huge
       page would copy as one page-table entry */
    size_t n = (size_t)ballast << 20;
    char *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      fprintf(stderr, "qtime: -b %ld: %s\n", ballast, strerror(errno));
      return 2;
    }
    (void)madvise(m, n, MADV_NOHUGEPAGE);
    for (size_t i = 0; i < n; i += 4096) m[i] = (char)(i >> 12 | 1); /* resident, and not a zero page */
    sink += (unsigned long long)m[n / 2]; /* never freed: it stays resident */
  }
  int ncase = argc - optind;
  if (ncase <= 0 || runs <= 0) usage();
  struct qcase *cs = calloc((size_t)ncase, sizeof *cs);
  /* connection 0 loads ext (-e), the others a sql@PATH: each */
  const char *paths[QTIME_MAXEXT] = {ext};
  size_t plen[QTIME_MAXEXT] = {strlen(ext)};
  int npath = 1;
  for (int i = 0; i < ncase; i++) {
    struct qcase *q = &cs[i];
    q->arg = argv[optind + i];
    q->t = calloc((size_t)runs, sizeof *q->t);
    if (strncmp(q->arg, "sql:", 4) == 0) {
      q->kind = K_SQL;
      q->sql = q->arg + 4;
    } else if (strncmp(q->arg, "sql@", 4) == 0) {
      const char *path = q->arg + 4, *colon = strchr(path, ':');
      if (!colon || colon == path) usage();
      size_t len = (size_t)(colon - path);
      q->kind = K_SQL;
      q->sql = colon + 1;
      for (q->conn = 0; q->conn < npath; q->conn++)
        if (plen[q->conn] == len && memcmp(paths[q->conn], path, len) == 0) break;
      if (q->conn == npath) {
        if (npath == QTIME_MAXEXT) usage();
        paths[npath] = strndup(path, len);
        plen[npath++] = len;
      }
    } else if (strncmp(q->arg, "fresh:", 6) == 0) {
      q->kind = K_FRESH;
      q->sql = q->arg + 6;
    } else if (strncmp(q->arg, "floor:", 6) == 0) {
      q->kind = K_FLOOR;
      char mode[256];
      snprintf(mode, sizeof mode, "%s", q->arg + 6);
      char *at = strchr(mode, '@');
      const char *proc = NULL;
      if (at) {
        *at = 0;
        snprintf(q->procdir, sizeof q->procdir, "%s", strchr(q->arg, '@') + 1);
        proc = q->procdir;
      }
      if (floor_parse(mode, proc, &q->fm) < 0) usage();
    } else {
      usage();
    }
  }

  /* one connection per extension that a sql case uses, opened up front */
  sqlite3 *dbs[QTIME_MAXEXT] = {NULL};
  for (int k = 0; k < npath; k++) {
    int used = 0;
    for (int i = 0; i < ncase; i++) used |= cs[i].kind == K_SQL && cs[i].conn == k;
    char dberr[512] = "";
    if (!used || open_db(&dbs[k], paths[k], dberr, sizeof dberr) == 0) continue;
    for (int i = 0; i < ncase; i++)
      if (cs[i].kind == K_SQL && cs[i].conn == k) snprintf(cs[i].err, sizeof cs[i].err, "%s", dberr);
  }

  for (int r = 0; r < warm + runs; r++) {
    for (int i = 0; i < ncase; i++) {
      struct qcase *q = &cs[i];
      if (q->err[0]) continue;
      double t0 = floor_now_ms();
      long rows;
      if (q->kind == K_SQL) {
        rows = run_sql(dbs[q->conn], q->sql, q->err, sizeof q->err);
      } else if (q->kind == K_FRESH) {
        sqlite3 *fdb = NULL;
        rows = open_db(&fdb, ext, q->err, sizeof q->err) < 0 ? -1 : run_sql(fdb, q->sql, q->err, sizeof q->err);
        sqlite3_close(fdb);
      } else {
        struct floor_result fr;
        int rc = floor_scan(&q->fm, &fr);
        if (rc < 0) {
          snprintf(q->err, sizeof q->err, "%s: %s", q->fm.proc, strerror(-rc));
          rows = -1;
        } else {
          rows = fr.procs;
          sink += (unsigned long long)fr.bytes;
        }
      }
      double dt = floor_now_ms() - t0;
      if (rows < 0) {
        if (!q->err[0]) snprintf(q->err, sizeof q->err, "failed");
        continue;
      }
      q->rows = rows;
      if (r >= warm) q->t[r - warm] = dt;
    }
  }

  int bad = 0;
  for (int i = 0; i < ncase; i++) {
    struct qcase *q = &cs[i];
    if (q->err[0]) {
      for (char *p = q->err; *p; p++)
        if (*p == '\t' || *p == '\n') *p = ' ';
      printf("ERROR\t%s\t%s\n", q->err, q->arg);
      bad = 1;
      continue;
    }
    double med = floor_median(q->t, runs);
    printf("%.4f\t%.4f\t%ld\t%s\n", med, q->t[0], q->rows, q->arg);
  }
  for (int k = 0; k < npath; k++)
    if (dbs[k]) sqlite3_close(dbs[k]);
  return bad;
}
