/*
** snap.c: one snapshot of the processes of a PID namespace.
**
** psnap_open() takes the process list and the reference time ("now") once,
** so every row of a scan refers to the same instant. psnap_next() opens the
** next process's directory and reads the files the requested sources need,
** each once, all through that one directory fd: if the pid is reused while
** we read, the old directory answers ENOENT/ESRCH instead of mixing two
** processes in one row. A process that is gone is skipped; a file that
** cannot be read (EACCES) leaves its columns NULL.
*/
#include "snap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

/* The largest cmdline kept (Linux caps argv+envp at 1/4 of the stack limit). */
#define CMDLINE_MAX (64u << 20)
#define SMALL_MAX (1u << 20)

/* Fill an error: the code and a printf-style message. */
void snap_err(struct psnap_err *e, int code, const char *fmt, ...) {
  if (!e) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
  va_end(ap);
  e->code = code ? code : EIO;
  /* Messages are lower case: strerror()'s "Permission denied" ends ours
     as "permission denied". */
  char *last = strrchr(e->msg, ':');
  if (last && last[1] == ' ' && last[2] >= 'A' && last[2] <= 'Z' && last[3] >= 'a' && last[3] <= 'z')
    last[2] = (char)(last[2] - 'A' + 'a');
}

/*
** Open a file below a directory of the snapshot. Inside a container the
** directory tree is the container's, which could mount or link things over
** /proc/PID/...: there the open refuses symlinks and mount crossings
** (openat2 RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV), so a path never leads back
** into the caller's filesystem. Returns the fd or -errno.
*/
int snap_openat(struct psnap *s, int dirfd, const char *name, int flags) {
  int fd;
  s->opened++;
  if (s->hardened) {
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW),
                           .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_BENEATH};
    fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) return fd < 0 ? -errno : fd;
  }
  fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  return fd < 0 ? -errno : fd;
}

/* Make room for need bytes in the scratch buffer: 0 or -ENOMEM. */
int snap_scratch(struct psnap *s, size_t need) {
  if (s->scratch.cap >= need) return 0;
  size_t ncap = s->scratch.cap ? s->scratch.cap : 256;
  while (ncap < need) ncap *= 2;
  char *p = psnap_realloc(s->scratch.p, ncap);
  if (!p) {
    s->nomem = 1;
    return -ENOMEM;
  }
  s->scratch.p = p;
  s->scratch.cap = ncap;
  return 0;
}

static int cmp_ll(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

/* Append a pid to the visit list. */
static int push_pid(struct psnap *s, size_t *cap, long long pid) {
  if (s->npids == *cap) {
    size_t ncap = *cap ? *cap * 2 : 512;
    long long *np = psnap_realloc(s->pids, ncap * sizeof *np);
    if (!np) return -ENOMEM;
    s->pids = np;
    *cap = ncap;
  }
  s->pids[s->npids++] = pid;
  return 0;
}

/*
** The pids to visit: the ones asked for, or every numeric entry of the
** /proc directory. Sorted and without duplicates. 0 or -errno.
*/
static int list_pids(struct psnap *s) {
  size_t cap = 0;
  int rc = 0;
  if (s->mode == MODE_FALLBACK) {
    /* Members are known already; visit them in the target's pid order. */
    for (size_t i = 0; i < s->nmem && rc == 0; i++) {
      long long c = s->memc[i].cpid;
      if (s->cfg.pids && !bsearch(&c, s->cfg.pids, s->cfg.npids, sizeof c, cmp_ll)) continue;
      rc = push_pid(s, &cap, c);
    }
    return rc;
  }
  if (s->cfg.pids) {
    for (size_t i = 0; i < s->cfg.npids && rc == 0; i++)
      if (s->cfg.pids[i] > 0 && s->cfg.pids[i] <= INT_MAX) rc = push_pid(s, &cap, s->cfg.pids[i]);
    return rc;
  }
  int fd = dup(s->procfd);
  if (fd < 0) return -errno;
  lseek(fd, 0, SEEK_SET);
  DIR *d = fdopendir(fd);
  if (!d) {
    rc = -errno;
    close(fd);
    return rc;
  }
  struct dirent *de;
  errno = 0;
  while (rc == 0 && (de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    if (*n < '1' || *n > '9') continue;
    long long v = 0;
    for (; *n >= '0' && *n <= '9' && v <= INT_MAX; n++) v = v * 10 + (*n - '0');
    if (*n == '\0' && v <= INT_MAX) rc = push_pid(s, &cap, v);
  }
  closedir(d);
  if (rc == 0 && s->npids > 1) qsort(s->pids, s->npids, sizeof *s->pids, cmp_ll);
  return rc;
}

/* Read /proc/stat's btime: the boot time that ps's start times use. */
static void read_btime(struct psnap *s) {
  struct psnap_buf b = {0};
  s->btime = 0;
  s->opened++;
  if (psnap_readat(s->hostfd, "stat", 0, &b, 4u << 20) == 0) {
    const char *p = strstr(b.p, "\nbtime ");
    unsigned long long v;
    if (p) {
      p += 7;
      if (psnap_next_uint(&p, b.p + b.len, &v)) s->btime = (long long)v;
    }
  }
  psnap_buf_free(&b);
}

/*
** Open a snapshot. The target (cfg->target > 0) is resolved and, when it
** lives in another PID namespace, its mount namespace is joined on a
** helper thread (ns.c). Returns 0 with *out set, or -errno with err set.
*/
int psnap_open(struct psnap **out, const struct psnap_cfg *cfg, struct psnap_err *err) {
  *out = NULL;
  if (err) err->code = 0, err->msg[0] = '\0';
  struct psnap *s = psnap_calloc(sizeof *s);
  if (!s) {
    snap_err(err, ENOMEM, "out of memory");
    return -ENOMEM;
  }
  s->cfg = *cfg;
  s->cfg.pids = NULL;
  s->src = cfg->src | PSNAP_SRC_STAT;
  s->procfd = s->hostfd = s->devfd = -1;
  s->target = cfg->target;
  int rc;
  if (cfg->pids) {
    long long *p = psnap_malloc((cfg->npids ? cfg->npids : 1) * sizeof *p);
    if (!p) {
      rc = -ENOMEM;
      snap_err(err, ENOMEM, "out of memory");
      goto fail;
    }
    memcpy(p, cfg->pids, cfg->npids * sizeof *p);
    qsort(p, cfg->npids, sizeof *p, cmp_ll);
    size_t n = 0;
    for (size_t i = 0; i < cfg->npids; i++)
      if (n == 0 || p[n - 1] != p[i]) p[n++] = p[i];
    s->cfg.pids = p;
    s->cfg.npids = n;
  }
  s->hostfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->hostfd < 0) {
    rc = -errno;
    snap_err(err, errno, "cannot open /proc: %s", strerror(errno));
    goto fail;
  }
  s->opened++;
  s->procfd = s->hostfd;
  s->mode = MODE_HOST;
  s->hz = sysconf(_SC_CLK_TCK);
  if (s->hz <= 0) s->hz = 100;
  s->pagekb = sysconf(_SC_PAGESIZE) / 1024;
  if (s->pagekb <= 0) s->pagekb = 4;
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  s->now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
  if (s->target > 0) {
    rc = ns_open_target(s, err);
    if (rc < 0) goto fail;
  } else if (s->target < 0) {
    rc = -EINVAL;
    snap_err(err, EINVAL, "pidns must be a positive integer, not %lld", s->target);
    goto fail;
  }
  if ((s->src & PSNAP_SRC_HOST) && s->mode == MODE_CONTAINER) {
    rc = ns_members(s);
    if (rc < 0) {
      snap_err(err, -rc, "cannot map the processes of pid %lld to host pids: %s", s->target, strerror(-rc));
      goto fail;
    }
  }
  if (s->src & PSNAP_SRC_BTIME) read_btime(s);
  rc = list_pids(s);
  if (rc < 0) {
    snap_err(err, -rc, "cannot list the processes in /proc: %s", strerror(-rc));
    goto fail;
  }
  *out = s;
  return 0;
fail:
  psnap_close(s);
  return rc;
}

/* The sources read per process (the others are read once per scan). */
#define PER_PROCESS (PSNAP_SRC__ALL & ~(PSNAP_SRC_HOST | PSNAP_SRC_BTIME | PSNAP_SRC_TTY))

/* How a per-process source is read. */
enum how {
  READ, /* the file's contents into a buffer */
  LINK, /* a link's target (readlinkat) into a buffer */
  INODE /* a namespace link's inode, from its target "type:[inode]" */
};

/*
** The per-process sources, in the order they are read. stat comes first:
** it tells whether the process still exists. Only stat, status and
** cmdline always exist for a live process, so ENOENT there means the
** process is gone; for the others (no LSM label, no exe for a kernel
** thread) it only leaves the column NULL.
*/
static const struct source {
  const char *name; /* below /proc/PID */
  size_t max;       /* most bytes kept */
  unsigned bit;     /* PSNAP_SRC_* */
  enum how how;
  int buf;         /* B_* for READ and LINK, NS_* for INODE */
  int enoent_gone; /* ENOENT means the process has exited */
} sources[] = {
    {"stat", SMALL_MAX, PSNAP_SRC_STAT, READ, B_STAT, 1},
    {"status", SMALL_MAX, PSNAP_SRC_STATUS, READ, B_STATUS, 1},
    {"cmdline", CMDLINE_MAX, PSNAP_SRC_CMDLINE, READ, B_CMDLINE, 1},
    {"attr/current", SMALL_MAX, PSNAP_SRC_ATTR, READ, B_ATTR, 0},
    {"cgroup", SMALL_MAX, PSNAP_SRC_CGROUP, READ, B_CGROUP, 0},
    {"wchan", 4096, PSNAP_SRC_WCHAN, READ, B_WCHAN, 0},
    {"syscall", 4096, PSNAP_SRC_SYSCALL, READ, B_SYSCALL, 0},
    {"exe", 0, PSNAP_SRC_EXE, LINK, B_EXE, 0},
    {"cwd", 0, PSNAP_SRC_CWD, LINK, B_CWD, 0},
    {"ns/pid", 0, PSNAP_SRC_NS_PID, INODE, NS_PID, 0},
    {"ns/mnt", 0, PSNAP_SRC_NS_MNT, INODE, NS_MNT, 0},
    {"ns/net", 0, PSNAP_SRC_NS_NET, INODE, NS_NET, 0},
    {"ns/user", 0, PSNAP_SRC_NS_USER, INODE, NS_USER, 0},
    {"ns/uts", 0, PSNAP_SRC_NS_UTS, INODE, NS_UTS, 0},
    {"ns/ipc", 0, PSNAP_SRC_NS_IPC, INODE, NS_IPC, 0},
    {"ns/cgroup", 0, PSNAP_SRC_NS_CGROUP, INODE, NS_CGROUP, 0},
};

/*
** Read a link's target into b: 0 or -errno. readlinkat never follows the
** link, so a container's links cannot lead us anywhere; the text they
** return is only text.
*/
static int read_link(int dirfd, const char *name, struct psnap_buf *b) {
  for (;;) {
    if (b->cap < 256) {
      char *np = psnap_realloc(b->p, 256);
      if (!np) return -ENOMEM;
      b->p = np;
      b->cap = 256;
    }
    ssize_t n = readlinkat(dirfd, name, b->p, b->cap - 1);
    if (n < 0) return -errno;
    if ((size_t)n < b->cap - 1) {
      b->len = (size_t)n;
      b->p[n] = '\0';
      return 0;
    }
    if (b->cap >= (1u << 20)) return -ENAMETOOLONG;
    char *np = psnap_realloc(b->p, b->cap * 2);
    if (!np) return -ENOMEM;
    b->p = np;
    b->cap *= 2;
  }
}

/*
** Read one source of the current row. Returns 0 (and marks it loaded), 1
** when it cannot be read (its columns will be NULL), -1 when the process
** is gone (skip the row), -2 when out of memory.
*/
static int load(struct psnap *s, int pidfd, const char *path, const struct source *src) {
  int rc;
  struct psnap_buf *b = &s->b[src->buf];
  if (src->how == READ) {
    int fd = snap_openat(s, pidfd, path, O_RDONLY);
    rc = fd < 0 ? fd : psnap_readproc(fd, b, src->max);
    if (fd >= 0) close(fd);
  } else {
    struct psnap_buf *lb = src->how == LINK ? b : &s->scratch;
    s->opened++;
    rc = read_link(pidfd, path, lb);
    if (rc == 0 && src->how == INODE) {
      const char *p = strchr(lb->p, '[');
      unsigned long long ino;
      if (!p || (p++, !psnap_next_uint(&p, lb->p + lb->len, &ino)))
        rc = -EINVAL;
      else
        s->ns[src->buf] = ino;
    }
  }
  if (rc == 0) {
    s->loaded |= src->bit;
    return 0;
  }
  if (rc == -ESRCH || (src->enoent_gone && rc == -ENOENT)) return -1;
  if (rc == -ENOMEM) return -2;
  return 1;
}

/*
** Advance to the next process that still exists. Returns 1 when a row is
** ready, 0 at the end, -errno on a failure that ends the scan (OOM).
*/
int psnap_next(struct psnap *s) {
  char name[24];
  while (s->next < s->npids) {
    long long vpid = s->pids[s->next++];
    int hpid = (int)vpid;
    if (s->mode == MODE_FALLBACK) hpid = ns_host_pid(s, (int)vpid, NULL);
    if (hpid <= 0) continue;
    int dirfd = s->mode == MODE_FALLBACK ? s->hostfd : s->procfd;
    int rc = 0;
    s->loaded = 0;
    if ((s->src & PER_PROCESS) == PSNAP_SRC_STAT) {
      /* One file: no directory fd is needed to keep a row consistent. */
      snprintf(name, sizeof name, "%d/stat", hpid);
      rc = load(s, dirfd, name, &sources[0]);
    } else {
      snprintf(name, sizeof name, "%d", hpid);
      int pidfd = snap_openat(s, dirfd, name, O_RDONLY | O_DIRECTORY);
      if (pidfd < 0) {
        if (pidfd == -ENOMEM) return -ENOMEM;
        continue; /* gone, or not a process directory */
      }
      for (size_t i = 0; i < sizeof sources / sizeof sources[0] && rc == 0; i++) {
        if (s->src & sources[i].bit) rc = load(s, pidfd, sources[i].name, &sources[i]);
        if (rc == 0 && sources[i].bit == PSNAP_SRC_STATUS && (s->loaded & PSNAP_SRC_STATUS))
          psnap_parse_status(s->b[B_STATUS].p, s->b[B_STATUS].len, &s->ss);
        if (rc > 0 && sources[i].bit != PSNAP_SRC_STAT) rc = 0;
      }
      close(pidfd);
    }
    /* stat tells whether the process is still there */
    if (rc == 0 && psnap_parse_stat(s->b[B_STAT].p, s->b[B_STAT].len, &s->st) < 0) rc = -1;
    if (rc > 0) rc = -1;
    if (rc == -2) return -ENOMEM;
    if (rc < 0) continue;
    /* A member's host pid taken by a process outside the namespace: the
       member is gone, whoever holds its pid now. */
    if (s->mode == MODE_FALLBACK && !ns_still_member(s, (int)vpid, hpid)) continue;
    s->pid = (int)vpid;
    s->hpid = s->mode == MODE_CONTAINER ? 0 : hpid;
    if (s->mode == MODE_CONTAINER && s->have_mem) s->hpid = ns_host_pid(s, s->pid, &s->st.start);
    if (s->mode == MODE_FALLBACK) {
      /* stat shows host pids here: translate them into the target's view */
      s->st.ppid = ns_view_pid(s, s->st.ppid);
      s->st.pgrp = ns_view_pid(s, s->st.pgrp);
      s->st.session = ns_view_pid(s, s->st.session);
    }
    return 1;
  }
  return 0;
}

/*
** The value of one column of the current row: 0, or -ENOMEM when memory
** ran out while making it (the value is then NULL).
*/
int psnap_column(struct psnap *s, int col, struct psnap_value *v) {
  memset(v, 0, sizeof *v);
  v->type = PSNAP_NULL;
  if (col < 0 || col >= PSNAP_COL__COUNT) return 0;
  const struct psnap_desc *d = &psnap_cols[col];
  /* per-process sources that failed leave the column NULL */
  unsigned need = d->src & PER_PROCESS;
  if ((s->loaded & need) != need) return 0;
  s->nomem = 0;
  d->get(s, v);
  if (!s->nomem) return 0;
  v->type = PSNAP_NULL;
  return -ENOMEM;
}

/*
** A rowid that names the process, the same in every scan of a statement
** (SQLite's OR optimisation merges scans by rowid): the pid on the host,
** the pid with the namespace's inode above it in a container.
*/
long long psnap_rowid(const struct psnap *s) {
  if (s->mode == MODE_HOST) return s->pid;
  return (long long)((s->target_ns & 0x7fffffffu) << 32) | (long long)(unsigned)s->pid;
}
const struct psnap_err *psnap_error(const struct psnap *s) { return &s->err; }
unsigned long psnap_files_opened(const struct psnap *s) { return s->opened; }

/* Close a snapshot and free everything it holds (NULL is fine). */
void psnap_close(struct psnap *s) {
  if (!s) return;
  if (s->procfd >= 0 && s->procfd != s->hostfd) close(s->procfd);
  if (s->hostfd >= 0) close(s->hostfd);
  if (s->devfd >= 0) close(s->devfd);
  psnap_free(s->pids);
  psnap_free((void *)s->cfg.pids);
  psnap_free(s->mem);
  psnap_free(s->memc);
  for (int i = 0; i < B__COUNT; i++) psnap_buf_free(&s->b[i]);
  psnap_buf_free(&s->scratch);
  psnap_idtab_free(&s->pw);
  psnap_idtab_free(&s->gr);
  names_free(s);
  psnap_free(s->caps);
  psnap_free(s);
}

/*
** The PID namespace inode of a pid in the caller's view. Reading ns/pid
** needs ptrace access to the process; when that is refused, a process
** whose status shows a single NSpid level is in the caller's own
** namespace, whose inode /proc/self/ns/pid gives. 0 or -errno with err set.
*/
int psnap_pidns_inode(long long pid, uint64_t *ino, struct psnap_err *err) {
  char path[64];
  struct stat st;
  if (pid <= 0) {
    snap_err(err, EINVAL, "pidns must be a positive integer (a pid), not %lld", pid);
    return -EINVAL;
  }
  if (pid > INT_MAX) {
    snap_err(err, ESRCH, "no process %lld (pids end at %d)", pid, INT_MAX);
    return -ESRCH;
  }
  snprintf(path, sizeof path, "/proc/%lld/ns/pid", pid);
  if (stat(path, &st) == 0) {
    *ino = (uint64_t)st.st_ino;
    return 0;
  }
  int e = errno;
  if (e == ENOENT || e == ESRCH) {
    snap_err(err, ESRCH, "no process %lld", pid);
    return -ESRCH;
  }
  struct psnap_buf b = {0};
  struct psnap_status ss;
  snprintf(path, sizeof path, "/proc/%lld/status", pid);
  int levels = 0;
  if (psnap_readat(AT_FDCWD, path, 0, &b, 1u << 20) == 0) {
    psnap_parse_status(b.p, b.len, &ss);
    const char *p = ss.nspid;
    unsigned long long v;
    while (p && psnap_next_uint(&p, ss.nspid + ss.nspid_len, &v)) levels++;
  }
  psnap_buf_free(&b);
  if (levels == 1 && stat("/proc/self/ns/pid", &st) == 0) {
    *ino = (uint64_t)st.st_ino;
    return 0;
  }
  snap_err(err, e, "cannot read the PID namespace of pid %lld: %s", pid, strerror(e));
  return -e;
}
