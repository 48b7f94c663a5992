/*
** sockpairs: open sockets for the ps_sockets benchmark (bench/sockets.sh).
**
**   sockpairs N [P]   fork P children (default 20) that together hold N
**                     TCP sockets on 127.0.0.1: each child listens on one
**                     port and makes connected pairs to it (connect() +
**                     accept(): two ESTABLISHED sockets a pair) until it
**                     holds its share (an odd share ends with a second
**                     listener), so ss -tanp lists all N; then prints "ready N" (the sockets
**                     held, listeners included) and waits. SIGTERM,
**                     SIGINT or SIGHUP (or the death of its own parent)
**                     SIGKILLs and reaps the children and exits; each
**                     child also dies with SIGKILL when this process dies.
**
** A child holds N / P sockets and raises its RLIMIT_NOFILE to fit them
** (it fails when the hard limit is lower). Errors: "sockpairs: ..." on
** stderr, exit 1 (after killing what it started).
*/
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

/* One child: a listener and pairs until it holds n sockets. Writes 'y' or 'n' to fd w, then waits. */
static void child(long n, int w) {
  char ok = 'n';
  struct rlimit rl;
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
    rl.rlim_cur = (rlim_t)n + 64 <= rl.rlim_max ? (rlim_t)n + 64 : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof sa;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  long held = 0;
  if (l >= 0 && bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, 128) == 0 &&
      getsockname(l, (struct sockaddr *)&sa, &sl) == 0) {
    held = 1;
    while (held + 2 <= n) {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa) < 0) break;
      int a = accept(l, NULL, NULL);
      if (a < 0) break;
      held += 2;
    }
    if (held + 1 == n) { /* an odd share: one more listener */
      struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
      int x = socket(AF_INET, SOCK_STREAM, 0);
      held += x >= 0 && bind(x, (struct sockaddr *)&any, sizeof any) == 0 && listen(x, 1) == 0;
    }
    ok = held == n ? 'y' : 'n';
    if (ok == 'n') fprintf(stderr, "sockpairs: a child holds %ld of %ld sockets: %s\n", held, n, strerror(errno));
  }
  if (write(w, &ok, 1) != 1) _exit(1);
  close(w);
  for (;;) pause();
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: sockpairs N [P]\n");
    return 2;
  }
  long n = strtol(argv[1], NULL, 10), p = argc > 2 ? strtol(argv[2], NULL, 10) : 20;
  if (n < 1 || p < 1 || p > n) {
    fprintf(stderr, "sockpairs: N and P must be positive, P at most N\n");
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  pid_t *kids = calloc((size_t)p, sizeof *kids);
  int pipefd[2];
  if (!kids || pipe(pipefd) < 0) {
    perror("sockpairs");
    return 1;
  }
  int failed = 0;
  for (long i = 0; i < p && !failed; i++) {
    long share = n / p + (i < n % p);
    kids[i] = fork();
    if (kids[i] == 0) {
      close(pipefd[0]);
      child(share, pipefd[1]);
    }
    if (kids[i] < 0) failed = 1;
  }
  close(pipefd[1]);
  for (long i = 0; i < p && !failed; i++) {
    char c = 'n';
    if (read(pipefd[0], &c, 1) != 1 || c != 'y') failed = 1;
  }
  if (!failed) {
    printf("ready %ld\n", n);
    fflush(stdout);
    while (!stop) pause();
  }
  for (long i = 0; i < p; i++)
    if (kids[i] > 0) kill(kids[i], SIGKILL);
  for (long i = 0; i < p; i++)
    if (kids[i] > 0) waitpid(kids[i], NULL, 0);
  return failed;
}
