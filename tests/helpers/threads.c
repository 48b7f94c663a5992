/*
** threads: a test helper for tests/test_threads.py, a process whose threads
** have known names, ids and states, and that reports each thread's own CPU
** clock and context switches when asked.
**
**   threads [--leader-exit] MODE:NAME ...
**
** One thread per argument, named NAME with pthread_setname_np (at most 15
** bytes: a longer name is an error), doing MODE:
**
**   read     blocks in read() on a pipe of its own, woken only by commands
**   spin     spins on the CPU, looking for commands between rounds
**   sleep    blocks in the nanosleep system call, for ever
**   csleep   blocks in clock_nanosleep(CLOCK_MONOTONIC), for ever
**   churn    creates two short-lived threads and joins them, in a loop
**
** When every thread is named and running, one line:
**
**   ready pid=P main=T [ctl=C] tids=T1,T2,...
**
** P from getpid(), T, C and Ti from gettid() (thread i is argument i), as the
** helper's PID namespace sees them. Then commands on stdin, one a line, each
** answered by one line on stdout:
**
**   I t    "t SECONDS": the CPU clock of thread I (0: the main thread),
**          read by the control thread with pthread_getcpuclockid, which is
**          the clock the thread itself reads as CLOCK_THREAD_CPUTIME_ID;
**          the thread is not woken
**   I u    (read and spin threads) the thread itself answers
**          "u TID SECONDS NVCSW NIVCSW": its own CLOCK_THREAD_CPUTIME_ID
**          and getrusage(RUSAGE_THREAD) ru_nvcsw, ru_nivcsw
**
** The main thread reads the commands, blocked in read() on stdin, unless
** --leader-exit: then a thread named "ctl" reads them and the main thread
** calls pthread_exit() after the ready line (a zombie thread group leader
** while the others run). The helper exits when stdin closes. On a failure
** it prints "threads: ..." to stderr and exits 1 without a ready line.
*/
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 32

enum mode { M_READ, M_SPIN, M_SLEEP, M_CSLEEP, M_CHURN };

struct worker {
  enum mode mode;
  const char *name;
  pthread_t thread;
  int tid;
  int pipe[2]; /* commands to a read or spin thread */
  int pending; /* spin: a command waits in the pipe */
};

static struct worker workers[MAX_THREADS];
static int nworkers;
static pthread_t main_thread;
static sem_t started;

static void die(const char *what) {
  fprintf(stderr, "threads: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* One line to stdout in one write(): threads answer concurrently with
   nothing else, but a line must never be split. */
static void say(const char *line) {
  size_t n = strlen(line);
  if (write(1, line, n) != (ssize_t)n) exit(1);
}

static double seconds(clockid_t clock) {
  struct timespec ts;
  if (clock_gettime(clock, &ts)) die("clock_gettime");
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Answer "u": the thread's own clock and context switches. */
static void answer(struct worker *w) {
  struct rusage ru;
  char line[128];
  double cpu = seconds(CLOCK_THREAD_CPUTIME_ID);
  if (getrusage(RUSAGE_THREAD, &ru)) die("getrusage");
  snprintf(line, sizeof line, "u %d %.9f %ld %ld\n", w->tid, cpu, ru.ru_nvcsw, ru.ru_nivcsw);
  say(line);
}

static void take_command(struct worker *w) {
  char c;
  ssize_t n = read(w->pipe[0], &c, 1);
  if (n != 1) die("read (command pipe)");
  if (c == 'u') answer(w);
}

static void *kid(void *arg) {
  (void)arg;
  for (volatile int i = 0; i < 1000; i++) {
  }
  return NULL;
}

static void *run(void *arg) {
  struct worker *w = arg;
  errno = pthread_setname_np(pthread_self(), w->name);
  if (errno) die("pthread_setname_np");
  w->tid = gettid();
  sem_post(&started);
  switch (w->mode) {
  case M_READ:
    for (;;) take_command(w);
  case M_SPIN:
    for (;;) {
      for (volatile int i = 0; i < 100000; i++) {
      }
      if (__atomic_exchange_n(&w->pending, 0, __ATOMIC_ACQ_REL)) take_command(w);
    }
  case M_SLEEP:
    for (;;) {
      struct timespec t = {100000, 0};
      syscall(SYS_nanosleep, &t, NULL);
    }
  case M_CSLEEP:
    for (;;) {
      struct timespec t = {100000, 0};
      clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL);
    }
  case M_CHURN:
    for (;;) {
      pthread_t a, b;
      if ((errno = pthread_create(&a, NULL, kid, NULL))) die("pthread_create (churn)");
      if ((errno = pthread_create(&b, NULL, kid, NULL))) die("pthread_create (churn)");
      pthread_join(a, NULL);
      pthread_join(b, NULL);
    }
  }
  return NULL;
}

/* Read commands from stdin until it closes, then exit the process. */
static void *control(void *arg) {
  char line[64];
  if (arg) { /* the "ctl" thread of --leader-exit: its tid goes to main */
    errno = pthread_setname_np(pthread_self(), "ctl");
    if (errno) die("pthread_setname_np (ctl)");
    *(int *)arg = gettid();
    sem_post(&started);
  }
  while (fgets(line, sizeof line, stdin)) {
    int i;
    char cmd;
    if (sscanf(line, "%d %c", &i, &cmd) != 2 || i < 0 || i > nworkers) {
      say("error: bad command\n");
      continue;
    }
    if (cmd == 't') {
      clockid_t clock;
      char out[64];
      errno = pthread_getcpuclockid(i ? workers[i - 1].thread : main_thread, &clock);
      if (errno) die("pthread_getcpuclockid");
      snprintf(out, sizeof out, "t %.9f\n", seconds(clock));
      say(out);
    } else if (cmd == 'u' && i > 0 && (workers[i - 1].mode == M_READ || workers[i - 1].mode == M_SPIN)) {
      struct worker *w = &workers[i - 1];
      if (write(w->pipe[1], "u", 1) != 1) die("write (command pipe)");
      __atomic_store_n(&w->pending, 1, __ATOMIC_RELEASE);
    } else {
      say("error: bad command\n");
    }
  }
  exit(0);
}

int main(int argc, char **argv) {
  static const char *modes[] = {[M_READ] = "read", [M_SPIN] = "spin", [M_SLEEP] = "sleep",
                                [M_CSLEEP] = "csleep", [M_CHURN] = "churn"};
  int leader_exit = 0, a = 1, ctl_tid = 0;
  char line[64 + 12 * MAX_THREADS];
  size_t len;

  if (a < argc && !strcmp(argv[a], "--leader-exit")) leader_exit = 1, a++;
  main_thread = pthread_self();
  if (sem_init(&started, 0, 0)) die("sem_init");
  for (; a < argc; a++) {
    struct worker *w = &workers[nworkers];
    char *colon = strchr(argv[a], ':');
    size_t m;
    if (nworkers == MAX_THREADS || !colon) {
      fprintf(stderr, "threads: usage: threads [--leader-exit] MODE:NAME ...\n");
      return 1;
    }
    for (m = 0; m < sizeof modes / sizeof *modes; m++)
      if (strlen(modes[m]) == (size_t)(colon - argv[a]) && !strncmp(argv[a], modes[m], colon - argv[a])) break;
    if (m == sizeof modes / sizeof *modes) {
      fprintf(stderr, "threads: unknown mode in %s\n", argv[a]);
      return 1;
    }
    w->mode = (enum mode)m;
    w->name = colon + 1;
    if (pipe(w->pipe)) die("pipe");
    nworkers++;
  }
  for (int i = 0; i < nworkers; i++) {
    errno = pthread_create(&workers[i].thread, NULL, run, &workers[i]);
    if (errno) die("pthread_create");
  }
  if (leader_exit) {
    pthread_t ctl;
    errno = pthread_create(&ctl, NULL, control, &ctl_tid);
    if (errno) die("pthread_create (ctl)");
  }
  for (int i = 0; i < nworkers + leader_exit; i++)
    while (sem_wait(&started))
      if (errno != EINTR) die("sem_wait");
  len = (size_t)snprintf(line, sizeof line, "ready pid=%d main=%d", getpid(), gettid());
  if (leader_exit) len += (size_t)snprintf(line + len, sizeof line - len, " ctl=%d", ctl_tid);
  len += (size_t)snprintf(line + len, sizeof line - len, " tids=");
  for (int i = 0; i < nworkers; i++)
    len += (size_t)snprintf(line + len, sizeof line - len, "%s%d", i ? "," : "", workers[i].tid);
  snprintf(line + len, sizeof line - len, "\n");
  say(line);
  if (leader_exit) pthread_exit(NULL);
  control(NULL);
  return 0;
}
