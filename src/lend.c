/*
** lend.c: the names a container lends: its /etc/passwd, its /etc/group and
** the names of the character devices in its /dev.
**
** Everything else about a container's processes comes from the caller's
** own /proc (ns.c); these files are the only ones read from the
** container's filesystem, and the container controls them: they may be
** links to /proc/kmsg or to host files through /proc/N/root, device nodes,
** FIFOs, huge, or on a FUSE mount whose daemon never answers. So:
**
**   - they are read beneath the root that the lending process itself sees
**     (/proc/PID/root: it follows chroot, needs only the ptrace read access
**     that listing needs anyway, and moves no thread into any namespace),
**     with openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: absolute links
**     stay inside, /proc/N/root-style links are refused; mount crossings
**     are allowed (engines bind-mount generated /etc/passwd files);
**   - each file is opened O_PATH first and reopened for reading only when
**     it is a regular file that is not on procfs or sysfs, non-blocking,
**     bounded, and a cut last line is not an entry (psnap_idtab_parse);
**   - all of it happens on a helper thread, never the caller's: every
**     signal blocked (no handler of the host program runs there), its own
**     credentials dropped to an unprivileged fsuid and fsgid with no
**     supplementary groups and no effective capabilities (raw system
**     calls: these are per thread in the kernel, glibc would broadcast), so
**     a planted link cannot read what nobody cannot;
**   - the caller waits until a deadline, and joins a helper that is done.
**     Past it the names stay numbers and the helper is left behind,
**     detached: it may wake long after (when the
**     FUSE daemon dies), so it owns its state, uses only the C library's
**     allocator (never SQLite's, never the snapshot), and the extension is
**     linked -z nodelete so its code stays mapped after the module is
**     unloaded. At most one helper per namespace is ever left running: a
**     later query of the same namespace gets numbers at once.
*/
#include "snap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define LEND_ID 65534           /* the unprivileged fsuid and fsgid of the helper */
#define LEND_STACK (256u << 10) /* the helper's stack */
#define LEND_MAX_TTY 4096       /* device names kept from a container's /dev */

/* A helper's work, shared with the caller until both let go. */
struct job {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int refs; /* 2 while the caller waits, 1 after (the last one frees) */
  int done;
  uint64_t key;  /* the PID namespace: one helper each */
  unsigned what; /* LEND_* */
  int xfd;       /* the lending process's /proc directory (the helper's) */
  /* Results, in the C library's memory */
  char *passwd, *group;
  size_t npasswd, ngroup;
  struct ttyname *tty;
  size_t ntty;
  int ok; /* the helper got through its work */
  struct job *next;
};

/* Helpers still running, by namespace. */
static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
static struct job *running;

/* fork(2) copies the list but none of its threads: the child starts with
   no helper running, and with the lock free. */
static void fork_prepare(void) { pthread_mutex_lock(&running_mu); }
static void fork_parent(void) { pthread_mutex_unlock(&running_mu); }
static void fork_child(void) {
  running = NULL; /* their jobs stay allocated: their threads are not here to free them */
  pthread_mutex_init(&running_mu, NULL);
}
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void atfork(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

static void job_free(struct job *j) {
  pthread_mutex_destroy(&j->mu);
  pthread_cond_destroy(&j->cv);
  free(j->passwd);
  free(j->group);
  free(j->tty);
  free(j);
}

/* Let go of a job; the last holder frees it. */
static void job_release(struct job *j) {
  pthread_mutex_lock(&j->mu);
  int left = --j->refs;
  pthread_mutex_unlock(&j->mu);
  if (left == 0) job_free(j);
}

/*
** Drop this thread's file-access privileges: no supplementary groups, fsuid
** and fsgid nobody, no effective capabilities. A caller that is not root
** cannot change its ids and keeps its own, which are unprivileged already.
** Returns 0, or -EPERM when the thread would still read as root.
*/
static int unprivileged(void) {
  (void)syscall(SYS_setgroups, 0, NULL);
  (void)syscall(SYS_setfsgid, LEND_ID);
  (void)syscall(SYS_setfsuid, LEND_ID);
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) == 0) {
    d[0].effective = d[1].effective = 0;
    (void)syscall(SYS_capset, &h, d);
  }
  /* setfsuid(-1) changes nothing and returns the current fsuid */
  return syscall(SYS_setfsuid, -1) == 0 ? -EPERM : 0;
}

/* File systems whose "regular files" are kernel interfaces, never names. */
static int kernel_fs(long type) {
  return type == PROC_SUPER_MAGIC || type == SYSFS_MAGIC || type == DEBUGFS_MAGIC || type == TRACEFS_MAGIC ||
         type == SECURITYFS_MAGIC || type == BPF_FS_MAGIC || type == CGROUP_SUPER_MAGIC ||
         type == CGROUP2_SUPER_MAGIC || type == DEVPTS_SUPER_MAGIC;
}

/* Open a path beneath rootfd: inside the root, no magic links. */
static int open_beneath(int rootfd, const char *path, int flags) {
  /* openat2 refuses O_NOCTTY beside O_PATH */
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  return fd < 0 ? -errno : fd;
}

/*
** Read one lent file into *out (C library memory). A file that is absent
** or is not a regular file of an ordinary file system lends nothing (0,
** *out NULL). More than PSNAP_ETC_MAX bytes: the part up to the last
** newline within the bound. 0 or -errno.
*/
static int read_lent(int rootfd, const char *path, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  int pfd = open_beneath(rootfd, path, O_PATH);
  if (pfd < 0) return pfd == -ENOENT || pfd == -ENOTDIR || pfd == -ELOOP || pfd == -EXDEV ? 0 : pfd;
  struct stat st, st2;
  struct statfs sf;
  if (fstat(pfd, &st) < 0 || !S_ISREG(st.st_mode) || fstatfs(pfd, &sf) < 0 || kernel_fs((long)sf.f_type)) {
    close(pfd);
    return 0;
  }
  /* Reopen the very file for reading, with this thread's credentials */
  char self[48];
  snprintf(self, sizeof self, "/proc/thread-self/fd/%d", pfd);
  int fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  close(pfd);
  if (fd < 0) return errno == EACCES ? 0 : -errno;
  if (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino || !S_ISREG(st2.st_mode)) {
    close(fd);
    return 0;
  }
  size_t cap = 0, n = 0;
  char *buf = NULL;
  int rc = 0;
  for (;;) {
    if (cap - n < 2) {
      size_t ncap = cap ? cap * 2 : 8192;
      if (ncap > (size_t)PSNAP_ETC_MAX + 2) ncap = (size_t)PSNAP_ETC_MAX + 2;
      if (ncap <= cap) break; /* more than the bound: cut below */
      char *nb = realloc(buf, ncap);
      if (!nb) {
        rc = -ENOMEM;
        break;
      }
      buf = nb;
      cap = ncap;
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      rc = errno == EAGAIN ? 0 : -errno;
      break;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (rc < 0) {
    free(buf);
    return rc;
  }
  if (n > PSNAP_ETC_MAX) {
    /* Cut: the last line may be any prefix of an entry, so it is none */
    n = PSNAP_ETC_MAX;
    while (n > 0 && buf[n - 1] != '\n') n--;
  }
  if (buf) buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}

/* The character devices at the top of the container's /dev. 0 or -errno. */
static int read_dev(int rootfd, struct job *j) {
  int fd = open_beneath(rootfd, "dev", O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
  return names_dev_walk(fd, realloc, &j->tty, &j->ntty, LEND_MAX_TTY);
}

/* The helper thread: open the root, drop privileges, read, report. */
static void *helper(void *arg) {
  struct job *j = arg;
  int rootfd = openat(j->xfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  close(j->xfd);
  int rc = rootfd < 0 ? -errno : unprivileged();
  if (rc == 0 && (j->what & LEND_IDS)) rc = read_lent(rootfd, "etc/passwd", &j->passwd, &j->npasswd);
  if (rc == 0 && (j->what & LEND_IDS)) rc = read_lent(rootfd, "etc/group", &j->group, &j->ngroup);
  if (rc == 0 && (j->what & LEND_TTY)) rc = read_dev(rootfd, j);
  if (rootfd >= 0) close(rootfd);

  pthread_mutex_lock(&running_mu);
  for (struct job **p = &running; *p; p = &(*p)->next)
    if (*p == j) {
      *p = j->next;
      break;
    }
  pthread_mutex_unlock(&running_mu);
  pthread_mutex_lock(&j->mu);
  j->ok = rc == 0;
  j->done = 1;
  pthread_cond_signal(&j->cv);
  pthread_mutex_unlock(&j->mu);
  job_release(j);
  return NULL;
}

/* Copy a finished job's results into the snapshot's memory. 0 or -ENOMEM. */
static int take(struct job *j, struct lent *out) {
  int rc = psnap_idtab_parse(&out->pw, j->passwd ? j->passwd : "", j->npasswd);
  if (rc == 0) rc = psnap_idtab_parse(&out->gr, j->group ? j->group : "", j->ngroup);
  if (rc == 0 && j->ntty) {
    out->tty = psnap_malloc(j->ntty * sizeof *out->tty);
    if (!out->tty)
      rc = -ENOMEM;
    else {
      memcpy(out->tty, j->tty, j->ntty * sizeof *out->tty);
      out->ntty = j->ntty;
    }
  }
  if (rc < 0) return rc;
  out->ok = 1;
  return 0;
}

/*
** Borrow the names of namespace key from the root of the process whose
** /proc directory is xfd, waiting at most deadline_ms. Returns 0 with *out
** filled (out->ok 1), 0 with out->ok 0 when the names could not be read in
** time or at all (they stay numbers), or -ENOMEM.
*/
int lend_names(int xfd, uint64_t key, unsigned what, unsigned deadline_ms, struct lent *out) {
  memset(out, 0, sizeof *out);
  pthread_once(&atfork_once, atfork);
  pthread_mutex_lock(&running_mu);
  for (struct job *r = running; r; r = r->next)
    if (r->key == key) {
      pthread_mutex_unlock(&running_mu); /* one is stuck already: numbers */
      return 0;
    }
  struct job *j = calloc(1, sizeof *j);
  if (!j) {
    pthread_mutex_unlock(&running_mu);
    return -ENOMEM;
  }
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&j->mu, NULL);
  pthread_cond_init(&j->cv, &ca);
  pthread_condattr_destroy(&ca);
  j->refs = 2;
  j->key = key;
  j->what = what;
  j->xfd = fcntl(xfd, F_DUPFD_CLOEXEC, 3);
  if (j->xfd < 0) {
    pthread_mutex_unlock(&running_mu);
    int e = errno;
    job_free(j);
    return e == ENOMEM ? -ENOMEM : 0;
  }
  j->next = running;
  running = j;

  /* The helper starts with every signal blocked: no handler runs there */
  sigset_t all, old;
  sigfillset(&all);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, LEND_STACK);
  pthread_t t;
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&t, &attr, helper, j);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    running = j->next;
    pthread_mutex_unlock(&running_mu);
    close(j->xfd);
    job_free(j);
    return rc == ENOMEM ? -ENOMEM : 0; /* no thread: numbers */
  }
  pthread_mutex_unlock(&running_mu);

  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += deadline_ms / 1000;
  until.tv_nsec += (long)(deadline_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
  pthread_mutex_lock(&j->mu);
  while (!j->done && pthread_cond_timedwait(&j->cv, &j->mu, &until) != ETIMEDOUT) {
  }
  int done = j->done;
  rc = done && j->ok ? take(j, out) : 0;
  pthread_mutex_unlock(&j->mu);
  /* A helper that finished is joined, so none of its code runs after we
     return (the module may be unloaded next); a stuck one is let go. */
  if (done)
    pthread_join(t, NULL);
  else
    pthread_detach(t);
  job_release(j);
  if (rc < 0) lend_free(out);
  return rc;
}

/* Free what lend_names() copied. */
void lend_free(struct lent *l) {
  psnap_idtab_free(&l->pw);
  psnap_idtab_free(&l->gr);
  psnap_free(l->tty);
  memset(l, 0, sizeof *l);
}
