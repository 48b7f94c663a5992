/*
** churn: start and reap many short-lived processes, each with a comm and a
** command line that name it, for the churn tests of sqlite-ps
** (tests/test_hardening.py).
**
**   build/helpers/churn [--rate N] [--seconds S] [--max-us M] [--reuse PID]
**                       [--tag XY] [--fork-every N] [--fork-ms M]
**                       --log PATH S=00000000
**
** The last argument is a slot of exactly 10 bytes that the helper rewrites in
** place (as setproctitle does), so /proc/PID/cmdline changes without exec.
** Before each child the helper names itself after the next serial number K:
** comm "XY%08x" (prctl PR_SET_NAME; XY is the --tag, default "ck") and the
** slot "S=%08x". The child is created from that state and never changes
** its comm or its command line:
**
**  - every --fork-every'th child is made by fork(2) and lives up to
**    --fork-ms. Its memory is its own: from its first appearance in /proc
**    until it is reaped, its args end in "S=K" with K the hex digits of its
**    comm (or are "[comm]" once it has exited: a zombie has no cmdline).
**  - the others are made by clone(CLONE_VM|CLONE_VFORK) on a stack of their
**    own (fork(2) costs milliseconds on small VMs; this is cheap) and live
**    at most --max-us. They share the helper's memory, which the helper
**    leaves alone until the child exits; but a reader that took the memory
**    before the child exited can read it after, when the slot may name a
**    later child already. So their args end in "S=K" with K their own
**    serial or a later one (or are "[comm]").
**
** The helper's own comm and args change all the time: leave its row out of
** such checks.
**
** Every child appends one line to the log (O_APPEND, one write) and exits
** after a random time (see --max-us, --fork-ms). The helper reaps its
** children oldest first and keeps the last 16 as zombies, so a scan sees
** some children alive and some exited:
**
**   K SERIAL PID HOSTPID      SERIAL in hex, PID in the helper's PID
**                             namespace (getpid), HOSTPID from the /proc the
**                             helper sees (readlink /proc/self)
**
** The helper's own line comes first: "P - PID HOSTPID". Run it with
** `nsenter -t X -p -- churn ...` (no -m) to churn inside X's PID namespace:
** its /proc is then still the host's, so HOSTPID is the host pid.
**
**   --rate N      children per second at most (default 1000)
**   --seconds S   stop after S seconds (default 5); also stops at the end
**                 of stdin or on SIGTERM/SIGINT
**   --max-us M    the longest a clone(CLONE_VFORK) child lives, in
**                 microseconds (default 500)
**   --fork-every N  every Nth child is made by fork(2) (default 10; 0: none)
**   --fork-ms M   the longest a fork(2) child lives, in ms (default 20)
**   --tag XY      the first two bytes of every comm (default "ck"), to tell
**                 two churners apart
**   --reuse PID   before each child write PID-1 to /proc/sys/kernel/ns_last_pid
**                 (of the helper's PID namespace), so the children keep
**                 taking the same pid (needs CAP_SYS_ADMIN over the namespace)
**
** When done, the helper reaps every child and prints "done N" (N children
** started) on stdout. Errors: "churn: ..." on stderr, exit 1.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SLOT_LEN 10
#define ZOMBIES 16

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void die(const char *what) {
  fprintf(stderr, "churn: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Append a decimal to p (no stdio: the child shares the helper's memory). */
static char *put_num(char *p, long v) {
  char tmp[24];
  int n = 0;
  if (v < 0) *p++ = '-', v = -v;
  do tmp[n++] = (char)('0' + v % 10), v /= 10;
  while (v);
  while (n) *p++ = tmp[--n];
  return p;
}

/* What a child needs: set by the helper before each clone. */
static struct {
  int logfd;
  const char *kind, *serial;
  long life_us;
} job;

/* One log line: "KIND SERIAL PID HOSTPID\n", with one write. */
static void log_line(void) {
  char line[96], *p = line, link[32];
  ssize_t n = readlink("/proc/self", link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  for (const char *s = job.kind; *s;) *p++ = *s++;
  *p++ = ' ';
  for (const char *s = job.serial; *s;) *p++ = *s++;
  *p++ = ' ';
  p = put_num(p, (long)syscall(SYS_getpid));
  *p++ = ' ';
  p = put_num(p, n > 0 ? atol(link) : -1);
  *p++ = '\n';
  if (write(job.logfd, line, (size_t)(p - line)) != p - line) _exit(3);
}

static int child(void *arg) {
  (void)arg;
  log_line();
  if (job.life_us > 0) {
    struct timespec ts = {job.life_us / 1000000, (job.life_us % 1000000) * 1000};
    nanosleep(&ts, NULL);
  }
  _exit(0);
}

static char child_stack[64 * 1024] __attribute__((aligned(16)));

int main(int argc, char **argv) {
  double rate = 1000, seconds = 5;
  long max_us = 500, reuse = 0, fork_every = 10, fork_ms = 20;
  const char *logpath = NULL, *tag = "ck";
  int i;
  for (i = 1; i < argc - 1; i++) {
    if (!strcmp(argv[i], "--rate") && i + 1 < argc - 1)
      rate = atof(argv[++i]);
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc - 1)
      seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--max-us") && i + 1 < argc - 1)
      max_us = atol(argv[++i]);
    else if (!strcmp(argv[i], "--reuse") && i + 1 < argc - 1)
      reuse = atol(argv[++i]);
    else if (!strcmp(argv[i], "--fork-every") && i + 1 < argc - 1)
      fork_every = atol(argv[++i]);
    else if (!strcmp(argv[i], "--fork-ms") && i + 1 < argc - 1)
      fork_ms = atol(argv[++i]);
    else if (!strcmp(argv[i], "--tag") && i + 1 < argc - 1)
      tag = argv[++i];
    else if (!strcmp(argv[i], "--log") && i + 1 < argc - 1)
      logpath = argv[++i];
    else
      break;
  }
  char *slot = argv[argc - 1];
  if (i != argc - 1 || !logpath || strlen(slot) != SLOT_LEN || strlen(tag) != 2 || rate <= 0) {
    fprintf(stderr, "usage: churn [--rate N] [--seconds S] [--max-us M] [--reuse PID] [--tag XY]\n"
                    "             [--fork-every N] [--fork-ms M] --log PATH S=00000000\n");
    return 2;
  }
  job.logfd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (job.logfd < 0) die("open the log");
  int lastfd = -1;
  if (reuse > 1) {
    lastfd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    if (lastfd < 0) die("open /proc/sys/kernel/ns_last_pid");
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  srand((unsigned)getpid());

  job.kind = "P";
  job.serial = "-";
  log_line();
  printf("ready pid=%d\n", (int)getpid());
  fflush(stdout);

  pid_t ring[ZOMBIES];
  int nring = 0, head = 0;
  unsigned long serial = 0;
  double t0 = now(), end = t0 + seconds;
  int watch_stdin = 1;
  char hex[9];
  job.kind = "K";
  job.serial = hex;
  while (!stop && now() < end) {
    if (watch_stdin) {
      struct pollfd pf = {.fd = 0, .events = POLLIN};
      if (poll(&pf, 1, 0) > 0) {
        char b[64];
        if (pf.revents & POLLNVAL)
          watch_stdin = 0;
        else if (read(0, b, sizeof b) <= 0)
          break;
      }
    }
    if (nring == ZOMBIES) { /* reap the oldest */
      while (waitpid(ring[head], NULL, 0) < 0 && errno == EINTR)
        ;
      head = (head + 1) % ZOMBIES;
      nring--;
    }
    serial++;
    char comm[16];
    snprintf(hex, sizeof hex, "%08lx", serial & 0xffffffffUL);
    snprintf(comm, sizeof comm, "%s%s", tag, hex);
    if (prctl(PR_SET_NAME, comm, 0, 0, 0) < 0) die("prctl(PR_SET_NAME)");
    slot[0] = 'S';
    slot[1] = '=';
    memcpy(slot + 2, hex, 8);
    if (lastfd >= 0) {
      char num[24];
      int n = snprintf(num, sizeof num, "%ld", reuse - 1);
      if (pwrite(lastfd, num, (size_t)n, 0) != n) die("write ns_last_pid");
    }
    int use_fork = fork_every > 0 && serial % (unsigned long)fork_every == 0;
    long most = use_fork ? fork_ms * 1000 : max_us;
    job.life_us = most > 0 ? rand() % (most + 1) : 0;
    pid_t p =
        use_fork ? fork() : clone(child, child_stack + sizeof child_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
    if (p == 0) child(NULL); /* fork(2) */
    if (p < 0) {
      if (errno == EAGAIN) {
        serial--;
        usleep(1000);
        continue;
      }
      die("clone");
    }
    ring[(head + nring) % ZOMBIES] = p;
    nring++;
    /* pace: child number serial is due at t0 + serial/rate */
    double due = t0 + (double)serial / rate, t = now();
    if (due > t) usleep((useconds_t)((due - t) * 1e6));
  }
  while (wait(NULL) > 0 || errno == EINTR)
    ;
  printf("done %lu\n", serial);
  fflush(stdout);
  return 0;
}
