/*
** takepid: start a process with a chosen pid, for the pid-reuse tests of
** sqlite-ps (tests/test_hardening.py).
**
**   build/helpers/takepid PID COMM
**
** clone3(2) with set_tid = {PID} creates a child whose pid is PID in the
** helper's PID namespace (the innermost level; the levels above get any free
** pid). That needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE) over the
** namespace, and PID must be free. Run it with `nsenter -t X -p -- takepid`
** to take a pid inside X's PID namespace. PID 0: any pid (a plain fork).
**
** The child names itself COMM (prctl PR_SET_NAME), dies with the helper
** (PR_SET_PDEATHSIG) and prints one line on stdout:
**
**   ready pid=PID hpid=HOSTPID
**
** (HOSTPID from readlink /proc/self: the host pid when /proc is the host's),
** then sleeps. The helper waits for the end of stdin or SIGTERM, then kills
** the child, reaps it and exits 0. Errors: "takepid: ..." on stderr, exit 1
** (EEXIST: the pid is taken).
*/
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: takepid PID COMM\n");
    return 2;
  }
  pid_t want = (pid_t)atoi(argv[1]);
  pid_t tid[1] = {want};
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.exit_signal = SIGCHLD;
  if (want > 0) {
    ca.set_tid = (uint64_t)(uintptr_t)tid;
    ca.set_tid_size = 1;
  }
  fflush(NULL);
  pid_t parent = getpid();
  long p = syscall(SYS_clone3, &ca, sizeof ca);
  if (p < 0) {
    fprintf(stderr, "takepid: clone3(set_tid=%d): %s\n", (int)want, strerror(errno));
    return 1;
  }
  if (p == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent) _exit(1);
    if (prctl(PR_SET_NAME, argv[2], 0, 0, 0) < 0) _exit(1);
    char buf[32] = "";
    ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("ready pid=%d hpid=%s\n", (int)getpid(), buf);
    fflush(stdout);
    for (;;) pause();
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, NULL);
  char b[64];
  /* stdin ends, or SIGTERM (which interrupts nothing while blocked: poll it) */
  for (;;) {
    struct timespec ts = {0, 0};
    if (sigtimedwait(&set, NULL, &ts) == SIGTERM) break;
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(0, &fds);
    struct timeval tv = {0, 100000};
    int r = select(1, &fds, NULL, NULL, &tv);
    if (r < 0 && errno != EINTR) break;
    if (r > 0 && read(0, b, sizeof b) <= 0) break;
  }
  kill((pid_t)p, SIGKILL);
  while (waitpid((pid_t)p, NULL, 0) < 0 && errno == EINTR)
    ;
  return 0;
}
