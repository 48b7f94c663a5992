/*
** census: what one look per host process costs, for the census that a
** container snapshot takes of the caller's /proc (src/ns.c). Each mode walks
** /proc with getdents64 and, for every pid, does:
**
**   fstatat        fstatat(procfd, "PID/ns/pid"): what the census does
**   readlinkat     readlinkat(procfd, "PID/ns/pid"): "pid:[INODE]", no nsfs
**                  dentry made
**   getdents       nothing: the walk alone
**   ioctl          ioctl(nsfd, NS_GET_TGID_IN_PIDNS, PID) on the target's
**                  ns/pid (Linux 6.10+): the pid in the target's namespace,
**                  or ESRCH when the process is not in it or below it
**   fstatat+self   fstatat, with /proc/self/ns/pid held open during the walk
**                  (the nsfs dentry of the caller's namespace stays stashed)
**   readlink+self  readlinkat, likewise
**
**   build/bench/census [RUNS [TARGET_PID]]     (run.sh builds it)
**
** The modes run round-robin, RUNS timed rounds (default 41) after 3 untimed
** ones; one line per mode: the minimum and mean in ms, and the pids seen
** (for ioctl: the members of TARGET_PID's namespace; n/a without it).
** Not part of run.sh: bench/RESULTS.md quotes it for where a container
** snapshot's time goes.
*/
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef NS_GET_TGID_IN_PIDNS
#define NS_GET_TGID_IN_PIDNS _IOR(0xb7, 0x9, int)
#endif

enum { M_FSTATAT, M_READLINK, M_GETDENTS, M_IOCTL, M_FSTATAT_SELF, M_READLINK_SELF, M__COUNT };
static const char *names[M__COUNT] = {"fstatat", "readlinkat", "getdents", "ioctl", "fstatat+self", "readlink+self"};

struct d64 {
  unsigned long long ino;
  long long off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

static int nsfd = -1;
static volatile long sink;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* One walk of /proc in mode m: the pids seen (for M_IOCTL: the members). */
static long walk(int m) {
  int self = -1;
  if (m == M_FSTATAT_SELF || m == M_READLINK_SELF) self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  int pfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0) return -1;
  char buf[32768], path[64], link[64];
  long n = 0, members = 0, r;
  while ((r = syscall(SYS_getdents64, pfd, buf, sizeof buf)) > 0) {
    for (long o = 0; o < r;) {
      struct d64 *d = (struct d64 *)(buf + o);
      o += d->reclen;
      if (d->name[0] < '1' || d->name[0] > '9') continue;
      n++;
      snprintf(path, sizeof path, "%s/ns/pid", d->name);
      struct stat st;
      switch (m) {
      case M_FSTATAT:
      case M_FSTATAT_SELF:
        if (fstatat(pfd, path, &st, 0) == 0) sink += (long)st.st_ino;
        break;
      case M_READLINK:
      case M_READLINK_SELF:
        if (readlinkat(pfd, path, link, sizeof link) > 0) sink += link[5];
        break;
      case M_IOCTL:
        if (nsfd >= 0 && ioctl(nsfd, NS_GET_TGID_IN_PIDNS, atoi(d->name)) > 0) members++;
        break;
      default: break;
      }
    }
  }
  close(pfd);
  if (self >= 0) close(self);
  return m == M_IOCTL ? members : n;
}

int main(int argc, char **argv) {
  int runs = argc > 1 ? atoi(argv[1]) : 41;
  if (runs < 1) runs = 1;
  if (argc > 2) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%s/ns/pid", argv[2]);
    nsfd = open(p, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) perror(p);
  }
  double best[M__COUNT], total[M__COUNT] = {0};
  long seen[M__COUNT] = {0};
  for (int m = 0; m < M__COUNT; m++) best[m] = 1e300;
  for (int r = 0; r < runs + 3; r++) {
    for (int m = 0; m < M__COUNT; m++) {
      double t = now_ms();
      seen[m] = walk(m);
      t = now_ms() - t;
      if (r < 3) continue;
      if (t < best[m]) best[m] = t;
      total[m] += t;
    }
  }
  for (int m = 0; m < M__COUNT; m++) {
    if (m == M_IOCTL && nsfd < 0)
      printf("%-14s n/a (no TARGET_PID)\n", names[m]);
    else
      printf("%-14s min %8.3f ms  mean %8.3f ms  %ld %s\n", names[m], best[m], total[m] / runs, seen[m],
             m == M_IOCTL ? "members" : "pids");
  }
  return 0;
}
