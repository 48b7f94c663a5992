/*
** sleepers: the benchmark's extra processes.
**
**   sleepers N              fork N children that pause(), print "ready N",
**                           then wait; SIGTERM, SIGINT or SIGHUP (or the
**                           death of its own parent) SIGKILLs and reaps the
**                           children and exits.  Each child also dies with
**                           SIGKILL when this process dies.  Outside a new
**                           PID namespace it makes its own process group.
**   sleepers -c PPID [PROC] count the processes whose parent is PPID, as
**                           seen in PROC (default /proc); prints
**                           "COUNT FIRST_PID" (the lowest such pid, or 0)
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
  long count = 0, first = 0;
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
    long pp;
    if (!rp || sscanf(rp + 1, " %c %ld", &state, &pp) != 2) continue;
    if (pp != ppid) continue;
    long pid = atol(e->d_name);
    count++;
    if (!first || pid < first) first = pid;
  }
  closedir(d);
  printf("%ld %ld\n", count, first);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "-c") == 0)
    return count_children(atol(argv[2]), argc > 3 ? argv[3] : "/proc");
  if (argc != 2) {
    fprintf(stderr, "usage: sleepers N | sleepers -c PPID [PROCDIR]\n");
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
      for (;;) pause();
    }
    kids[made] = p;
  }
  int rc = 0;
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
