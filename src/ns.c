/*
** ns.c: snapshots of another PID namespace (a container).
**
** Like psgo, we read a container's processes from its own /proc, inside
** its mount namespace, so pids, terminals and names are the container's.
** Unlike psgo, the caller's thread never changes namespace and the scan
** itself does not run in the container: a short-lived helper thread
** unshares its fs state (setns(CLONE_NEWNS) refuses a thread that shares
** it), joins the target's mount namespace, opens /proc and /dev there and
** reads /etc/passwd and /etc/group as plain bytes, then exits. The caller
** reads everything else through those directory fds, refusing symlinks and
** mount crossings (snap_openat), so nothing the container controls can
** lead a path back into the host's filesystem, and nothing from the
** container is ever executed or configured in (no NSS, no dlopen).
**
** When the target's mount namespace has no /proc of the target's PID
** namespace (a plain `unshare --pid`, or a container that mounts none),
** the host's /proc is filtered instead: the members are the processes whose
** PID namespace is the target's or below it, and their pids in the
** container's view are read from NSpid.
*/
#include "snap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/nsfs.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

/* The largest /etc/passwd or /etc/group read from a container. */
#define ETC_MAX (16u << 20)

/* Work handed to the helper thread, and what it brings back. */
struct join {
  int mntfd;                      /* in: the target's ns/mnt */
  int err;                        /* out: 0, or the errno of the step that failed */
  const char *what;               /* out: the step that failed */
  int procfd;                     /* out: /proc inside, or -1 */
  int devfd;                      /* out: /dev inside, or -1 */
  struct psnap_buf passwd, group; /* out: the files' bytes (empty if absent) */
};

/*
** Open a path of the container from its root (rootfd): absolute symlinks
** resolve inside the container (RESOLVE_IN_ROOT) and magic links such as
** /proc/PID/root, which could lead to another root, are refused. Kernels
** before 5.6 have no openat2: the last component is then at least not
** followed. Returns the fd or -1.
*/
static int open_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC | O_NOCTTY),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  if (fd < 0 && errno == ENOSYS) fd = openat(rootfd, path, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  return fd;
}

/*
** Read a regular file of the container without blocking: a FIFO or device
** planted at /etc/passwd must not hang or feed the host program.
*/
static int read_etc(int rootfd, const char *path, struct psnap_buf *b) {
  int fd = open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) return 0; /* none: names stay numbers */
  struct stat st;
  int rc = 0;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) rc = psnap_readfd(fd, b, ETC_MAX);
  if (rc < 0) b->len = 0;
  close(fd);
  return rc == -ENOMEM ? rc : 0;
}

/* The helper thread: join, open, read, exit. Its fs state dies with it. */
static void *join_thread(void *arg) {
  struct join *j = arg;
  if (unshare(CLONE_FS) < 0) {
    j->err = errno, j->what = "unshare";
    return NULL;
  }
  if (setns(j->mntfd, CLONE_NEWNS) < 0) {
    j->err = errno, j->what = "setns";
    return NULL;
  }
  /* setns() moved this thread's root and cwd to the namespace's root */
  int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) {
    j->err = errno, j->what = "open /";
    return NULL;
  }
  j->procfd = open_in_root(rootfd, "proc", O_RDONLY | O_DIRECTORY);
  j->devfd = open_in_root(rootfd, "dev", O_RDONLY | O_DIRECTORY);
  if (read_etc(rootfd, "etc/passwd", &j->passwd) < 0 || read_etc(rootfd, "etc/group", &j->group) < 0)
    j->err = ENOMEM, j->what = "read /etc";
  close(rootfd);
  return NULL;
}

/* Count the entries of an NSpid line and return the last one. */
static int nspid_last(const char *p, size_t n, unsigned long long *last) {
  const char *end = p + n;
  unsigned long long v;
  int k = 0;
  while (psnap_next_uint(&p, end, &v)) *last = v, k++;
  return k;
}

/* The NSpid entry at a level (0 = the caller's), or 0. */
static int nspid_at(const char *p, size_t n, int level) {
  const char *end = p + n;
  unsigned long long v;
  for (int k = 0; psnap_next_uint(&p, end, &v); k++)
    if (k == level) return v <= INT_MAX ? (int)v : 0;
  return 0;
}

/* Read a small number from a file below the host /proc. */
static uint32_t read_u32(struct psnap *s, const char *name, uint32_t dflt) {
  struct psnap_buf b = {0};
  uint32_t v = dflt;
  if (psnap_readat(s->hostfd, name, 0, &b, 64) == 0) {
    const char *p = b.p;
    unsigned long long x;
    if (psnap_next_uint(&p, b.p + b.len, &x) && x <= UINT32_MAX) v = (uint32_t)x;
  }
  psnap_buf_free(&b);
  return v;
}

/* Read and parse one of the target's id maps. */
static int read_map(struct psnap *s, int xfd, const char *name, struct psnap_idmap *m) {
  struct psnap_buf b = {0};
  s->opened++;
  int rc = psnap_readat(xfd, name, 0, &b, 65536);
  if (rc == 0) psnap_parse_idmap(b.p, b.len, m);
  psnap_buf_free(&b);
  return rc;
}

static int by_hpid(const void *a, const void *b) {
  const struct member *x = a, *y = b;
  return x->hpid < y->hpid ? -1 : x->hpid > y->hpid;
}
static int by_cpid(const void *a, const void *b) {
  const struct member *x = a, *y = b;
  return x->cpid < y->cpid ? -1 : x->cpid > y->cpid;
}

/*
** Is the PID namespace of host process name ("1234") the target's, or one
** nested below it? Walks up with NS_GET_PARENT, which stops (EPERM) at the
** caller's own namespace.
*/
static int below_target(struct psnap *s, const char *name, uint64_t ino, uint64_t own) {
  if (ino == s->target_ns) return 1;
  if (ino == own) return 0;
  char path[40];
  snprintf(path, sizeof path, "%s/ns/pid", name);
  int fd = openat(s->hostfd, path, O_RDONLY | O_CLOEXEC);
  int found = 0;
  for (int depth = 0; fd >= 0 && depth < 33 && !found; depth++) {
    int up = ioctl(fd, NS_GET_PARENT);
    close(fd);
    fd = up;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) break;
    if ((uint64_t)st.st_ino == s->target_ns) found = 1;
    if ((uint64_t)st.st_ino == own) break;
  }
  if (fd >= 0) close(fd);
  return found;
}

/*
** Find the members of the target's PID namespace in the host's /proc: the
** host pid and the container pid of each. Used for hpid, and to list the
** rows when the container has no /proc of its own. 0 or -errno.
*/
int ns_members(struct psnap *s) {
  if (s->have_mem) return 0;
  struct stat st;
  if (fstatat(s->hostfd, "self/ns/pid", &st, 0) < 0) return -errno;
  uint64_t own = (uint64_t)st.st_ino;
  int fd = dup(s->hostfd);
  if (fd < 0) return -errno;
  lseek(fd, 0, SEEK_SET);
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -ENOMEM;
  }
  size_t cap = 0;
  int rc = 0;
  struct dirent *de;
  struct psnap_buf b = {0};
  while ((de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    if (*n < '1' || *n > '9' || strlen(n) > 10) continue;
    /* Everything about one process through one directory fd: a pid reused
       meanwhile cannot mix two processes in one member. */
    int pfd = openat(s->hostfd, n, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0) continue;
    s->opened += 3;
    struct psnap_status ss;
    struct psnap_stat pst;
    int cpid = 0;
    if (fstatat(pfd, "ns/pid", &st, 0) == 0 && below_target(s, n, (uint64_t)st.st_ino, own) &&
        psnap_readat(pfd, "status", 0, &b, 1u << 20) == 0) {
      psnap_parse_status(b.p, b.len, &ss);
      cpid = ss.nspid ? nspid_at(ss.nspid, ss.nspid_len, s->target_level) : 0;
      if (cpid > 0 && (psnap_readat(pfd, "stat", 0, &b, 1u << 20) < 0 || psnap_parse_stat(b.p, b.len, &pst) < 0))
        cpid = 0;
    }
    close(pfd);
    if (cpid <= 0) continue; /* gone, not ours to see, or not a member */
    if (s->nmem == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      void *nm = psnap_realloc(s->mem, ncap * sizeof *s->mem);
      if (!nm) {
        rc = -ENOMEM;
        break;
      }
      s->mem = nm;
      cap = ncap;
    }
    s->mem[s->nmem].hpid = (int)strtol(n, NULL, 10);
    s->mem[s->nmem].cpid = cpid;
    s->mem[s->nmem].start = pst.start;
    s->nmem++;
  }
  closedir(d);
  psnap_buf_free(&b);
  if (rc < 0) return rc;
  s->memc = psnap_malloc((s->nmem ? s->nmem : 1) * sizeof *s->memc);
  if (!s->memc) return -ENOMEM;
  if (s->nmem) {
    qsort(s->mem, s->nmem, sizeof *s->mem, by_hpid);
    memcpy(s->memc, s->mem, s->nmem * sizeof *s->mem);
    qsort(s->memc, s->nmem, sizeof *s->memc, by_cpid);
  }
  s->have_mem = 1;
  return 0;
}

/*
** The host pid of a container pid, or 0 when unknown: not a member when
** the table was made, or (start given and different) a new process that
** took the pid since.
*/
int ns_host_pid(struct psnap *s, int cpid, const unsigned long long *start) {
  struct member key = {.cpid = cpid};
  const struct member *m = bsearch(&key, s->memc, s->nmem, sizeof key, by_cpid);
  return m && (!start || m->start == *start) ? m->hpid : 0;
}

/*
** Is the row just read from host pid hpid still the member cpid? The start
** time alone cannot tell: a process that takes the pid within the same
** clock tick has the same one. Its NSpid can: outside the namespace it has
** no entry cpid at the namespace's level. (Fallback scans read status.)
*/
int ns_still_member(struct psnap *s, int cpid, int hpid) {
  if (ns_host_pid(s, cpid, &s->st.start) != hpid) return 0;
  return s->ss.nspid && nspid_at(s->ss.nspid, s->ss.nspid_len, s->target_level) == cpid;
}

/* The container pid of a host pid, or 0 when it is outside the namespace. */
int ns_view_pid(struct psnap *s, int hpid) {
  struct member key = {.hpid = hpid};
  const struct member *m = bsearch(&key, s->mem, s->nmem, sizeof key, by_hpid);
  return m ? m->cpid : 0;
}

/*
** Prepare a snapshot of the PID namespace of s->target. Same namespace as
** the caller: a host scan. Otherwise join the target's mount namespace on
** a helper thread and use the /proc found there if it is the target
** namespace's own, else fall back to the filtered host /proc. Returns 0 or
** -errno with err set to a message that names the pid and the cause.
*/
int ns_open_target(struct psnap *s, struct psnap_err *err) {
  long long x = s->target;
  char name[24];
  struct stat st;
  int rc = 0, xfd = -1, mntfd = -1;
  struct join j = {.mntfd = -1, .procfd = -1, .devfd = -1};
  if (x > INT_MAX) {
    snap_err(err, EINVAL, "pidns must be a pid (1 to %d), not %lld", INT_MAX, x);
    return -EINVAL;
  }
  snprintf(name, sizeof name, "%lld", x);
  xfd = openat(s->hostfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (xfd < 0) {
    rc = -errno;
    if (rc == -ENOENT)
      snap_err(err, ESRCH, "no process %lld", x);
    else
      snap_err(err, -rc, "cannot open /proc/%lld: %s", x, strerror(-rc));
    return rc;
  }
  s->opened++;
  uint64_t own = 0;
  rc = psnap_pidns_inode(x, &s->target_ns, err);
  if (rc == 0) rc = psnap_pidns_inode(getpid(), &own, err);
  if (rc < 0 || s->target_ns == own) goto out;
  /* The pid may have been reused since: check again through xfd. */
  if (fstatat(xfd, "ns/pid", &st, 0) < 0 || (uint64_t)st.st_ino != s->target_ns) {
    rc = -ESRCH;
    snap_err(err, ESRCH, "no process %lld", x);
    goto out;
  }

  /* The target's level below us, and its id maps. */
  struct psnap_buf b = {0};
  s->opened++;
  rc = psnap_readat(xfd, "status", 0, &b, 1u << 20);
  unsigned long long inner = 0;
  if (rc == 0) {
    struct psnap_status ss;
    psnap_parse_status(b.p, b.len, &ss);
    s->target_level = ss.nspid ? nspid_last(ss.nspid, ss.nspid_len, &inner) - 1 : -1;
  }
  psnap_buf_free(&b);
  if (rc < 0 || s->target_level < 1) {
    if (rc == 0) rc = -ENOTSUP;
    if (rc == -ENOENT || rc == -ESRCH)
      snap_err(err, ESRCH, "no process %lld", x);
    else
      snap_err(err, -rc, "cannot read the PID namespaces of pid %lld: %s", x, strerror(-rc));
    goto out;
  }
  if (read_map(s, xfd, "uid_map", &s->uidmap) == 0 && read_map(s, xfd, "gid_map", &s->gidmap) == 0) s->mapped = 1;
  s->overflowuid = read_u32(s, "sys/kernel/overflowuid", 65534);
  s->overflowgid = read_u32(s, "sys/kernel/overflowgid", 65534);

  /* Open the mount namespace now, while /proc/X still names the target. */
  mntfd = openat(xfd, "ns/mnt", O_RDONLY | O_CLOEXEC);
  if (mntfd < 0) {
    rc = -errno;
    if (rc == -ENOENT || rc == -ESRCH)
      snap_err(err, ESRCH, "no process %lld", x);
    else
      snap_err(err, -rc, "cannot join the mount namespace of pid %lld: %s%s", x, strerror(-rc),
               rc == -EACCES || rc == -EPERM ? " (needs CAP_SYS_PTRACE and CAP_SYS_ADMIN)" : "");
    goto out;
  }
  j.mntfd = mntfd;
  pthread_t t;
  rc = -pthread_create(&t, NULL, join_thread, &j);
  if (rc < 0) {
    snap_err(err, -rc, "cannot start a thread to join the mount namespace of pid %lld: %s", x, strerror(-rc));
    goto out;
  }
  pthread_join(t, NULL);
  if (j.err) {
    rc = -j.err;
    char cause[64];
    snprintf(cause, sizeof cause, "%s", strerror(j.err));
    if (cause[0] >= 'A' && cause[0] <= 'Z') cause[0] = (char)(cause[0] - 'A' + 'a');
    snap_err(err, j.err, "cannot join the mount namespace of pid %lld: %s%s", x, cause,
             j.err == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
    goto out;
  }
  s->files = 1;
  rc = psnap_idtab_parse(&s->pw, j.passwd.p ? j.passwd.p : "", j.passwd.len);
  if (rc == 0) rc = psnap_idtab_parse(&s->gr, j.group.p ? j.group.p : "", j.group.len);
  if (rc < 0) {
    snap_err(err, -rc, "out of memory");
    goto out;
  }
  s->devfd = j.devfd;
  j.devfd = -1;

  /* Is the /proc found inside the target namespace's own? */
  struct statfs sf;
  char path[48];
  snprintf(path, sizeof path, "%llu/ns/pid", inner);
  if (j.procfd >= 0 && fstatfs(j.procfd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC &&
      fstatat(j.procfd, path, &st, 0) == 0 && (uint64_t)st.st_ino == s->target_ns) {
    s->procfd = j.procfd;
    j.procfd = -1;
    s->mode = MODE_CONTAINER;
    s->hardened = 1;
  } else {
    s->mode = MODE_FALLBACK;
    s->src |= PSNAP_SRC_STATUS; /* NSpid: ns_still_member() */
    rc = ns_members(s);
    if (rc < 0) snap_err(err, -rc, "cannot list the processes of pid %lld's PID namespace: %s", x, strerror(-rc));
  }
out:
  if (j.procfd >= 0) close(j.procfd);
  if (j.devfd >= 0) close(j.devfd);
  psnap_buf_free(&j.passwd);
  psnap_buf_free(&j.group);
  if (mntfd >= 0) close(mntfd);
  if (xfd >= 0) close(xfd);
  return rc;
}
