/*
** sigstorm: does a signal handler of the host program ever run on a thread
** that sqlite-ps started? For tests/test_trust.py.
**
**   build/helpers/sigstorm EXT X SECONDS [--control]
**
** Loads libsqlite3 at run time (dlopen: the helpers are linked without
** -lsqlite3) and the extension EXT (".../build/ps"). A SIGUSR1 handler
** (SA_RESTART) records the thread it runs on (gettid), whether the signal
** was sent to the process or to that thread (si_code), and the thread's
** mount namespace (readlink /proc/thread-self/ns/mnt, async-signal-safe).
** The program's own threads are: main, the query worker and the signal
** sender. Main and the sender block SIGUSR1, so a process-directed SIGUSR1
** goes to the worker or to a thread the extension made (a thread created
** by the worker inherits the worker's mask, SIGUSR1 unblocked, unless the
** extension blocks signals there itself).
**
** For SECONDS the worker runs SELECT count(*), count(user) FROM ps(X) in a
** loop (one connection, one prepared statement; user, so that every query
** borrows names from the container and so starts a helper) while the sender, as fast as it can,
** calls kill(getpid(), SIGUSR1) and then tgkill()s SIGUSR1 to every thread
** in /proc/self/task that is none of ours (as programs that stop the world
** by signalling each thread do). Then it prints one line:
**
**   handlers=N foreign=N foreign_tkill=N mntns_other=N targeted=N queries=N
**   errors=N rows_min=N rows_max=N first_foreign=TID first_mntns=TEXT
**   first_error=TEXT
**
** handlers: handler runs; foreign: runs on a thread that is none of ours
** (foreign_tkill: of those, the ones sent to that thread); mntns_other:
** runs on a thread whose mount namespace was not main's (or could not be
** read); targeted: tgkill()s that reached a thread that is none of ours
** (how often the extension's threads were there to be hit);
** rows_min/max: the counts the queries returned (-1: a row without user).
**
** --control: also start a thread of our own that is not registered as
** known and leaves SIGUSR1 unblocked: foreign must then be > 0 (this shows
** that the check can see a foreign thread at all).
**
** Exit 0 when it ran (whatever it found), 1 on a setup error
** ("sigstorm: ..." on stderr).
*/
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NKNOWN 3

static pid_t known[NKNOWN]; /* main, worker, sender */
static char main_mnt[64];
static volatile long handlers, foreign, foreign_tkill, mntns_other, targeted;
static volatile pid_t first_foreign;
static char first_mntns[64] = "-";
static volatile int first_taken, stop, worker_ready;

static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }

static void on_usr1(int sig, siginfo_t *si, void *uc) {
  (void)sig, (void)uc;
  int saved = errno;
  pid_t me = tid();
  __atomic_add_fetch(&handlers, 1, __ATOMIC_RELAXED);
  int mine = 0;
  for (int i = 0; i < NKNOWN; i++)
    if (known[i] == me) mine = 1;
  char mnt[64];
  ssize_t n = readlink("/proc/thread-self/ns/mnt", mnt, sizeof mnt - 1);
  mnt[n > 0 ? n : 0] = 0;
  int other = n <= 0 || strcmp(mnt, main_mnt) != 0;
  if (!mine) __atomic_add_fetch(&foreign, 1, __ATOMIC_RELAXED);
  if (!mine && si->si_code == SI_TKILL) __atomic_add_fetch(&foreign_tkill, 1, __ATOMIC_RELAXED);
  if (other) __atomic_add_fetch(&mntns_other, 1, __ATOMIC_RELAXED);
  if ((!mine || other) && !__atomic_exchange_n(&first_taken, 1, __ATOMIC_SEQ_CST)) {
    first_foreign = mine ? 0 : me;
    memcpy(first_mntns, n > 0 ? mnt : "unreadable", n > 0 ? (size_t)n + 1 : 11);
  }
  errno = saved;
}

/* libsqlite3, loaded at run time */
static struct {
  typeof(sqlite3_open) *open;
  typeof(sqlite3_enable_load_extension) *enable_load_extension;
  typeof(sqlite3_load_extension) *load_extension;
  typeof(sqlite3_prepare_v2) *prepare_v2;
  typeof(sqlite3_bind_int64) *bind_int64;
  typeof(sqlite3_step) *step;
  typeof(sqlite3_column_int64) *column_int64;
  typeof(sqlite3_reset) *reset;
  typeof(sqlite3_finalize) *finalize;
  typeof(sqlite3_close) *close;
  typeof(sqlite3_errmsg) *errmsg;
} sq;

static void load_sqlite(void) {
  void *h = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_GLOBAL);
  if (!h) {
    fprintf(stderr, "sigstorm: dlopen libsqlite3.so.0: %s\n", dlerror());
    exit(1);
  }
#define SYM(f)                                                      \
  if (!(*(void **)&sq.f = dlsym(h, "sqlite3_" #f))) {               \
    fprintf(stderr, "sigstorm: dlsym sqlite3_%s: %s\n", #f, dlerror()); \
    exit(1);                                                        \
  }
  SYM(open) SYM(enable_load_extension) SYM(load_extension) SYM(prepare_v2) SYM(bind_int64) SYM(step)
  SYM(column_int64) SYM(reset) SYM(finalize) SYM(close) SYM(errmsg)
#undef SYM
}

static const char *ext;
static long long target;
static long queries, errors, rows_min = 1L << 30, rows_max = -2;
static char first_error[256] = "-";

static void *worker(void *arg) {
  (void)arg;
  known[1] = tid();
  sqlite3 *db;
  sqlite3_stmt *st;
  char *err = NULL;
  if (sq.open(":memory:", &db) != SQLITE_OK || sq.enable_load_extension(db, 1) != SQLITE_OK ||
      sq.load_extension(db, ext, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "sigstorm: load %s: %s\n", ext, err ? err : sq.errmsg(db));
    exit(1);
  }
  if (sq.prepare_v2(db, "SELECT count(*), count(user) FROM ps(?)", -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "sigstorm: prepare: %s\n", sq.errmsg(db));
    exit(1);
  }
  __atomic_store_n(&worker_ready, 1, __ATOMIC_SEQ_CST);
  while (!__atomic_load_n(&stop, __ATOMIC_SEQ_CST)) {
    sq.bind_int64(st, 1, target);
    int rc = sq.step(st);
    if (rc == SQLITE_ROW) {
      long n = (long)sq.column_int64(st, 0);
      if (sq.column_int64(st, 1) != n) n = -1; /* a NULL user: count it as wrong */
      if (n < rows_min) rows_min = n;
      if (n > rows_max) rows_max = n;
      queries++;
    } else {
      if (errors++ == 0) snprintf(first_error, sizeof first_error, "%d %s", rc, sq.errmsg(db));
    }
    sq.reset(st);
  }
  sq.finalize(st);
  sq.close(db);
  return NULL;
}

static double seconds;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int is_known(pid_t t) {
  for (int i = 0; i < NKNOWN; i++)
    if (known[i] == t) return 1;
  return 0;
}

static void *sender(void *arg) {
  (void)arg;
  known[2] = tid();
  DIR *d = opendir("/proc/self/task");
  if (!d) {
    perror("sigstorm: opendir /proc/self/task");
    exit(1);
  }
  pid_t me = getpid();
  double end = now() + seconds;
  while (now() < end) {
    for (int i = 0; i < 16; i++) kill(me, SIGUSR1);
    rewinddir(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      pid_t t = (pid_t)atoi(de->d_name);
      if (t > 0 && !is_known(t) && syscall(SYS_tgkill, me, t, SIGUSR1) == 0) targeted++;
    }
  }
  closedir(d);
  __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

/* --control: a thread of ours that is not known and takes signals. */
static void *stranger(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&stop, __ATOMIC_SEQ_CST)) usleep(1000);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "--control"))) {
    fprintf(stderr, "usage: sigstorm EXT X SECONDS [--control]\n");
    return 2;
  }
  ext = argv[1];
  target = atoll(argv[2]);
  seconds = atof(argv[3]);
  known[0] = tid();
  ssize_t n = readlink("/proc/thread-self/ns/mnt", main_mnt, sizeof main_mnt - 1);
  if (n <= 0) {
    perror("sigstorm: readlink /proc/thread-self/ns/mnt");
    return 1;
  }
  main_mnt[n] = 0;
  load_sqlite();

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_RESTART | SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR1, &sa, NULL) < 0) {
    perror("sigstorm: sigaction");
    return 1;
  }
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);

  pthread_t w, s, x;
  if (pthread_create(&w, NULL, worker, NULL)) return 1; /* SIGUSR1 unblocked */
  if (argc == 5 && pthread_create(&x, NULL, stranger, NULL)) return 1;
  while (!__atomic_load_n(&worker_ready, __ATOMIC_SEQ_CST)) usleep(1000);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* main and (inherited) the sender */
  if (pthread_create(&s, NULL, sender, NULL)) return 1;
  pthread_join(s, NULL);
  pthread_join(w, NULL);
  if (argc == 5) pthread_join(x, NULL);
  /* Signals still pending on the process stay blocked: none runs now. */
  printf("handlers=%ld foreign=%ld foreign_tkill=%ld mntns_other=%ld targeted=%ld queries=%ld errors=%ld "
         "rows_min=%ld rows_max=%ld first_foreign=%d first_mntns=%s first_error=%s\n",
         handlers, foreign, foreign_tkill, mntns_other, targeted, queries, errors, rows_min, rows_max,
         (int)first_foreign, first_mntns, first_error);
  return 0;
}
