/*
** sleepers: the benchmark's extra processes.
**
**   sleepers [-t T] N       fork N children that pause(), print "ready N",
**                           then wait; SIGTERM, SIGINT or SIGHUP (or the
**                           death of its own parent) SIGKILLs and reaps the
**                           children and exits.  Each child also dies with
**                           SIGKILL when this process dies.  Outside a new
**                           PID namespace it makes its own process group.
**                           -t T: each child has T threads (it starts T - 1
**                           that pause() too, on 64 KiB stacks); "ready"
**                           comes once every child has all of its threads.
**   sleepers -c PPID [PROC] count the processes whose parent is PPID, as
**                           seen in PROC (default /proc); prints
**                           "COUNT FIRST_PID THREADS" (the lowest such pid,
**                           or 0; their threads, stat field 20, summed)
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static int count_children(long ppid, const char *proc) {
  DIR *d = opendir(proc);
  if (!d) {
    perror(proc);
    return 1;
  }
  struct dirent *e;
  long count = 0, first = 0, threads = 0;
  char path[4200], buf[1024];
  while ((e = readdir(d))) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "%s/%s/stat", proc, e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    char *rp = strrchr(buf, ')');
    char state;
    long pp, nlwp;
    /* after ")": state (3) ppid (4) pgrp sid tty_nr tpgid flags minflt
       cminflt majflt cmajflt utime stime cutime cstime priority nice
       num_threads (20) */
    if (!rp || sscanf(rp + 1, " %c %ld %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %ld", &state, &pp,
                      &nlwp) != 3)
      continue;
    if (pp != ppid) continue;
    long pid = atol(e->d_name);
    count++;
    threads += nlwp;
    if (!first || pid < first) first = pid;
  }
  closedir(d);
  printf("%ld %ld %ld\n", count, first, threads);
  return 0;
}

/* A thread of a child: it sleeps until the process dies. */
static void *sleeper_thread(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

/* Start t - 1 more threads; 0, or -1 when one could not be made. */
static int start_threads(long t) {
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 64 * 1024);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  for (long i = 1; i < t; i++) {
    pthread_t th;
    if (pthread_create(&th, &a, sleeper_thread, NULL) != 0) return -1;
  }
  pthread_attr_destroy(&a);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "-c") == 0) return count_children(atol(argv[2]), argc > 3 ? argv[3] : "/proc");
  long nthreads = 1;
  if (argc == 4 && strcmp(argv[1], "-t") == 0) {
    nthreads = atol(argv[2]);
    argv += 2;
    argc -= 2;
  }
  if (argc != 2 || nthreads < 1) {
    fprintf(stderr, "usage: sleepers [-t THREADS] N | sleepers -c PPID [PROCDIR]\n");
    return 2;
  }
  long n = atol(argv[1]);
  if (n < 0) n = 0;
  pid_t self = getpid();
  if (self != 1) setpgid(0, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: wait() returns EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) stop = 1; /* the parent died already */

  pid_t *kids = calloc((size_t)n + 1, sizeof *kids);
  long made = 0;
  int ready[2] = {-1, -1}; /* -t: each child writes one byte when its threads run */
  if (nthreads > 1 && pipe2(ready, O_CLOEXEC) < 0) {
    fprintf(stderr, "sleepers: pipe: %s\n", strerror(errno));
    return 1;
  }
  for (; made < n && !stop; made++) {
    pid_t p = fork();
    if (p < 0) {
      fprintf(stderr, "sleepers: fork %ld of %ld: %s\n", made + 1, n, strerror(errno));
      stop = 1;
      break;
    }
    if (p == 0) {
      signal(SIGTERM, SIG_DFL);
      signal(SIGINT, SIG_DFL);
      signal(SIGHUP, SIG_DFL);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != self) _exit(0);
      if (nthreads > 1) {
        char c = start_threads(nthreads) < 0 ? 'e' : 'r';
        if (write(ready[1], &c, 1) != 1) _exit(1);
      }
      for (;;) pause();
    }
    kids[made] = p;
  }
  int rc = 0;
  if (nthreads > 1) {
    /* one byte per child: 'r' when its threads run, 'e' when some failed */
    close(ready[1]);
    long got = 0, bad = 0;
    while (got < made && !stop) {
      char buf[256];
      ssize_t k = read(ready[0], buf, sizeof buf);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) break;
      for (ssize_t i = 0; i < k; i++) bad += buf[i] != 'r';
      got += k;
    }
    close(ready[0]);
    if (got < made || bad) {
      fprintf(stderr, "sleepers: %ld of %ld children started their %ld threads\n", got - bad, made, nthreads);
      stop = 1;
    }
  }
  if (!stop) {
    printf("ready %ld\n", made);
    fflush(stdout);
    while (!stop) {
      if (wait(NULL) < 0 && errno == ECHILD) break;
    }
  } else {
    rc = 1;
  }
  for (long i = 0; i < made; i++) kill(kids[i], SIGKILL);
  while (wait(NULL) > 0 || errno == EINTR) {
  }
  return rc;
}
