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
**
** A thread scan (cfg.threads) lists the same processes, then for each one
** the entries of /proc/HPID/task, read through the process's directory fd:
** a row per thread, from the thread's own stat, status, wchan, syscall.
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

/* Open a file below a directory of the caller's /proc: the fd or -errno. */
static int snap_openat(struct psnap *s, int dirfd, const char *name, int flags) {
  s->opened++;
  int fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  return fd < 0 ? -errno : fd;
}

static int cmp_ll(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
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

/* Read /proc/meminfo's MemTotal (KiB), once per scan: pmem's divisor. */
static void read_memtotal(struct psnap *s) {
  static const char *const key[] = {"MemTotal"};
  struct psnap_buf b = {0};
  long long v = -1;
  s->memtotal = 0;
  s->opened++;
  if (psnap_readat(s->procfd, "meminfo", 0, &b, PSNAP_SMALL_MAX) == 0) psnap_parse_fields(b.p, b.len, key, 1, &v);
  if (v > 0) s->memtotal = v;
  psnap_buf_free(&b);
}

static int first_reads(struct psnap *s);
static int next_process(struct psnap *s);
static int next_thread(struct psnap *s);

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
    psnap_seterr(err, ENOMEM, "out of memory");
    return -ENOMEM;
  }
  s->cfg = *cfg;
  s->cfg.pids = NULL;
  s->census = cfg->census;
  s->procfd = -1;
  s->taskfd = -1;
  s->rowfd = -1;
  /* a row per process, or per thread: chosen once */
  s->cols = cfg->threads ? psnap_thread_cols : psnap_cols;
  s->ncols = cfg->threads ? PSNAP_TCOL__COUNT : PSNAP_COL__COUNT;
  s->next_row = cfg->threads ? next_thread : next_process;
  if (cfg->target) s->target = *cfg->target;
  int rc;
  if (cfg->pids) {
    long long *p = psnap_malloc((cfg->npids ? cfg->npids : 1) * sizeof *p);
    if (!p) {
      rc = -ENOMEM;
      psnap_seterr(err, ENOMEM, "out of memory");
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
    psnap_seterr(err, errno, "cannot open /proc: %s", strerror(errno));
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
  if (cfg->threads) s->src &= PSNAP_SRC_THREAD;
  if (s->src & PSNAP_SRC_BTIME) read_btime(s);
  if (s->src & PSNAP_SRC_MEMINFO) read_memtotal(s);
  rc = s->view->list(s);
  if (rc < 0) {
    psnap_seterr(err, -rc, "cannot list the processes in /proc: %s", strerror(-rc));
    goto fail;
  }
  rc = ns_lend(s, err);
  if (rc < 0) goto fail;
  /* last: the one wait of a one-shot pcpu_now comes just before the rows */
  if ((s->src & PSNAP_SRC_CPUNOW) && ((rc = cpunow_open(s)) < 0 || (s->cfg.sample > 0 && (rc = first_reads(s)) < 0))) {
    psnap_seterr(err, -rc, "cannot read the processes' CPU times: %s", strerror(-rc));
    goto fail;
  }
  if ((s->src & PSNAP_SRC_CPUNOW) && s->cfg.sample > 0) {
    cpunow_wait(s);
    /* after the wait, list again: a process born meanwhile has a row (in
       another namespace the census, taken once per statement, decides);
       and the scan's instant (etime, pcpu) is now, not before the wait */
    struct timespec now;
    clock_gettime(CLOCK_BOOTTIME, &now);
    s->now = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    s->npids = 0;
    rc = s->view->list(s);
    if (rc < 0) {
      psnap_seterr(err, -rc, "cannot list the processes in /proc: %s", strerror(-rc));
      goto fail;
    }
  }
  *out = s;
  return 0;
fail:
  psnap_close(s);
  return rc;
}

/* How a per-process source is read. */
enum how {
  READ,  /* the file's contents into a buffer */
  LINK,  /* a link's target (readlinkat) into a buffer */
  INODE, /* a namespace link's inode, from its target "type:[inode]" */
  COUNT  /* a directory's entries, counted (fd/) */
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
    {"smaps_rollup", PSNAP_SMALL_MAX, PSNAP_SRC_SMAPS, READ, B_SMAPS, 0},
    {"io", 4096, PSNAP_SRC_IO, READ, B_IO, 0},
    {"oom_score", 64, PSNAP_SRC_OOM_SCORE, READ, B_OOM_SCORE, 0},
    {"oom_score_adj", 64, PSNAP_SRC_OOM_ADJ, READ, B_OOM_ADJ, 0},
    {"fd", 0, PSNAP_SRC_FD, COUNT, 0, 0},
};

/*
** The entries of a directory below pidfd, without "." and "..": the
** number of open file descriptors, for fd/. getdents64 into a buffer on
** the stack: no allocation, whatever the count. Returns it, or -errno.
*/
static long long count_entries(struct psnap *s, int pidfd, const char *name) {
  int fd = snap_openat(s, pidfd, name, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fd;
  char buf[8192];
  long long n = 0;
  for (;;) {
    ssize_t r = getdents64(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (r < 0) n = -errno;
      break;
    }
    for (ssize_t off = 0; off < r;) {
      const struct dirent64 *d = (const struct dirent64 *)(void *)(buf + off);
      if (d->d_reclen == 0) break;
      if (!(d->d_name[0] == '.' && (d->d_name[1] == '\0' || (d->d_name[1] == '.' && d->d_name[2] == '\0')))) n++;
      off += d->d_reclen;
    }
  }
  close(fd);
  return n;
}

/* Parse what a source's columns need from its buffer, once per row. */
static void parse_source(struct psnap *s, unsigned bit) {
  static const char *const smkey[SM__COUNT] = {
      [SM_PSS] = "Pss", [SM_PRIVATE_CLEAN] = "Private_Clean", [SM_PRIVATE_DIRTY] = "Private_Dirty"};
  static const char *const iokey[IO__COUNT] = {
      [IO_RCHAR] = "rchar", [IO_WCHAR] = "wchar", [IO_READ_BYTES] = "read_bytes", [IO_WRITE_BYTES] = "write_bytes",
      [IO_SYSCR] = "syscr", [IO_SYSCW] = "syscw"};
  const struct psnap_buf *b = &s->b[bit == PSNAP_SRC_SMAPS ? B_SMAPS : B_IO];
  const char *p = b->p ? b->p : "";
  if (bit == PSNAP_SRC_SMAPS) psnap_parse_fields(p, b->len, smkey, SM__COUNT, s->sm);
  if (bit == PSNAP_SRC_IO) psnap_parse_fields(p, b->len, iokey, IO__COUNT, s->io);
}

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
  s->tried |= src->bit;
  if (src->how == READ) {
    int fd = snap_openat(s, pidfd, path, O_RDONLY);
    rc = fd < 0 ? fd : psnap_readproc(fd, b, src->max);
    if (fd >= 0) close(fd);
    /* smaps_rollup answers ESRCH to a read when the process has no memory
       (a kernel thread, a zombie): it is there, with nothing mapped */
    if (rc == -ESRCH && src->bit == PSNAP_SRC_SMAPS) {
      b->len = 0;
      rc = 0;
    }
  } else if (src->how == COUNT) {
    long long n = count_entries(s, pidfd, path);
    rc = n < 0 ? (int)n : 0;
    s->nfds = n;
  } else if (src->how == LINK) {
    s->opened++;
    rc = read_link(pidfd, path, b);
  } else {
    /* a namespace link reads "type:[inode]" */
    char link[64];
    s->opened++;
    ssize_t n = readlinkat(pidfd, path, link, sizeof link - 1);
    const char *p = n > 0 ? memchr(link, '[', (size_t)n) : NULL;
    unsigned long long ino;
    rc = n < 0 ? -errno : 0;
    if (rc == 0 && (!p || (p++, !psnap_next_uint(&p, link + n, &ino))))
      rc = -EINVAL;
    else if (rc == 0)
      s->ns[src->buf] = ino;
  }
  /* A process being reaped still answers, with 0 threads (and ppid, pgid,
     sid 0: its signal state is gone): it has exited. */
  if (rc == 0 && src->bit == PSNAP_SRC_STAT && psnap_parse_stat(b->p, b->len, &s->st) < 0) rc = -EINVAL;
  if (rc == 0 && src->bit == PSNAP_SRC_STAT && s->st.num_threads == 0) rc = -ESRCH;
  if (rc == 0 && src->bit == PSNAP_SRC_STAT && s->cpu.on) s->row_t = snap_clock(); /* pcpu_now: this row's instant */
  if (rc == 0 && (src->bit & (PSNAP_SRC_SMAPS | PSNAP_SRC_IO))) parse_source(s, src->bit);
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
  return (src->bit & (PSNAP_SRC_STAT | s->view->need)) ? -ESRCH : 0;
}

/*
** Read the sources of mask for the current row through its directory fd,
** in the order of sources[]; once status is read, on_status() says whose
** row it is (0 keeps it). 0 when the row is complete, -ESRCH to skip it,
** or -ENOMEM.
*/
static int load_row(struct psnap *s, int dirfd, unsigned mask, int (*on_status)(struct psnap *)) {
  for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
    const struct source *src = &sources[i];
    if (!(mask & src->bit)) continue;
    int rc = load(s, dirfd, src->name, src);
    if (rc < 0) rc = failed(s, src, rc);
    if (rc < 0) return rc;
    if (src->bit == PSNAP_SRC_STATUS && (s->loaded & PSNAP_SRC_STATUS) && on_status) {
      psnap_parse_status(s->b[B_STATUS].p, s->b[B_STATUS].len, &s->ss);
      rc = on_status(s); /* not in the view, or not asked for */
      if (rc < 0) return rc;
    }
  }
  return 0;
}

/* ---- thread scans (cfg.threads): a row per task of each listed process ---- */

/* The sources read below /proc/PID/task/TID. */
#define SRC_PER_TASK (PSNAP_SRC_THREAD & ~PSNAP_SRC_CPUNOW)

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return x < y ? -1 : x > y;
}

/* Close the current process of a thread scan. */
static void leave_process(struct psnap *s) {
  if (s->taskfd >= 0) close(s->taskfd);
  s->taskfd = -1;
  s->ntids = s->nexttid = 0;
}

/* Append one host tid to the current process's list: 0 or -ENOMEM. */
static int push_tid(void *arg, int tid) {
  struct psnap *s = arg;
  if (s->ntids == s->captids) {
    size_t ncap = s->captids ? s->captids * 2 : 16;
    int *n = psnap_realloc(s->tids, ncap * sizeof *n);
    if (!n) return -ENOMEM;
    s->tids = n;
    s->captids = ncap;
  }
  s->tids[s->ntids++] = tid;
  return 0;
}

/* The host tids of the current process's task/ directory, sorted: 0 or -errno. */
static int list_tasks(struct psnap *s) {
  int fd = snap_openat(s, s->taskfd, "task", O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fd;
  int rc = psnap_walk_pids(fd, push_tid, s); /* the /proc walker: task/ holds numeric entries too */
  close(fd);
  if (rc == 0) qsort(s->tids, s->ntids, sizeof *s->tids, cmp_int);
  return rc;
}

/*
** Enter process hpid: open its directory (every thread is read through
** it, so a pid reused meanwhile answers ENOENT instead of lending its
** threads), let the view decide that it belongs (in another namespace its
** status gives its pid there, which a pid constraint must match; a pid
** asked for must lead its thread group), and list its threads. 0, -ESRCH
** (gone, or not in the view) or -ENOMEM.
*/
static int enter_process(struct psnap *s, int hpid) {
  char name[16];
  leave_process(s);
  s->hpid = s->pid = hpid;
  s->loaded = s->tried = 0;
  snprintf(name, sizeof name, "%d", hpid);
  s->taskfd = snap_openat(s, s->procfd, name, O_RDONLY | O_DIRECTORY);
  if (s->taskfd < 0) return s->taskfd == -ENOMEM ? -ENOMEM : -ESRCH;
  int rc = load_row(s, s->taskfd, s->view->need, s->view->after_status);
  if (rc == 0) rc = s->view->finish(s, s->taskfd);
  if (rc == 0) rc = list_tasks(s);
  if (rc < 0) s->ntids = 0; /* a task/ listing cut short lists nothing */
  return rc == -ENOMEM ? rc : rc < 0 ? -ESRCH : 0;
}

/* After a thread's status: its tid in the view (NSpid at the target's level). */
static int task_after_status(struct psnap *s) {
  unsigned long long v;
  if (!s->ss.nspid || !psnap_list_at(s->ss.nspid, s->ss.nspid_len, s->target.level, &v) || v == 0 || v > INT_MAX)
    return -ESRCH;
  s->tid = (int)v;
  return 0;
}

/*
** Read thread htid of the current process: its stat alone through the
** process's directory, or its own directory for more. 0, -ESRCH (gone,
** or not in the view: a thread is in its process's PID namespace, so
** that means it exited) or -ENOMEM.
*/
static int read_task(struct psnap *s, int htid) {
  char name[32];
  s->htid = s->tid = htid;
  s->loaded = s->tried = 0;
  unsigned mask = s->src & SRC_PER_TASK;
  if (mask == PSNAP_SRC_STAT) {
    snprintf(name, sizeof name, "task/%d/stat", htid);
    int rc = load(s, s->taskfd, name, &sources[1]);
    return rc < 0 ? failed(s, &sources[1], rc) : 0;
  }
  snprintf(name, sizeof name, "task/%d", htid);
  int fd = snap_openat(s, s->taskfd, name, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fd == -ENOMEM ? fd : -ESRCH;
  int rc = load_row(s, fd, mask, task_after_status);
  close(fd);
  return rc;
}

/* The next thread of the listed processes: 1, 0 at the end, -errno. */
static int next_thread(struct psnap *s) {
  for (;;) {
    while (s->nexttid < s->ntids) {
      int rc = read_task(s, s->tids[s->nexttid++]);
      if (rc == 0 && s->cpu.on) rc = cpunow_row(s);
      if (rc == 0) return 1;
      if (rc != -ESRCH) {
        psnap_seterr(&s->err, -rc, "cannot read thread %d of process %d: %s", s->htid, s->hpid, strerror(-rc));
        return rc;
      }
    }
    if (s->next >= s->npids) break;
    int rc = enter_process(s, (int)s->pids[s->next++]);
    if (rc == -ENOMEM) {
      psnap_seterr(&s->err, ENOMEM, "cannot read process %d: %s", s->hpid, strerror(ENOMEM));
      return rc;
    }
  }
  leave_process(s);
  return 0;
}

/*
** One first read of a one-shot pcpu_now: the stat of process or thread id
** at dirfd/name (gone already: no entry). 0 or -ENOMEM.
*/
static int first_read(struct psnap *s, int dirfd, const char *name, int id) {
  struct psnap_buf *b = &s->b[B_STAT];
  struct psnap_stat st;
  s->opened++;
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  if (fd < 0) return 0;
  int rc = psnap_readproc(fd, b, PSNAP_SMALL_MAX);
  close(fd);
  if (rc == -ENOMEM) return rc;
  if (rc < 0 || psnap_parse_stat(b->p, b->len, &st) < 0 || st.num_threads == 0) return 0;
  return cpunow_base(s, id, &st);
}

/*
** A one-shot pcpu_now's first reads: the stat of every listed process (or
** of every thread of them), before the one wait. 0 or -ENOMEM.
*/
static int first_reads(struct psnap *s) {
  char name[32];
  int rc = 0;
  for (size_t i = 0; i < s->npids && rc != -ENOMEM; i++) {
    int pid = (int)s->pids[i];
    if (!s->cfg.threads) {
      snprintf(name, sizeof name, "%d/stat", pid);
      rc = first_read(s, s->procfd, name, pid);
      continue;
    }
    rc = enter_process(s, pid); /* -ESRCH: gone, or not the view's */
    for (size_t k = 0; rc == 0 && k < s->ntids; k++) {
      snprintf(name, sizeof name, "task/%d/stat", s->tids[k]);
      rc = first_read(s, s->taskfd, name, s->tids[k]);
    }
  }
  leave_process(s);
  return rc == -ENOMEM ? rc : 0;
}

/* Close the previous row's directory. */
static void leave_row(struct psnap *s) {
  if (s->rowfd >= 0) close(s->rowfd);
  s->rowfd = -1;
}

/*
** The sources a column may read on first use (snap_load_more): plain
** files and links, whose reading decides nothing about the row (stat and
** status do: whether it is in the view, whose it is).
*/
#define SRC_ON_USE (PSNAP_SRC_PER_PROCESS & ~(PSNAP_SRC_STAT | PSNAP_SRC_STATUS | PSNAP_SRC_PARENT))

/*
** Read the sources of mask that the current row has not tried yet, through
** its directory, kept open since the row was read (a process scan that
** reads more than stat): the same process, or ENOENT if it has gone. A
** source that fails leaves its columns NULL, as during the scan. 0 or
** -ENOMEM.
*/
int snap_load_more(struct psnap *s, unsigned mask) {
  mask &= SRC_ON_USE & ~s->tried;
  if (!mask || s->rowfd < 0) return 0;
  int rc = load_row(s, s->rowfd, mask, NULL);
  return rc == -ENOMEM ? rc : 0;
}

/* The next process that still exists: 1, 0 at the end, -errno. */
static int next_process(struct psnap *s) {
  char name[24];
  leave_row(s);
  while (s->next < s->npids) {
    s->hpid = (int)s->pids[s->next++];
    s->pid = s->hpid;
    s->htid = s->hpid; /* the row's task: the process's leader */
    s->loaded = s->tried = 0;
    int rc, pidfd = -1;
    if ((s->src & PSNAP_SRC_PER_PROCESS & ~PSNAP_SRC_PARENT) == PSNAP_SRC_STAT) {
      /* One file: no directory fd is needed to keep a row consistent. */
      snprintf(name, sizeof name, "%d/stat", s->hpid);
      rc = load(s, s->procfd, name, &sources[1]);
      if (rc < 0) rc = failed(s, &sources[1], rc);
    } else {
      snprintf(name, sizeof name, "%d", s->hpid);
      pidfd = snap_openat(s, s->procfd, name, O_RDONLY | O_DIRECTORY);
      rc = pidfd == -ENOMEM ? -ENOMEM : pidfd < 0 ? -ESRCH : load_row(s, pidfd, s->src, s->view->after_status);
    }
    if (rc == 0) rc = s->view->finish(s, pidfd);
    if (rc == 0 && s->cpu.on) rc = cpunow_row(s);
    if (rc == 0) {
      s->rowfd = pidfd; /* for the columns read on first use */
      return 1;
    }
    if (pidfd >= 0) close(pidfd);
    if (rc != -ESRCH) {
      psnap_seterr(&s->err, -rc, "cannot read process %d: %s", s->hpid, strerror(-rc));
      return rc;
    }
  }
  return 0;
}

/*
** Advance to the next row: a process that still exists, or a thread of
** one (cfg.threads). Returns 1 when a row is ready, 0 at the end, -errno
** on a failure that ends the scan (OOM; the message is in psnap_error()).
*/
int psnap_next(struct psnap *s) {
  int rc = s->next_row(s);
  if (rc != 0) return rc;
  rc = s->cpu.on ? cpunow_end(s) : 0;
  if (rc < 0) {
    psnap_seterr(&s->err, -rc, "cannot keep the processes' CPU times: %s", strerror(-rc));
    return rc;
  }
  return 0;
}

/*
** A rowid that names the process (or thread), the same in every scan of a
** statement (SQLite's OR optimisation merges scans by rowid): the host pid
** (tid), with the namespace's inode above it in another namespace (a
** process of a nested namespace is listed by both).
*/
long long psnap_rowid(const struct psnap *s) {
  if (s->target.level == 0) return s->htid;
  return (long long)((s->target.ns & 0x7fffffffu) << 32) | (long long)(unsigned)s->htid;
}
const struct psnap_err *psnap_error(const struct psnap *s) { return &s->err; }
unsigned long psnap_files_opened(const struct psnap *s) { return s->opened; }

/* Close a snapshot and free everything it holds (NULL is fine). */
void psnap_close(struct psnap *s) {
  if (!s) return;
  cpunow_close(s); /* first: a polling scan checks /proc for the gone */
  if (s->procfd >= 0) close(s->procfd);
  leave_row(s);
  leave_process(s);
  psnap_free(s->tids);
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
