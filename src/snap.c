/*
** snap.c: one snapshot of the processes of a PID namespace.
**
** psnap_open() chooses the view (ns.c: the caller's namespace or another),
** takes the process list and the reference time ("now") once, so every row
** of a scan refers to the same instant. psnap_next() is one loop for every
** view: it opens the next process's directory in the caller's /proc and
** reads the files the requested sources need, each once, all through that
** one directory fd: if the pid is reused while we read, the old directory
** answers ENOENT/ESRCH instead of mixing two processes in one row. A
** process that is gone is skipped; a file that cannot be read (EACCES)
** leaves its columns NULL.
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

/* Open a file below a directory of the caller's /proc: the fd or -errno. */
int snap_openat(struct psnap *s, int dirfd, const char *name, int flags) {
  s->opened++;
  int fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
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

/* Append a pid to the visit list. 0 or -ENOMEM. */
int snap_push_pid(struct psnap *s, size_t *cap, long long pid) {
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
** Call fn for every process directory of a /proc (its numeric entries), in
** directory order, until fn returns non-zero. The one walker of /proc.
** Returns 0, fn's value, or -errno.
*/
int snap_walk(int procfd, int (*fn)(void *arg, int pid), void *arg) {
  int fd = dup(procfd);
  if (fd < 0) return -errno;
  lseek(fd, 0, SEEK_SET);
  DIR *d = fdopendir(fd);
  if (!d) {
    int rc = -errno;
    close(fd);
    return rc;
  }
  int rc = 0;
  struct dirent *de;
  while (rc == 0 && (de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    if (*n < '1' || *n > '9') continue;
    long long v = 0;
    for (; *n >= '0' && *n <= '9' && v <= INT_MAX; n++) v = v * 10 + (*n - '0');
    if (*n == '\0' && v <= INT_MAX) rc = fn(arg, (int)v);
  }
  closedir(d);
  return rc;
}

/* Read /proc/stat's btime: the boot time that ps's start times use. */
static void read_btime(struct psnap *s) {
  struct psnap_buf b = {0};
  s->btime = 0;
  s->opened++;
  if (psnap_readat(s->procfd, "stat", 0, &b, PSNAP_SMALL_MAX) == 0) {
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
** Open a snapshot: resolve nothing twice (the target comes resolved, or is
** resolved here), choose the view, list the processes to visit and borrow
** the container's names when a column needs them. Returns 0 with *out set,
** or -errno with err set.
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
  s->census = cfg->census;
  s->procfd = -1;
  if (cfg->target) s->target = *cfg->target;
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
  s->procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->procfd < 0) {
    rc = -errno;
    snap_err(err, errno, "cannot open /proc: %s", strerror(errno));
    goto fail;
  }
  s->opened++;
  s->hz = sysconf(_SC_CLK_TCK);
  if (s->hz <= 0) s->hz = 100;
  s->pagekb = sysconf(_SC_PAGESIZE) / 1024;
  if (s->pagekb <= 0) s->pagekb = 4;
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  s->now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
  rc = ns_open_view(s, err);
  if (rc < 0) goto fail;
  s->src = cfg->src | PSNAP_SRC_STAT | s->view->need;
  if (s->src & PSNAP_SRC_BTIME) read_btime(s);
  rc = s->view->list(s);
  if (rc < 0) {
    snap_err(err, -rc, "cannot list the processes in /proc: %s", strerror(-rc));
    goto fail;
  }
  rc = ns_lend(s, err);
  if (rc < 0) goto fail;
  *out = s;
  return 0;
fail:
  psnap_close(s);
  return rc;
}

/* The sources read per process (the others are read once per scan). */
#define PER_PROCESS (PSNAP_SRC__ALL & ~(PSNAP_SRC_BTIME | PSNAP_SRC_TTY | PSNAP_SRC_NAMES))

/* How a per-process source is read. */
enum how {
  READ, /* the file's contents into a buffer */
  LINK, /* a link's target (readlinkat) into a buffer */
  INODE /* a namespace link's inode, from its target "type:[inode]" */
};

/*
** The per-process sources, in the order they are read. status comes first:
** in another namespace it tells the process's pid there, and a scan for
** one pid skips the others before reading more. Only stat, status and
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
    {"status", PSNAP_SMALL_MAX, PSNAP_SRC_STATUS, READ, B_STATUS, 1},
    {"stat", PSNAP_SMALL_MAX, PSNAP_SRC_STAT, READ, B_STAT, 1},
    {"cmdline", PSNAP_CMDLINE_MAX, PSNAP_SRC_CMDLINE, READ, B_CMDLINE, 1},
    {"attr/current", PSNAP_SMALL_MAX, PSNAP_SRC_ATTR, READ, B_ATTR, 0},
    {"cgroup", PSNAP_SMALL_MAX, PSNAP_SRC_CGROUP, READ, B_CGROUP, 0},
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
    if (b->cap >= PSNAP_SMALL_MAX) return -ENAMETOOLONG;
    char *np = psnap_realloc(b->p, b->cap * 2);
    if (!np) return -ENOMEM;
    b->p = np;
    b->cap *= 2;
  }
}

/* Read one source of the current row, and mark it loaded: 0 or -errno. */
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
  if (rc == 0 && src->bit == PSNAP_SRC_STAT && psnap_parse_stat(b->p, b->len, &s->st) < 0) rc = -EINVAL;
  if (rc == 0) s->loaded |= src->bit;
  return rc;
}

/*
** What a failed read means for the row: skip it (-ESRCH) when the process
** is gone or when the row cannot be made without the source (stat, and
** what the view needs: status in another namespace); otherwise 0, and the
** source's columns are NULL. -ENOMEM stays -ENOMEM.
*/
static int failed(const struct psnap *s, const struct source *src, int rc) {
  if (rc == -ENOMEM) return rc;
  if (rc == -ESRCH || (src->enoent_gone && rc == -ENOENT)) return -ESRCH;
  return src->bit & (PSNAP_SRC_STAT | s->view->need) ? -ESRCH : 0;
}

/*
** Read the current row's sources through its directory fd. 0 when the
** row is complete, -ESRCH to skip it, or -ENOMEM.
*/
static int load_row(struct psnap *s, int pidfd) {
  for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
    const struct source *src = &sources[i];
    if (!(s->src & src->bit)) continue;
    int rc = load(s, pidfd, src->name, src);
    if (rc < 0) rc = failed(s, src, rc);
    if (rc < 0) return rc;
    if (src->bit == PSNAP_SRC_STATUS && (s->loaded & PSNAP_SRC_STATUS)) {
      psnap_parse_status(s->b[B_STATUS].p, s->b[B_STATUS].len, &s->ss);
      rc = s->view->after_status(s); /* not in the view, or not asked for */
      if (rc < 0) return rc;
    }
  }
  return 0;
}

/*
** Advance to the next process that still exists. Returns 1 when a row is
** ready, 0 at the end, -errno on a failure that ends the scan (OOM; the
** message is in psnap_error()).
*/
int psnap_next(struct psnap *s) {
  char name[24];
  while (s->next < s->npids) {
    s->hpid = (int)s->pids[s->next++];
    s->pid = s->hpid;
    s->loaded = 0;
    int rc, pidfd = -1;
    if ((s->src & PER_PROCESS & ~PSNAP_SRC_PARENT) == PSNAP_SRC_STAT) {
      /* One file: no directory fd is needed to keep a row consistent. */
      snprintf(name, sizeof name, "%d/stat", s->hpid);
      rc = load(s, s->procfd, name, &sources[1]);
      if (rc < 0) rc = failed(s, &sources[1], rc);
    } else {
      snprintf(name, sizeof name, "%d", s->hpid);
      pidfd = snap_openat(s, s->procfd, name, O_RDONLY | O_DIRECTORY);
      rc = pidfd == -ENOMEM ? -ENOMEM : pidfd < 0 ? -ESRCH : load_row(s, pidfd);
    }
    if (rc == 0) rc = s->view->finish(s, pidfd);
    if (pidfd >= 0) close(pidfd);
    if (rc == 0) return 1;
    if (rc != -ESRCH) {
      snap_err(&s->err, -rc, "cannot read process %d: %s", s->hpid, strerror(-rc));
      return rc;
    }
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
** (SQLite's OR optimisation merges scans by rowid): the host pid, with the
** namespace's inode above it in another namespace (a process of a nested
** namespace is listed by both).
*/
long long psnap_rowid(const struct psnap *s) {
  if (s->target.level == 0) return s->hpid;
  return (long long)((s->target.ns & 0x7fffffffu) << 32) | (long long)(unsigned)s->hpid;
}
const struct psnap_err *psnap_error(const struct psnap *s) { return &s->err; }
unsigned long psnap_files_opened(const struct psnap *s) { return s->opened; }

/* Close a snapshot and free everything it holds (NULL is fine). */
void psnap_close(struct psnap *s) {
  if (!s) return;
  if (s->procfd >= 0) close(s->procfd);
  if (s->own_census) psnap_census_free(s->census);
  psnap_free(s->pids);
  psnap_free((void *)s->cfg.pids);
  psnap_free(s->parents);
  for (int i = 0; i < B__COUNT; i++) psnap_buf_free(&s->b[i]);
  psnap_buf_free(&s->scratch);
  lend_free(&s->lent);
  names_free(s);
  psnap_free(s->caps);
  psnap_free(s);
}
