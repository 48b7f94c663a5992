/*
** ns.c: views of the process table: the caller's own PID namespace, or the
** PID namespace of a target process (a container).
**
** A container is hostile input: it may mount anything over its own /proc,
** fork and exit fast enough to reuse its pids within a clock tick, or
** unshare another PID namespace. So every row and every per-process value
** comes from the caller's own /proc, which the container cannot touch:
**
**   - the rows are the processes whose PID namespace (ns/pid inode) is the
**     target's, or nested below it (a census of /proc, one ns/pid look per
**     process, shared by the snapshots of a statement);
**   - a row's pid, process group and session in the view are its NSpid,
**     NSpgid and NSsid entries at the target's level, read from the row's
**     own status: the host pid is the row's identity, never a guess;
**   - there is no NSppid: the parent's pid in the view is the NSpid of the
**     parent's own status, confirmed to still be the parent (map_parent).
**
** The container lends names only (lend.c); nothing here opens a file of its
** filesystem, and no thread changes namespace.
*/
#include "snap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A PID namespace seen in a census, with its ancestors up to the caller's. */
struct cns {
  uint64_t ino;
  int fd;                                  /* held open during the walk, or -1 */
  int nanc;                                /* ancestors known (-1: not walked yet) */
  uint64_t anc[PSNAP_MAX_PIDNS_LEVEL + 1]; /* parent first */
};

struct psnap_census {
  struct cproc {
    int hpid;
    int ns; /* index into nsv; -1: unknown (ns/pid not readable) */
  } * p;
  size_t n, cap;
  struct cns *nsv;
  size_t nns, capns;
  uint64_t own; /* the caller's PID namespace */
  int procfd;   /* open during the walk only */
  int last;     /* index of the namespace found last (cache) */
  int held;     /* namespace fds held open during the walk */
};

/* Namespaces whose fd a census holds during its walk: few enough for any
   fd limit, enough for every container of a busy host. */
#define CENSUS_HELD 64

static const char NEEDS_PTRACE[] = " (needs ptrace access: the same user, or CAP_SYS_PTRACE)";

/* The inode of a namespace link below dirfd, or 0 with errno set. */
static uint64_t ns_inode(int dirfd, const char *path) {
  struct stat st;
  return fstatat(dirfd, path, &st, 0) == 0 ? (uint64_t)st.st_ino : 0;
}

/*
** Walk up from process hpid's ns/pid link to the caller's namespace: the
** ancestors of ns. When the pid no longer names a process of ns (it exited,
** its pid was taken), the walk is left for the next process of ns.
*/
static void walk_ancestors(struct psnap_census *c, struct cns *ns, int hpid) {
  char path[40];
  struct stat st;
  snprintf(path, sizeof path, "%d/ns/pid", hpid);
  int fd = openat(c->procfd, path, O_RDONLY | O_CLOEXEC);
  ns->nanc = -1;
  if (fd < 0) return;
  if (fstat(fd, &st) < 0 || (uint64_t)st.st_ino != ns->ino) {
    close(fd);
    return;
  }
  /* Held open for the rest of the walk (the first CENSUS_HELD ones): the
     kernel then keeps the namespace's nsfs entry, which every ns/pid look
     would otherwise make and free again (a quarter of the census's time). */
  if (c->held < CENSUS_HELD) ns->fd = fd, c->held++;
  ns->nanc = 0;
  /* NS_GET_PARENT fails (EPERM) above the caller's own namespace */
  int up = fd;
  while (ns->nanc <= PSNAP_MAX_PIDNS_LEVEL) {
    int next = ioctl(up, NS_GET_PARENT);
    if (up != fd) close(up);
    up = next;
    if (up < 0 || fstat(up, &st) < 0) break;
    ns->anc[ns->nanc++] = (uint64_t)st.st_ino;
    if ((uint64_t)st.st_ino == c->own) break;
  }
  if (up >= 0 && up != fd) close(up);
  if (ns->fd != fd) close(fd);
}

/* The census index of namespace ino, added (and walked up) when new. */
static int census_ns(struct psnap_census *c, uint64_t ino, int hpid) {
  int k = c->last >= 0 && c->nsv[c->last].ino == ino ? c->last : -1;
  for (size_t i = 0; k < 0 && i < c->nns; i++)
    if (c->nsv[i].ino == ino) k = (int)i;
  if (k >= 0) {
    if (c->nsv[k].nanc < 0) walk_ancestors(c, &c->nsv[k], hpid); /* the last try raced */
    return c->last = k;
  }
  if (c->nns == c->capns) {
    size_t ncap = c->capns ? c->capns * 2 : 16;
    void *nv = psnap_realloc(c->nsv, ncap * sizeof *c->nsv);
    if (!nv) return -ENOMEM;
    c->nsv = nv;
    c->capns = ncap;
  }
  struct cns *ns = &c->nsv[c->nns];
  ns->ino = ino;
  ns->fd = -1;
  ns->nanc = 0;
  if (ino != c->own) walk_ancestors(c, ns, hpid);
  return c->last = (int)c->nns++;
}

/* One process of the census walk. */
static int census_one(void *arg, int pid) {
  struct psnap_census *c = arg;
  char path[40];
  snprintf(path, sizeof path, "%d/ns/pid", pid);
  uint64_t ino = ns_inode(c->procfd, path);
  if (!ino && (errno == ENOENT || errno == ESRCH)) return 0; /* gone */
  int k = ino ? census_ns(c, ino, pid) : -1;
  if (k == -ENOMEM) return -ENOMEM;
  if (c->n == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 1024;
    void *np = psnap_realloc(c->p, ncap * sizeof *c->p);
    if (!np) return -ENOMEM;
    c->p = np;
    c->cap = ncap;
  }
  c->p[c->n].hpid = pid;
  c->p[c->n].ns = k;
  c->n++;
  return 0;
}

static int by_hpid(const void *a, const void *b) {
  const struct cproc *x = a, *y = b;
  return x->hpid < y->hpid ? -1 : x->hpid > y->hpid;
}

/* Free a census (NULL is fine). */
void psnap_census_free(struct psnap_census *c) {
  if (!c) return;
  psnap_free(c->p);
  psnap_free(c->nsv);
  psnap_free(c);
}

/*
** Take a census of the caller's /proc: each process with its PID
** namespace. A process whose ns/pid the caller may not read (another
** user's, without CAP_SYS_PTRACE) is noted with an unknown namespace: it is
** in no container view. Returns 0 with *out set, or -errno with err set.
*/
int psnap_census_take(struct psnap_census **out, struct psnap_err *err) {
  *out = NULL;
  struct psnap_census *c = psnap_calloc(sizeof *c);
  if (!c) {
    psnap_seterr(err, ENOMEM, "out of memory");
    return -ENOMEM;
  }
  c->last = -1;
  c->procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = c->procfd < 0 ? -errno : 0;
  /* our own namespace held open for the walk too (see walk_ancestors) */
  int ownfd = -1;
  if (rc == 0) {
    struct stat st;
    ownfd = openat(c->procfd, "self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (ownfd < 0 || fstat(ownfd, &st) < 0)
      rc = errno ? -errno : -EIO;
    else
      c->own = (uint64_t)st.st_ino;
  }
  if (rc == 0) rc = psnap_walk_pids(c->procfd, census_one, c);
  if (ownfd >= 0) close(ownfd);
  for (size_t i = 0; i < c->nns; i++)
    if (c->nsv[i].fd >= 0) close(c->nsv[i].fd), c->nsv[i].fd = -1;
  if (c->procfd >= 0) close(c->procfd);
  c->procfd = -1;
  if (rc < 0) {
    if (rc == -ENOMEM)
      psnap_seterr(err, ENOMEM, "out of memory");
    else
      psnap_seterr(err, -rc, "cannot list the processes in /proc: %s", strerror(-rc));
    psnap_census_free(c);
    return rc;
  }
  if (c->n > 1) qsort(c->p, c->n, sizeof *c->p, by_hpid);
  *out = c;
  return 0;
}

/* Is census namespace k the target's, or nested below it? */
static int census_member(const struct psnap_census *c, int k, uint64_t target) {
  if (k < 0) return 0;
  const struct cns *ns = &c->nsv[k];
  if (ns->ino == target) return 1;
  for (int i = 0; i < ns->nanc; i++)
    if (ns->anc[i] == target) return 1;
  return 0;
}

/*
** Resolve a pidns argument: the PID namespace of pid, and its level below
** the caller's. The one place that checks the value and words its errors.
** A process whose ns/pid we may not read but whose NSpid has a single
** level is in the caller's own namespace. 0 or -errno with err set.
*/
int psnap_target_resolve(long long pid, struct psnap_target *t, struct psnap_err *err) {
  char name[24];
  memset(t, 0, sizeof *t);
  t->pid = pid;
  if (pid <= 0) {
    psnap_seterr(err, EINVAL, "pidns must be a positive integer (a pid), not %lld", pid);
    return -EINVAL;
  }
  if (pid > INT_MAX) {
    psnap_seterr(err, ESRCH, "no process %lld (pids end at %d)", pid, INT_MAX);
    return -ESRCH;
  }
  int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0) {
    int e = errno;
    psnap_seterr(err, e, "cannot open /proc: %s", strerror(e));
    return -e;
  }
  snprintf(name, sizeof name, "%lld", pid);
  int xfd = openat(procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = xfd < 0 ? -errno : 0;
  struct psnap_buf b = {0};
  int levels = 0;
  uint64_t own = ns_inode(procfd, "self/ns/pid");
  if (rc == 0) {
    /* Both through xfd: one process, even if the pid is reused meanwhile */
    t->ns = ns_inode(xfd, "ns/pid");
    int e = errno;
    rc = psnap_readat(xfd, "status", 0, &b, PSNAP_SMALL_MAX);
    if (rc == 0) {
      struct psnap_status ss;
      psnap_parse_status(b.p, b.len, &ss);
      levels = ss.nspid ? psnap_list_count(ss.nspid, ss.nspid_len) : 0;
      if (!t->ns && levels == 1) t->ns = own;
      if (!t->ns) rc = -e;
    }
  }
  psnap_buf_free(&b);
  if (xfd >= 0) close(xfd);
  close(procfd);
  if (rc == -ENOENT || rc == -ESRCH) {
    psnap_seterr(err, ESRCH, "no process %lld", pid);
    return -ESRCH;
  }
  if (rc < 0) {
    psnap_seterr(err, -rc, "cannot read the PID namespace of pid %lld: %s%s", pid, strerror(-rc),
                 rc == -EACCES || rc == -EPERM ? NEEDS_PTRACE : "");
    return rc;
  }
  if (!own || levels < 1) {
    psnap_seterr(err, ENOTSUP, "cannot read the PID namespaces of pid %lld: no NSpid in its status", pid);
    return -ENOTSUP;
  }
  t->level = t->ns == own ? 0 : levels - 1;
  return 0;
}

/* ---- the caller's own namespace ---- */

static int cmp_ll(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

/* Append a pid to the visit list. 0 or -ENOMEM. */
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

struct push {
  struct psnap *s;
  size_t cap;
};

static int host_add(void *arg, int pid) {
  struct push *p = arg;
  return push_pid(p->s, &p->cap, pid);
}

/*
** Every numeric entry of /proc, or the pids asked for. The caller's own
** /proc holds every process of its namespace and of those below it.
*/
static int host_list(struct psnap *s) {
  if (s->cfg.pids) {
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; i < s->cfg.npids && rc == 0; i++)
      if (s->cfg.pids[i] > 0 && s->cfg.pids[i] <= INT_MAX) rc = push_pid(s, &cap, s->cfg.pids[i]);
    return rc;
  }
  struct push p = {.s = s};
  int rc = psnap_walk_pids(s->procfd, host_add, &p);
  if (rc == 0 && s->npids > 1) qsort(s->pids, s->npids, sizeof *s->pids, cmp_ll);
  return rc;
}

static int host_after_status(struct psnap *s) {
  s->pid = s->hpid;
  return 0;
}

/* Read the row's stat again, through its directory: 0, -ESRCH (gone), -ENOMEM. */
static int reread_stat(struct psnap *s, int pidfd) {
  s->opened++;
  int rc = psnap_readat(pidfd, "stat", 0, &s->b[B_STAT], PSNAP_SMALL_MAX);
  if (rc == -ENOMEM) return rc;
  if (rc < 0 || psnap_parse_stat(s->b[B_STAT].p, s->b[B_STAT].len, &s->st) < 0 || s->st.num_threads == 0) return -ESRCH;
  return 0;
}

static int host_finish(struct psnap *s, int pidfd) {
  (void)pidfd;
  s->pid = s->hpid;
  s->loaded |= PSNAP_SRC_PARENT;
  return 0;
}

/*
** The pids asked for (WHERE pid = X): /proc/X answers for a thread's id
** too (readdir lists only processes), with the whole group's stat and a
** task/ of all its threads. X is a process only when it leads its thread
** group, as ps -p X lists nothing for a thread: stat's exit_signal (38) is
** -1 for every other thread, so the stat every row reads tells.
*/
static int listed_finish(struct psnap *s, int pidfd) {
  if (s->st.exit_signal == -1) return -ESRCH;
  return host_finish(s, pidfd);
}

const struct view ns_host_view = {.need = 0,
                                  .list = host_list,
                                  .after_status = host_after_status,
                                  .finish = host_finish,
                                  .user = names_host_user,
                                  .group = names_host_group,
                                  .ttys = names_host_ttys};
/* The caller's namespace, for the pids asked for only. */
const struct view ns_listed_view = {.need = PSNAP_SRC_STAT, /* a thread scan reads the process's too */
                                    .list = host_list,
                                    .after_status = host_after_status,
                                    .finish = listed_finish,
                                    .user = names_host_user,
                                    .group = names_host_group,
                                    .ttys = names_host_ttys};

/* ---- another PID namespace ---- */

/* The census members of the target namespace, in host pid order. */
static int pidns_list(struct psnap *s) {
  size_t cap = 0;
  const struct psnap_census *c = s->census;
  for (size_t i = 0; i < c->n; i++) {
    if (!census_member(c, c->p[i].ns, s->target.ns)) continue;
    int rc = push_pid(s, &cap, c->p[i].hpid);
    if (rc < 0) return rc;
  }
  return 0;
}

/* An id at the target's level of an NSpid-style list, or -1. */
static int at_level(struct psnap *s, const char *list, size_t n) {
  unsigned long long v;
  if (!list || !psnap_list_at(list, n, s->target.level, &v) || v > INT_MAX) return -1;
  return (int)v;
}

/*
** The row's pid in the view is its NSpid at the target's level. A process
** with no such level is not (any more) in the namespace: a host pid taken
** by another process since the census.
*/
static int pidns_after_status(struct psnap *s) {
  int pid = at_level(s, s->ss.nspid, s->ss.nspid_len);
  if (pid <= 0) return -ESRCH;
  s->pid = pid;
  long long key = pid;
  if (s->cfg.pids && !bsearch(&key, s->cfg.pids, s->cfg.npids, sizeof key, cmp_ll)) return -ESRCH;
  return 0;
}

static long long boottime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int by_parent(const void *a, const void *b) {
  const struct parent *x = a, *y = b;
  return x->hpid < y->hpid ? -1 : x->hpid > y->hpid;
}

/*
** Open the process at host pid hpid and read its pid in the view. The
** caller confirms afterwards that it still is the parent. Returns the entry
** (updated or added), or NULL when out of memory.
*/
static struct parent *parent_read(struct psnap *s, int hpid, struct parent *e) {
  char name[16];
  long long t = boottime_ns();
  int vpid = 0;
  snprintf(name, sizeof name, "%d", hpid);
  struct psnap_buf b = {0};
  s->opened++;
  int fd = openat(s->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    s->opened++;
    int rc = psnap_readat(fd, "status", 0, &b, PSNAP_SMALL_MAX);
    close(fd);
    if (rc == -ENOMEM) {
      psnap_buf_free(&b);
      return NULL;
    }
    if (rc == 0) {
      struct psnap_status ps;
      psnap_parse_status(b.p, b.len, &ps);
      vpid = at_level(s, ps.nspid, ps.nspid_len);
      if (vpid < 0) vpid = 0; /* the parent is outside the namespace */
    }
  }
  psnap_buf_free(&b);
  if (!e) {
    if (s->nparents == s->capparents) {
      size_t ncap = s->capparents ? s->capparents * 2 : 64;
      void *np = psnap_realloc(s->parents, ncap * sizeof *s->parents);
      if (!np) return NULL;
      s->parents = np;
      s->capparents = ncap;
    }
    size_t i = s->nparents;
    while (i > 0 && s->parents[i - 1].hpid > hpid) i--;
    memmove(&s->parents[i + 1], &s->parents[i], (s->nparents - i) * sizeof *s->parents);
    s->nparents++;
    e = &s->parents[i];
    e->hpid = hpid;
  }
  e->vpid = vpid;
  e->opened_ns = t;
  return e;
}

/*
** The parent's pid in the view. A parent is always older than its child
** (a process is adopted only by an ancestor, or its namespace's init), so
** an entry opened after the child was born names the child's parent for
** as long as the child's ppid stays the same: the parent was alive when it
** was opened. Otherwise open the parent now and re-read the child's stat
** to confirm its ppid did not change meanwhile (a parent that exited and
** whose pid was taken). 0, -ESRCH to skip the row (it vanished), or -ENOMEM.
*/
static int map_parent(struct psnap *s, int pidfd) {
  for (int tries = 0; tries < 3; tries++) {
    int hp = s->st.ppid;
    if (hp <= 0) { /* the parent is not in the caller's namespace */
      s->st.ppid = 0;
      s->loaded |= PSNAP_SRC_PARENT;
      return 0;
    }
    struct parent key = {.hpid = hp};
    struct parent *e = s->nparents ? bsearch(&key, s->parents, s->nparents, sizeof key, by_parent) : NULL;
    long long born_by = (long long)(s->st.start + 1) * (1000000000LL / s->hz);
    if (e && born_by <= e->opened_ns) {
      s->st.ppid = e->vpid;
      s->loaded |= PSNAP_SRC_PARENT;
      return 0;
    }
    e = parent_read(s, hp, e);
    if (!e) return -ENOMEM;
    int vpid = e->vpid;
    int rc = reread_stat(s, pidfd);
    if (rc < 0) return rc;
    if (s->st.ppid == hp) {
      s->st.ppid = vpid;
      s->loaded |= PSNAP_SRC_PARENT;
      return 0;
    }
  }
  return 0; /* reparented on every try: the ppid stays unknown (NULL) */
}

/* Process group and session from NSpgid and NSsid; the parent if asked. */
static int pidns_finish(struct psnap *s, int pidfd) {
  int rc = s->src & PSNAP_SRC_PARENT ? map_parent(s, pidfd) : 0; /* may read stat again */
  int pg = at_level(s, s->ss.nspgid, s->ss.nspgid_len);
  int sid = at_level(s, s->ss.nssid, s->ss.nssid_len);
  s->st.pgrp = pg > 0 ? pg : 0; /* 0: the leader is outside the namespace */
  s->st.session = sid > 0 ? sid : 0;
  return rc;
}

/* Names the container lent; none when it lent nothing in time. */
static const char *lent_user(struct psnap *s, uint32_t uid) { return psnap_idtab_find(&s->lent.pw, uid); }
static const char *lent_group(struct psnap *s, uint32_t gid) { return psnap_idtab_find(&s->lent.gr, gid); }
static const struct ttyname *lent_ttys(struct psnap *s, size_t *n) {
  *n = s->lent.ntty;
  return s->lent.tty;
}

const struct view ns_pidns_view = {.need = PSNAP_SRC_STATUS,
                                   .list = pidns_list,
                                   .after_status = pidns_after_status,
                                   .finish = pidns_finish,
                                   .user = lent_user,
                                   .group = lent_group,
                                   .ttys = lent_ttys};

/* Read a small number from a file below the caller's /proc. */
static uint32_t read_u32(struct psnap *s, const char *name, uint32_t dflt) {
  struct psnap_buf b = {0};
  uint32_t v = dflt;
  if (psnap_readat(s->procfd, name, 0, &b, 64) == 0) {
    const char *p = b.p;
    unsigned long long x;
    if (psnap_next_uint(&p, b.p + b.len, &x) && x <= UINT32_MAX) v = (uint32_t)x;
  }
  psnap_buf_free(&b);
  return v;
}

/* Read and parse one of the target's id maps: 0 or -errno. */
static int read_map(struct psnap *s, int xfd, const char *name, struct psnap_idmap *m) {
  struct psnap_buf b = {0};
  s->opened++;
  int rc = psnap_readat(xfd, name, 0, &b, PSNAP_IDMAP_MAX);
  if (rc == 0) psnap_parse_idmap(b.p, b.len, m);
  psnap_buf_free(&b);
  return rc;
}

/* The identity map: ids in the caller's view. */
static void identity(struct psnap_idmap *m) {
  m->n = 1;
  m->e[0].inside = m->e[0].outside = 0;
  m->e[0].count = UINT32_MAX;
}

/*
** The process that lends the namespace's names: the target, unless it has
** no root any more (a zombie), then the namespace's init, else its lowest
** live member. Returns an open /proc directory fd, -ESRCH when there is
** none, or -ENOMEM.
*/
static int lender(struct psnap *s) {
  char name[24], link[8];
  snprintf(name, sizeof name, "%lld", s->target.pid);
  int fd = openat(s->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  /* readlink of root is d_path text only: it touches no file system */
  if (fd >= 0 && ns_inode(fd, "ns/pid") == s->target.ns && readlinkat(fd, "root", link, sizeof link) > 0) return fd;
  if (fd >= 0) close(fd);
  int best = -1, bestv = INT_MAX, rc = 0; /* the member with the lowest pid in the view, and its pid */
  struct psnap_buf b = {0};
  for (size_t i = 0; i < s->npids && bestv > 1; i++) {
    snprintf(name, sizeof name, "%lld", s->pids[i]);
    int pfd = openat(s->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0) continue;
    struct psnap_status ps;
    int v = -1, r = -ENOENT;
    if (ns_inode(pfd, "ns/pid") == s->target.ns && readlinkat(pfd, "root", link, sizeof link) > 0)
      r = psnap_readat(pfd, "status", 0, &b, PSNAP_SMALL_MAX);
    if (r == -ENOMEM) {
      close(pfd);
      rc = -ENOMEM;
      break;
    }
    if (r == 0) {
      psnap_parse_status(b.p, b.len, &ps);
      v = at_level(s, ps.nspid, ps.nspid_len);
    }
    if (v > 0 && v < bestv) {
      if (best >= 0) close(best);
      best = pfd, bestv = v;
    } else {
      close(pfd);
    }
  }
  psnap_buf_free(&b);
  if (rc < 0) {
    if (best >= 0) close(best);
    return rc;
  }
  return best >= 0 ? best : -ESRCH;
}

/*
** Choose the snapshot's view. The caller's own namespace lists its /proc;
** another namespace lists the census members, maps ids through the
** target's uid_map and gid_map, and borrows the container's names when a
** column needs them. 0 or -errno with err set.
*/
int ns_open_view(struct psnap *s, struct psnap_err *err) {
  identity(&s->uidmap);
  identity(&s->gidmap);
  if (s->target.level == 0) {
    s->view = s->cfg.pids ? &ns_listed_view : &ns_host_view;
    return 0;
  }
  s->view = &ns_pidns_view;
  long long x = s->target.pid;
  char name[24];
  snprintf(name, sizeof name, "%lld", x);
  int xfd = openat(s->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = xfd < 0 ? -errno : 0;
  if (rc == 0 && ns_inode(xfd, "ns/pid") != s->target.ns) rc = -ESRCH; /* gone, pid reused */
  if (rc == 0) rc = read_map(s, xfd, "uid_map", &s->uidmap);
  if (rc == 0) rc = read_map(s, xfd, "gid_map", &s->gidmap);
  if (xfd >= 0) close(xfd);
  if (rc == -ENOENT || rc == -ESRCH) {
    psnap_seterr(err, ESRCH, "no process %lld", x);
    return -ESRCH;
  }
  if (rc < 0) {
    psnap_seterr(err, -rc, "cannot read the id maps of pid %lld: %s", x, strerror(-rc));
    return rc;
  }
  s->overflowuid = read_u32(s, "sys/kernel/overflowuid", 65534);
  s->overflowgid = read_u32(s, "sys/kernel/overflowgid", 65534);
  if (!s->census) {
    rc = psnap_census_take(&s->census, err);
    if (rc < 0) return rc;
    s->own_census = 1;
  }
  return 0;
}

/*
** Borrow the names of the target namespace (after the rows are listed, so
** a zombie target can lend through a live member). Names that cannot be
** read in time stay numbers; only running out of memory is an error.
*/
int ns_lend(struct psnap *s, struct psnap_err *err) {
  unsigned what = (s->src & PSNAP_SRC_NAMES ? LEND_IDS : 0) | (s->src & PSNAP_SRC_TTY ? LEND_TTY : 0);
  if (s->target.level == 0 || !what) return 0;
  int fd = lender(s);
  int rc = fd == -ENOMEM ? fd : 0;
  if (fd >= 0) {
    struct lend_ctl ctl = {.deadline_ms = s->cfg.deadline_ms ? s->cfg.deadline_ms : PSNAP_DEADLINE_MS,
                           .interrupted = s->cfg.interrupted,
                           .arg = s->cfg.interrupt_arg};
    rc = lend_names(fd, s->target.ns, what, &ctl, &s->lent);
    close(fd);
  }
  if (rc == -ENOMEM) {
    psnap_seterr(err, ENOMEM, "out of memory");
    return rc;
  }
  if (rc == -EINTR) {
    psnap_seterr(err, EINTR, "interrupted while pid %lld lent its names", s->target.pid);
    return rc;
  }
  return 0; /* names lent, or none (nobody left to lend them, or too late): numbers */
}
