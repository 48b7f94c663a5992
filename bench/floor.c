/*
** floor: the lower bound for a process listing, i.e. reading exactly the
** /proc files a query needs and nothing else (no parsing, no formatting).
**
**   floor [-n RUNS] [-w WARMUP] [-p PROCDIR] MODE
**
** MODE
**   stat     open /proc, list it, read PID/stat for every process
**            (what `pid, comm` needs)
**   ps-ef    /proc/stat once (btime, for etime), then PID/stat, PID/status
**            and PID/cmdline for every process (what the `ps -ef` columns
**            need: user -> status; args -> cmdline; ppid, pcpu, etime,
**            tty, time -> stat)
**   pid=X    /proc/stat once, then X/stat, X/status, X/cmdline only
**
** Every file is read with a bare openat() relative to one /proc directory
** fd and read() into one reused buffer, until a short read.  The directory
** is listed with getdents64() into a 64 KiB buffer.
**
** Without -n: one pass, prints "procs=P bytes=B".  With -n: RUNS timed
** passes after WARMUP untimed ones, prints "median_ms min_ms procs".
**
** Built with -DFLOOR_NO_MAIN, the file only provides floor_parse() and
** floor_scan() for qtime, which runs floor passes and SQL queries
** round-robin in one process.
*/
#include "floor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RDBUF (64 * 1024)
#define DENTBUF (64 * 1024)

static char rdbuf[RDBUF];
static char dentbuf[DENTBUF] __attribute__((aligned(8)));

struct linux_dirent64 {
  unsigned long long d_ino;
  long long d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

int floor_parse(const char *mode, const char *proc, struct floor_mode *m) {
  memset(m, 0, sizeof *m);
  m->proc = proc ? proc : "/proc";
  if (strcmp(mode, "stat") == 0) {
    m->files = FLOOR_STAT;
  } else if (strcmp(mode, "ps-ef") == 0) {
    m->files = FLOOR_STAT | FLOOR_STATUS | FLOOR_CMDLINE | FLOOR_BTIME;
  } else if (strncmp(mode, "pid=", 4) == 0) {
    char *end;
    long v = strtol(mode + 4, &end, 10);
    if (*end || v <= 0) return -1;
    m->pid = v;
    m->files = FLOOR_STAT | FLOOR_STATUS | FLOOR_CMDLINE | FLOOR_BTIME;
  } else {
    return -1;
  }
  return 0;
}

/* Read dirfd/path to the end (until a short read); bytes read or -1. */
static long slurp(int dirfd, const char *path) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  long tot = 0;
  for (;;) {
    ssize_t n = read(fd, rdbuf, sizeof rdbuf);
    if (n <= 0) break;
    tot += n;
    if ((size_t)n < sizeof rdbuf) break;
  }
  close(fd);
  return tot;
}

/* "PID/name" into out without snprintf. */
static void pidpath(char *out, const char *pid, size_t plen, const char *name) {
  memcpy(out, pid, plen);
  out[plen] = '/';
  strcpy(out + plen + 1, name);
}

static void one(int procfd, const char *pid, size_t plen, unsigned files, struct floor_result *r) {
  char path[64];
  long n, got = 0;
  if (files & FLOOR_STAT) {
    pidpath(path, pid, plen, "stat");
    n = slurp(procfd, path);
    if (n < 0) return; /* gone: not counted */
    got += n;
  }
  if (files & FLOOR_STATUS) {
    pidpath(path, pid, plen, "status");
    if ((n = slurp(procfd, path)) > 0) got += n;
  }
  if (files & FLOOR_CMDLINE) {
    pidpath(path, pid, plen, "cmdline");
    if ((n = slurp(procfd, path)) > 0) got += n;
  }
  r->procs++;
  r->bytes += got;
}

int floor_scan(const struct floor_mode *m, struct floor_result *r) {
  r->procs = 0;
  r->bytes = 0;
  int procfd = open(m->proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0) return -errno;
  if (m->files & FLOOR_BTIME) {
    long n = slurp(procfd, "stat");
    if (n > 0) r->bytes += n;
  }
  if (m->pid) {
    char pid[24];
    int plen = snprintf(pid, sizeof pid, "%ld", m->pid);
    one(procfd, pid, (size_t)plen, m->files, r);
    close(procfd);
    return 0;
  }
  for (;;) {
    long nread = syscall(SYS_getdents64, procfd, dentbuf, sizeof dentbuf);
    if (nread < 0) {
      int e = errno;
      close(procfd);
      return -e;
    }
    if (nread == 0) break;
    for (long off = 0; off < nread;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(dentbuf + off);
      off += d->d_reclen;
      if (d->d_name[0] < '1' || d->d_name[0] > '9') continue;
      one(procfd, d->d_name, strlen(d->d_name), m->files, r);
    }
  }
  close(procfd);
  return 0;
}

double floor_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double floor_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmpd);
  if (n == 0) return 0;
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#ifndef FLOOR_NO_MAIN
static void usage(void) {
  fprintf(stderr, "usage: floor [-n RUNS] [-w WARMUP] [-p PROCDIR] stat|ps-ef|pid=X\n");
  exit(2);
}

int main(int argc, char **argv) {
  int runs = 0, warm = 1, c;
  const char *proc = NULL;
  while ((c = getopt(argc, argv, "n:w:p:")) != -1) {
    switch (c) {
    case 'n': runs = atoi(optarg); break;
    case 'w': warm = atoi(optarg); break;
    case 'p': proc = optarg; break;
    default: usage();
    }
  }
  if (optind != argc - 1) usage();
  struct floor_mode m;
  if (floor_parse(argv[optind], proc, &m) < 0) usage();
  struct floor_result r;
  int rc;
  if (runs <= 0) {
    if ((rc = floor_scan(&m, &r)) < 0) {
      fprintf(stderr, "floor: %s: %s\n", m.proc, strerror(-rc));
      return 1;
    }
    printf("procs=%ld bytes=%lld\n", r.procs, r.bytes);
    return 0;
  }
  double *t = calloc((size_t)runs, sizeof *t);
  for (int i = 0; i < warm + runs; i++) {
    double t0 = floor_now_ms();
    if ((rc = floor_scan(&m, &r)) < 0) {
      fprintf(stderr, "floor: %s: %s\n", m.proc, strerror(-rc));
      return 1;
    }
    double dt = floor_now_ms() - t0;
    if (i >= warm) t[i - warm] = dt;
  }
  double med = floor_median(t, runs);
  printf("%.4f\t%.4f\t%ld\n", med, t[0], r.procs);
  free(t);
  return 0;
}
#endif
