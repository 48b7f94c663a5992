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
**   threads  PID/task/ listed, then PID/task/TID/stat for every thread of
**            every process (what ps_threads' stat columns and ps -eL need);
**            counts threads, not processes
**   read:ITEM[+ITEM...]
**            any files, in this order; ITEM is
**              NAME        PID/NAME of every process (stat, smaps_rollup,
**                          io, cgroup, oom_score, ...)
**              NAME/       PID/NAME/ of every process, its entries counted
**                          with getdents64 and nothing else (fd/)
**              /NAME       /proc/NAME, once per pass (/meminfo, /stat)
**              task/TNAME  PID/task/ listed, then PID/task/TID/TNAME
**            stat = read:stat, ps-ef = read:/stat+stat+status+cmdline,
**            threads = read:task/stat
**   dir:ITEM[+ITEM...]
**            the same, through a directory fd: open PID/ (O_DIRECTORY)
**            first, then every NAME and NAME/ relative to it, as the
**            extension reads a row of more than one file
**
** Every file is read with a bare openat() relative to one /proc directory
** fd and read() into one reused buffer, until a short read.  Directories
** are listed with getdents64() into a 64 KiB buffer.  A process whose first
** per-process item cannot be opened has gone: it is not counted and its
** other items are not read.
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
static char dentbuf[DENTBUF] __attribute__((aligned(8)));  /* /proc */
static char dentbuf2[DENTBUF] __attribute__((aligned(8))); /* PID/NAME/, PID/task/ */

struct linux_dirent64 {
  unsigned long long d_ino;
  long long d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

/* Append one ITEM of a read: mode to m; 0 or -1. */
static int add_item(struct floor_mode *m, const char *it, size_t len) {
  if (len == 0 || m->nitems == FLOOR_MAXITEMS) return -1;
  struct floor_item *f = &m->item[m->nitems];
  f->kind = FLOOR_FILE;
  if (it[0] == '/') {
    f->kind = FLOOR_ONCE;
    it++, len--;
  } else if (len > 5 && memcmp(it, "task/", 5) == 0) {
    f->kind = FLOOR_TASKS;
    it += 5, len -= 5;
  } else if (it[len - 1] == '/') {
    f->kind = FLOOR_DIR;
    len--;
  }
  if (len == 0 || len >= FLOOR_ITEMLEN || (f->kind != FLOOR_FILE && memchr(it, '/', len))) return -1;
  memcpy(f->name, it, len);
  f->name[len] = 0;
  m->nitems++;
  return 0;
}

/* Parse "A+B+C" into m's items; 0 or -1. */
static int add_items(struct floor_mode *m, const char *list) {
  for (const char *p = list;;) {
    const char *e = strchr(p, '+');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (add_item(m, p, len) < 0) return -1;
    if (!e) return 0;
    p = e + 1;
  }
}

int floor_parse(const char *mode, const char *proc, struct floor_mode *m) {
  memset(m, 0, sizeof *m);
  m->proc = proc ? proc : "/proc";
  if (strcmp(mode, "stat") == 0) return add_items(m, "stat");
  if (strcmp(mode, "ps-ef") == 0) return add_items(m, "/stat+stat+status+cmdline");
  if (strcmp(mode, "threads") == 0) return add_items(m, "task/stat");
  if (strncmp(mode, "read:", 5) == 0) return add_items(m, mode + 5);
  if (strncmp(mode, "dir:", 4) == 0) {
    m->piddir = 1;
    return add_items(m, mode + 4);
  }
  if (strncmp(mode, "pid=", 4) == 0) {
    char *end;
    long v = strtol(mode + 4, &end, 10);
    if (*end || v <= 0) return -1;
    m->pid = v;
    return add_items(m, "/stat+stat+status+cmdline");
  }
  return -1;
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

/* The entries of dirfd/path but . and .. (getdents64 until 0), or -1. */
static long entries(int dirfd, const char *path) {
  int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  long n = 0;
  for (;;) {
    long got = syscall(SYS_getdents64, fd, dentbuf2, sizeof dentbuf2);
    if (got <= 0) break;
    for (long off = 0; off < got;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(dentbuf2 + off);
      off += d->d_reclen;
      if (d->d_name[0] != '.') n++;
    }
  }
  close(fd);
  return n;
}

/* "PID/name" into out without snprintf. */
static void pidpath(char *out, const char *pid, size_t plen, const char *name) {
  memcpy(out, pid, plen);
  out[plen] = '/';
  strcpy(out + plen + 1, name);
}

/*
** PID/task/, then PID/task/TID/name for each thread: threads read, or -1
** when the process has gone. Each thread is read as its entry comes out of
** getdents64, with no list kept: the least a thread scan can do.
*/
static long tasks(int procfd, const char *pid, size_t plen, const char *name, struct floor_result *r) {
  char path[64 + FLOOR_ITEMLEN];
  pidpath(path, pid, plen, "task");
  int fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  path[plen + 5] = '/';
  long nt = 0;
  for (;;) {
    long got = syscall(SYS_getdents64, fd, dentbuf2, sizeof dentbuf2);
    if (got <= 0) break;
    for (long off = 0; off < got;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(dentbuf2 + off);
      off += d->d_reclen;
      if (d->d_name[0] < '1' || d->d_name[0] > '9') continue;
      /* PID/task/TID/name */
      size_t tlen = strlen(d->d_name), at = plen + 6;
      memcpy(path + at, d->d_name, tlen);
      path[at + tlen] = '/';
      strcpy(path + at + tlen + 1, name);
      long n = slurp(procfd, path);
      if (n < 0) continue; /* that thread has gone */
      r->bytes += n;
      nt++;
    }
  }
  close(fd);
  return nt;
}

static void one(int procfd, const char *pid, size_t plen, const struct floor_mode *m, struct floor_result *r) {
  char path[64 + FLOOR_ITEMLEN];
  long n, got = 0, rows = 1;
  int first = 1, gone = 0, dirfd = procfd;
  if (m->piddir) {
    memcpy(path, pid, plen);
    path[plen] = 0;
    if ((dirfd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) return; /* gone */
  }
  for (int i = 0; i < m->nitems; i++) {
    const struct floor_item *f = &m->item[i];
    if (f->kind == FLOOR_ONCE) continue;
    if (f->kind == FLOOR_TASKS) {
      n = tasks(procfd, pid, plen, f->name, r);
      if (n >= 0) rows = n;
    } else {
      const char *name = f->name;
      if (!m->piddir) {
        pidpath(path, pid, plen, f->name);
        name = path;
      }
      n = f->kind == FLOOR_DIR ? entries(dirfd, name) : slurp(dirfd, name);
    }
    if (n < 0 && first) {
      gone = 1; /* not counted */
      break;
    }
    first = 0;
    if (n > 0 && f->kind != FLOOR_TASKS) got += n;
  }
  if (dirfd != procfd) close(dirfd);
  if (gone) return;
  r->procs += rows;
  r->bytes += got;
}

int floor_scan(const struct floor_mode *m, struct floor_result *r) {
  r->procs = 0;
  r->bytes = 0;
  int procfd = open(m->proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0) return -errno;
  for (int i = 0; i < m->nitems; i++) {
    if (m->item[i].kind != FLOOR_ONCE) continue;
    long n = slurp(procfd, m->item[i].name);
    if (n > 0) r->bytes += n;
  }
  if (m->pid) {
    char pid[24];
    int plen = snprintf(pid, sizeof pid, "%ld", m->pid);
    one(procfd, pid, (size_t)plen, m, r);
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
      one(procfd, d->d_name, strlen(d->d_name), m, r);
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
  fprintf(stderr, "usage: floor [-n RUNS] [-w WARMUP] [-p PROCDIR] stat|ps-ef|pid=X|threads|read:ITEMS|dir:ITEMS\n");
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
