/*
** unixsocks.c: what the unix table costs at N sockets, each way the scan
** can read it (sockets.c, fds.c).
**
**   unixsocks [N [RUNS]]     N unix sockets (10000), RUNS rounds (15)
**
** A child holds N unix sockets (N/2 socketpairs; one socket in four bound
** to a short abstract name "@b-N", so the text has lines a name could
** hold). Per round, medians in ms:
**   text       read its /proc/PID/net/unix and parse it (psnap_socktab_add)
**   diag       one sock_diag dump of the same namespace (psnap_diag_unix_dump)
**   scan-host  a socket scan of the child in the caller's namespace:
**              sock_diag for unix, the other tables as text
** and, as root, the same child made in a network namespace of its own:
**   scan-netns the text, a census of the namespace's processes (the lines a
**              name could hold), the text again, settled
** Build: cc -O2 -D_GNU_SOURCE -Isrc -o build/bench/unixsocks bench/unixsocks.c
**        build/libpsnap.a -lcap -lseccomp -lpthread
*/
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdparse.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* A child holding n unix sockets (in a network namespace of its own when own_ns): its pid, or -1. */
static pid_t holder(int n, int own_ns) {
  int p[2];
  if (pipe(p) < 0) return -1;
  pid_t c = fork();
  if (c == 0) {
    char ok = 'y';
    if (own_ns && unshare(CLONE_NEWNET) < 0) ok = 'n';
    for (int i = 0; i < n / 2 && ok == 'y'; i++) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        ok = 'n';
        break;
      }
      if (i % 2 == 0) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        int l = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "b-%d", i);
        bind(sv[0], (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + l));
      }
    }
    if (write(p[1], &ok, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char ok = 'n';
  if (c < 0 || read(p[0], &ok, 1) != 1 || ok != 'y') {
    if (c > 0) kill(c, SIGKILL), waitpid(c, NULL, 0);
    c = -1;
  }
  close(p[0]);
  close(p[1]);
  return c;
}

/* One socket scan of process pid: its sockets with a row. */
static int scan(pid_t pid, unsigned long *diag) {
  struct psnap_fdscan *f;
  struct psnap_err err;
  struct psnap_fd d;
  int rows = 0;
  if (psnap_fdscan_open(&f, PSNAP_FDS_SOCKETS, &err) < 0) return -1;
  if (psnap_fdscan_process(f, pid, NULL, pid) == 0)
    while (psnap_fdscan_next(f, &d) > 0) rows += d.sock && d.sock->family != NULL;
  *diag = psnap_fdscan_diag_requests(f);
  psnap_fdscan_close(f);
  return rows;
}

static void report(const char *what, double *t, int runs, const char *note) {
  qsort(t, (size_t)runs, sizeof *t, cmp_d);
  printf("  %-11s %8.2f ms  (min %.2f, max %.2f)  %s\n", what, t[runs / 2], t[0], t[runs - 1], note);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10000, runs = argc > 2 ? atoi(argv[2]) : 15;
  if (n < 2 || runs < 1 || runs > 1000) return fprintf(stderr, "usage: unixsocks [N [RUNS]]\n"), 2;
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < (rlim_t)n + 64) {
    rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max : (rlim_t)n + 64;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  pid_t c = holder(n, 0);
  if (c < 0) return fprintf(stderr, "unixsocks: cannot make %d unix sockets (ulimit -n?)\n", n), 1;
  double *t = calloc((size_t)runs, sizeof *t);
  char path[64], note[128];
  struct psnap_buf b = {0};
  snprintf(path, sizeof path, "/proc/%d/net/unix", (int)c);
  size_t rows = 0, doubtful = 0, bytes = 0;
  for (int r = 0; r < runs; r++) {
    struct psnap_socktab tab = {0};
    double t0 = now_ms();
    psnap_readat(AT_FDCWD, path, 0, &b, PSNAP_NET_TABLE_MAX);
    psnap_socktab_add(&tab, PSNAP_NET_UNIX, b.p, b.len);
    doubtful = psnap_unix_text_doubtful(b.p, b.len);
    t[r] = now_ms() - t0;
    rows = tab.n, bytes = b.len;
    psnap_socktab_free(&tab);
  }
  printf("unix sockets: %d (a quarter with a name), %d rounds\n", n, runs);
  snprintf(note, sizeof note, "%zu rows, %zu bytes, %zu lines a name could hold", rows, bytes, doubtful);
  report("text", t, runs, note);
  int fd = psnap_diag_open();
  for (int r = 0; r < runs && fd >= 0; r++) {
    struct psnap_socktab tab = {0};
    double t0 = now_ms();
    int rc = psnap_diag_unix_dump(fd, &b, &tab);
    t[r] = now_ms() - t0;
    rows = tab.n;
    psnap_socktab_free(&tab);
    if (rc < 0) {
      printf("  diag        failed: %s\n", strerror(-rc));
      close(fd);
      fd = -1;
    }
  }
  if (fd >= 0) {
    snprintf(note, sizeof note, "%zu rows", rows);
    report("diag", t, runs, note);
    close(fd);
  }
  unsigned long dq = 0;
  int found = 0;
  for (int r = 0; r < runs; r++) {
    double t0 = now_ms();
    found = scan(c, &dq);
    t[r] = now_ms() - t0;
  }
  snprintf(note, sizeof note, "%d of %d sockets with a row, %lu sock_diag requests", found, n, dq);
  report("scan-host", t, runs, note);
  kill(c, SIGKILL);
  waitpid(c, NULL, 0);
  c = geteuid() == 0 ? holder(n, 1) : -1;
  if (c > 0) {
    for (int r = 0; r < runs; r++) {
      double t0 = now_ms();
      found = scan(c, &dq);
      t[r] = now_ms() - t0;
    }
    snprintf(note, sizeof note, "%d of %d sockets with a row, %lu sock_diag requests", found, n, dq);
    report("scan-netns", t, runs, note);
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
  } else {
    printf("  scan-netns  skipped: %s\n", geteuid() ? "not root" : "no network namespace");
  }
  psnap_buf_free(&b);
  free(t);
  return 0;
}
