/*
** sigstorm: does a signal handler of the host program ever run in a helper
** process that sqlite-ps started, or on a thread that it started? For
** tests/test_trust.py.
**
**   build/helpers/sigstorm EXT X SECONDS [--control] [--control-proc]
**
** Loads libsqlite3 at run time (dlopen: the helpers are linked without
** -lsqlite3) and the extension EXT (".../build/ps"). The extension reads a
** container's names in a helper process: a copy of the caller, made by a
** clone without CLONE_VM, that must start with every signal blocked (and,
** where the kernel can, its handlers reset), so that no handler of the host
** program ever runs in it and SIGUSR1's default action never ends it.
**
** A SIGUSR1 handler (SA_RESTART) counts its runs in a page mapped
** MAP_SHARED | MAP_ANONYMOUS before the extension is loaded: a copy made by
** clone or fork shares that page, so a handler that runs in a helper counts
** where this program sees it. The handler asks the kernel for its pid
** (SYS_getpid, not a cached value): another pid than the program's is a
** run in another process (in_helper), and the handler records nothing
** else. In the program's own process it records the thread it runs on
** (gettid), whether the signal was sent to the process or to that thread
** (si_code), and the thread's mount namespace (readlink
** /proc/thread-self/ns/mnt, async-signal-safe). The program's own threads
** are: main, the query worker and the signal sender. Main and the sender
** block SIGUSR1, so a process-directed SIGUSR1 goes to the worker or to a
** thread the extension made (a thread created by the worker inherits the
** worker's mask, SIGUSR1 unblocked, unless the extension blocks signals
** there itself).
**
** For SECONDS the worker runs SELECT count(*), count(*) FILTER (WHERE user
** <> CAST(uid AS TEXT)) FROM ps(X) in a loop (one connection, one prepared
** statement, ps_deadline(10) so that a slow machine does not miss it; user,
** so that every query borrows names from the container and so starts a
** helper: a name the container did not lend is the uid's digits, never
** NULL) while the sender, as fast as it can, calls kill(getpid(), SIGUSR1),
** then for each thread in /proc/self/task: tgkill()s SIGUSR1 to it if it
** is none of ours (as programs that stop the world by signalling each
** thread do), and kill()s SIGUSR1 to every pid in its
** /proc/self/task/TID/children (the child processes that thread started:
** the extension's helpers, as this program starts none but
** --control-proc's). Then it prints one line:
**
**   handlers=N foreign=N foreign_tkill=N mntns_other=N in_helper=N
**   targeted=N targeted_procs=N queries=N errors=N unnamed=N rows_min=N
**   rows_max=N first_foreign=TID first_helper=PID first_mntns=TEXT
**   first_error=TEXT
**
** handlers: handler runs in the program's own process; foreign: of those,
** runs on a thread that is none of ours (foreign_tkill: of those, the ones
** sent to that thread); mntns_other: runs in the program's process on a
** thread whose mount namespace was not main's (or could not be read);
** in_helper: handler runs in another process (first_helper: the first such
** pid); targeted: tgkill()s that reached a thread that is none of ours (how
** often the extension's threads were there to be hit); targeted_procs:
** kill()s that reached a child process (how often the extension's helpers
** were there to be hit; a helper that has exited but is not yet reaped
** counts too); unnamed: queries in which some row's user was not a name
** (the container lent none: its helper failed, or was killed);
** rows_min/max: the row counts the queries returned.
**
** --control: also start a thread of our own that is not registered as
** known and leaves SIGUSR1 unblocked: foreign must then be > 0 (this shows
** that the check can see a foreign thread at all).
**
** --control-proc: also fork() a child of our own (before the extension is
** loaded) that keeps the handler and SIGUSR1 unblocked and sleeps until the
** storm ends; it is listed in /proc/self/task/TID/children as a helper is:
** in_helper must then be > 0 (this shows that the check can see a handler
** run in another process at all).
**
** Exit 0 when it ran (whatever it found), 1 on a setup error
** ("sigstorm: ..." on stderr).
*/
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NKNOWN 3

static pid_t known[NKNOWN]; /* main, worker, sender */
static pid_t self;          /* the program's pid */
static char main_mnt[64];

/*
** What the handler writes, and the flag that ends the storm: in a page
** shared with every copy of this process (helpers, --control-proc's
** child). A copy's private memory would keep its counts to itself.
*/
struct shared {
  long handlers, foreign, foreign_tkill, mntns_other, in_helper;
  pid_t first_foreign, first_helper;
  int first_taken, first_helper_taken, stop;
  char first_mntns[64];
};
static struct shared *sh;

static volatile int worker_ready;
static long targeted, targeted_procs;

static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }

static void on_usr1(int sig, siginfo_t *si, void *uc) {
  (void)sig, (void)uc;
  int saved = errno;
  if ((pid_t)syscall(SYS_getpid) != self) {
    /* A handler of ours in another process: a helper (or --control-proc) */
    __atomic_add_fetch(&sh->in_helper, 1, __ATOMIC_RELAXED);
    if (!__atomic_exchange_n(&sh->first_helper_taken, 1, __ATOMIC_SEQ_CST))
      sh->first_helper = (pid_t)syscall(SYS_getpid);
    errno = saved;
    return;
  }
  pid_t me = tid();
  __atomic_add_fetch(&sh->handlers, 1, __ATOMIC_RELAXED);
  int mine = 0;
  for (int i = 0; i < NKNOWN; i++)
    if (known[i] == me) mine = 1;
  char mnt[64];
  ssize_t n = readlink("/proc/thread-self/ns/mnt", mnt, sizeof mnt - 1);
  mnt[n > 0 ? n : 0] = 0;
  int other = n <= 0 || strcmp(mnt, main_mnt) != 0;
  if (!mine) __atomic_add_fetch(&sh->foreign, 1, __ATOMIC_RELAXED);
  if (!mine && si->si_code == SI_TKILL) __atomic_add_fetch(&sh->foreign_tkill, 1, __ATOMIC_RELAXED);
  if (other) __atomic_add_fetch(&sh->mntns_other, 1, __ATOMIC_RELAXED);
  if ((!mine || other) && !__atomic_exchange_n(&sh->first_taken, 1, __ATOMIC_SEQ_CST)) {
    sh->first_foreign = mine ? 0 : me;
    memcpy(sh->first_mntns, n > 0 ? mnt : "unreadable", n > 0 ? (size_t)n + 1 : 11);
  }
  errno = saved;
}

/* libsqlite3, loaded at run time */
static struct {
  typeof(sqlite3_open) *open;
  typeof(sqlite3_enable_load_extension) *enable_load_extension;
  typeof(sqlite3_load_extension) *load_extension;
  typeof(sqlite3_exec) *exec;
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
  SYM(open) SYM(enable_load_extension) SYM(load_extension) SYM(exec) SYM(prepare_v2) SYM(bind_int64) SYM(step)
  SYM(column_int64) SYM(reset) SYM(finalize) SYM(close) SYM(errmsg)
#undef SYM
}

static const char *ext;
static long long target;
static long queries, errors, unnamed, rows_min = 1L << 30, rows_max = -2;
static char first_error[256] = "-";

static int stopped(void) { return __atomic_load_n(&sh->stop, __ATOMIC_SEQ_CST); }

static void *worker(void *arg) {
  (void)arg;
  known[1] = tid();
  sqlite3 *db;
  sqlite3_stmt *st;
  char *err = NULL;
  if (sq.open(":memory:", &db) != SQLITE_OK || sq.enable_load_extension(db, 1) != SQLITE_OK ||
      sq.load_extension(db, ext, NULL, &err) != SQLITE_OK ||
      sq.exec(db, "SELECT ps_deadline(10)", NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "sigstorm: load %s: %s\n", ext, err ? err : sq.errmsg(db));
    exit(1);
  }
  const char *sql = "SELECT count(*), count(*) FILTER (WHERE user <> CAST(uid AS TEXT)) FROM ps(?)";
  if (sq.prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "sigstorm: prepare: %s\n", sq.errmsg(db));
    exit(1);
  }
  __atomic_store_n(&worker_ready, 1, __ATOMIC_SEQ_CST);
  while (!stopped()) {
    sq.bind_int64(st, 1, target);
    int rc = sq.step(st);
    if (rc == SQLITE_ROW) {
      long n = (long)sq.column_int64(st, 0);
      if (sq.column_int64(st, 1) != n) unnamed++;
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

/*
** SIGUSR1 to every child process that thread t (a name in /proc/self/task)
** started, as /proc/self/task/t/children lists them. A pid read there and
** reaped before kill() could only be reused by another process after pid
** allocation has wrapped around pid_max: not within this loop.
*/
static void kill_children(DIR *tasks, const char *t) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "%s/children", t);
  int fd = openat(dirfd(tasks), path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return; /* the thread is gone */
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = 0;
  char *p = buf, *e;
  for (long pid; (pid = strtol(p, &e, 10)), e != p; p = e)
    if (pid > 0 && kill((pid_t)pid, SIGUSR1) == 0) targeted_procs++;
}

static void *sender(void *arg) {
  (void)arg;
  known[2] = tid();
  DIR *d = opendir("/proc/self/task");
  if (!d) {
    perror("sigstorm: opendir /proc/self/task");
    exit(1);
  }
  double end = now() + seconds;
  while (now() < end) {
    for (int i = 0; i < 16; i++) kill(self, SIGUSR1);
    rewinddir(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      pid_t t = (pid_t)atoi(de->d_name);
      if (t <= 0) continue;
      if (!is_known(t) && syscall(SYS_tgkill, self, t, SIGUSR1) == 0) targeted++;
      kill_children(d, de->d_name);
    }
  }
  closedir(d);
  __atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

/* --control: a thread of ours that is not known and takes signals. */
static void *stranger(void *arg) {
  (void)arg;
  while (!stopped()) usleep(1000);
  return NULL;
}

/* --control-proc: a child of ours that keeps the handler, takes signals, and sleeps until the storm ends. */
static pid_t start_child(void) {
  pid_t pid = fork();
  if (pid < 0) {
    perror("sigstorm: fork");
    exit(1);
  }
  if (pid > 0) return pid;
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  while (!stopped()) usleep(1000);
  _exit(0);
}

int main(int argc, char **argv) {
  int control = 0, control_proc = 0;
  for (int i = 4; i < argc; i++) {
    if (!strcmp(argv[i], "--control"))
      control = 1;
    else if (!strcmp(argv[i], "--control-proc"))
      control_proc = 1;
    else
      argc = 0;
  }
  if (argc < 4) {
    fprintf(stderr, "usage: sigstorm EXT X SECONDS [--control] [--control-proc]\n");
    return 2;
  }
  ext = argv[1];
  target = atoll(argv[2]);
  seconds = atof(argv[3]);
  self = (pid_t)syscall(SYS_getpid);
  known[0] = tid();
  ssize_t n = readlink("/proc/thread-self/ns/mnt", main_mnt, sizeof main_mnt - 1);
  if (n <= 0) {
    perror("sigstorm: readlink /proc/thread-self/ns/mnt");
    return 1;
  }
  main_mnt[n] = 0;
  /* Before the extension is loaded, so that every helper shares it */
  sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) {
    perror("sigstorm: mmap");
    return 1;
  }
  strcpy(sh->first_mntns, "-");
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

  pid_t child = control_proc ? start_child() : 0; /* single-threaded still: SIGUSR1 unblocked */
  pthread_t w, s, x;
  if (pthread_create(&w, NULL, worker, NULL)) return 1; /* SIGUSR1 unblocked */
  if (control && pthread_create(&x, NULL, stranger, NULL)) return 1;
  while (!__atomic_load_n(&worker_ready, __ATOMIC_SEQ_CST)) usleep(1000);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* main and (inherited) the sender */
  if (pthread_create(&s, NULL, sender, NULL)) return 1;
  pthread_join(s, NULL);
  pthread_join(w, NULL);
  if (control) pthread_join(x, NULL);
  if (child) waitpid(child, NULL, 0);
  /* Signals still pending on the process stay blocked: none runs now. */
  printf("handlers=%ld foreign=%ld foreign_tkill=%ld mntns_other=%ld in_helper=%ld targeted=%ld "
         "targeted_procs=%ld queries=%ld errors=%ld unnamed=%ld rows_min=%ld rows_max=%ld first_foreign=%d "
         "first_helper=%d first_mntns=%s first_error=%s\n",
         sh->handlers, sh->foreign, sh->foreign_tkill, sh->mntns_other, sh->in_helper, targeted, targeted_procs,
         queries, errors, unnamed, rows_min, rows_max, (int)sh->first_foreign, (int)sh->first_helper, sh->first_mntns,
         first_error);
  return 0;
}
