/*
** lend.c: the names a container lends (its /etc/passwd, its /etc/group,
** the names of the character devices in its /dev), fetched from the
** helper program (helper/lender.c; what the two say: lendproto.h).
**
** Everything else about a container's processes comes from the caller's
** own /proc (ns.c); these files are the only ones read from the
** container's filesystem, and the container controls them. They are read
** by a helper *program* in an address space of its own, never by a thread
** of the caller's and never in the caller's memory:
**
**   - it is carried inside the module as bytes (psnap_lender_elf) and
**     exec'd from a sealed memfd, so no path is searched for it;
**   - it is started invisibly to the host program: two children made by
**     glibc's clone() with CLONE_VM | CLONE_VFORK and exit signal 0, every
**     signal blocked, so no fork handler runs and no SIGCHLD is sent; the
**     second only moves three descriptors into place and execs (the
**     caller's thread is suspended meanwhile, so even the C library's errno
**     it shares is not touched under it), the first exits once it has, so
**     the helper is an orphan that the host's wait() never sees; where
**     CLONE_VM is refused (valgrind) the children are copies, which exec at
**     once too;
**   - after the exec it makes itself not dumpable, drops every id and
**     capability and reads its request (helper/lender.c). The host
**     program's dumpable flag, memory and descriptors are never its;
**   - it gets one end of a socketpair, on which it answers, and the read
**     end of a pipe whose closing kills it (the caller done with it, late,
**     or dead); for each query the caller opens the lender's root (O_PATH,
**     through its own /proc/PID/root) and sends it over the socket, then
**     reads the answer until the deadline, asking every LEND_POLL_MS
**     whether the query was interrupted (cfg.interrupted:
**     sqlite3_interrupt, Ctrl-C);
**   - a helper that answered whole is kept for the next query (one per
**     program, `idle`), and leaves by itself after LEND_IDLE_S seconds
**     without one: an exec costs a query 1 to 1.5 ms on a VM, a request
**     to a kept helper about 0.3 ms (bench/RESULTS.md). The descriptors
**     kept for it are checked to be still ours (a program may close them
**     behind our back) before each use, and closed in a fork's child.
**
** Past the deadline the names stay numbers and the helper is killed. One
** stuck in a FUSE request that its daemon never answers cannot die until
** the daemon does: it holds its own small address space, its three
** descriptors and no privilege, and the caller keeps its pidfd to know
** when it is gone (the module is linked -z nodelete: that list outlives a
** connection). A namespace whose helper missed its deadline lends nothing
** until that helper is gone and PSNAP_LEND_RETRY deadlines have passed;
** at most PSNAP_LEND_STUCK helpers of a program are stuck at once: past
** that no namespace lends until one is reaped. A FUSE connection of the
** lender's mounts with requests already waiting
** (/sys/fs/fuse/connections/N/waiting, readable by root) is not read at
** all: another program's helper is stuck there.
**
** Queries of one namespace at once share one helper: a query that finds a
** lending in flight waits for its result (within its own deadline).
** Cancellation is disabled while a query waits.
*/
#include "snap.h"
#include "lendproto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define LEND_POLL_MS 50                 /* how often a wait asks whether the query was interrupted */
#define LEND_CHILD_STACK ((size_t)8192) /* each child's stack until its exec, on the caller's */
#define LEND_DIE_MS 20                  /* how long a killed helper may take to die before it counts as stuck */

/* The helper program (build/lender_blob.c, made from build/ps-lend). */
extern const unsigned char psnap_lender_elf[];
extern const size_t psnap_lender_size;

/* What one helper sent: the files' bytes and the terminal table. */
struct names_raw {
  struct psnap_buf passwd, group, tty;
};

/*
** A lending of one namespace, in flight, done, or stuck: one per
** namespace in the list, so a namespace never has two helpers.
*/
enum { L_FLIGHT, L_DONE, L_STUCK };
struct lending {
  uint64_t key; /* the PID namespace */
  int state;    /* L_* */
  int refs;     /* the leader while in flight, and each waiter */
  int linked;   /* in the list */
  int ok;       /* L_DONE: raw holds the names */
  struct names_raw raw;
  int pidfd;          /* L_STUCK: the killed helper, -1 once it is gone */
  long long retry_ms; /* L_STUCK: CLOCK_MONOTONIC; ask this namespace again from then on */
  struct lending *next;
};
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv; /* a lending left L_FLIGHT; CLOCK_MONOTONIC */
static struct lending *list;
static int nstuck; /* entries whose helper is not gone */

/*
** A running helper, as the caller holds it: the socket, the pipe whose
** closing kills it, and a pidfd (from its first HELLO; -1 before). Each
** descriptor's identity is kept, so that one the program closed behind
** our back (and whose number it reused) is never taken for ours.
*/
struct helper {
  int sock, death, pidfd;
  dev_t sdev, ddev;
  ino_t sino, dino;
};
#define NO_HELPER ((struct helper){.sock = -1, .death = -1, .pidfd = -1})

/* The helper kept between queries (sock -1: none); under mu. */
static struct helper idle = {.sock = -1, .death = -1, .pidfd = -1};

static void raw_free(struct names_raw *r) {
  psnap_buf_free(&r->passwd);
  psnap_buf_free(&r->group);
  psnap_buf_free(&r->tty);
}

/* cv waits on CLOCK_MONOTONIC, as every deadline here does. */
static void cond_init(void) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(&cv, &a);
  pthread_condattr_destroy(&a);
}

/* fork(2) of the host program: its child has no helpers of ours. */
static void fork_prepare(void) { pthread_mutex_lock(&mu); }
static void fork_parent(void) { pthread_mutex_unlock(&mu); }
static void fork_child(void) {
  for (struct lending *e = list; e; e = e->next)
    if (e->pidfd >= 0) close(e->pidfd);
  /* the parent keeps its helper: closing these copies does not end it */
  if (idle.sock >= 0) close(idle.sock), close(idle.death);
  if (idle.pidfd >= 0) close(idle.pidfd);
  idle = NO_HELPER;
  list = NULL; /* the entries stay allocated: waiters of the parent's threads do not exist here */
  nstuck = 0;
  pthread_mutex_init(&mu, NULL);
  cond_init();
}
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void init(void) {
  cond_init();
  pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* 1 when the process of pidfd has exited, waiting at most ms. */
static int gone(int pidfd, int ms) {
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  int n;
  while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR) {
  }
  return n > 0;
}

/* Take e out of the list; its holders keep it. Under mu. */
static void detach(struct lending *e) {
  struct lending **p = &list;
  while (*p && *p != e) p = &(*p)->next;
  if (*p) *p = e->next;
  e->linked = 0;
}

/* Unlink e and free it, when nobody holds it. Under mu. */
static void unlink_entry(struct lending *e) {
  detach(e);
  if (e->refs == 0) {
    raw_free(&e->raw);
    free(e);
  }
}

/* Reap the stuck helpers that have died, forget namespaces due again. Under mu. */
static void reap(void) {
  long long now = now_ms();
  for (struct lending *e = list, *next; e; e = next) {
    next = e->next;
    if (e->state != L_STUCK) continue;
    if (e->pidfd >= 0 && gone(e->pidfd, 0)) {
      close(e->pidfd);
      e->pidfd = -1;
      nstuck--;
    }
    if (e->pidfd < 0 && now >= e->retry_ms) unlink_entry(e);
  }
}

/* --------------------------------------------------------- the helper */

struct child_arg {
  int exe, sock, death;
  char caller[24]; /* the helper's argv[1]: whose helper it is, for ps(1) users */
  char path[32];   /* /proc/self/fd/EXE: for an exec that cannot take the descriptor (valgrind's) */
  char *stack;     /* the second child's stack (top) */
};

/*
** The second child, until its exec: in the caller's address space
** (CLONE_VM; the caller's thread and the first child suspended by
** CLONE_VFORK) or a copy of it, on a stack of its own, every signal
** blocked. Raw system calls on its own descriptor table only: the socket
** to 1, the pipe to 2, 0 closed, every other descriptor closed by the
** exec. Returns (exits with) 127 when the exec failed.
*/
RAW_CHILD static int exec_child(void *p) {
  const struct child_arg *a = p;
  long sock = RAW3(SYS_fcntl, a->sock, F_DUPFD, 3), death = RAW3(SYS_fcntl, a->death, F_DUPFD, 3);
  if (sock < 0 || death < 0 || RAW3(SYS_dup3, sock, LEND_FD_SOCK, 0) < 0 || RAW3(SYS_dup3, death, LEND_FD_DEATH, 0) < 0)
    return 127;
  RAW1(SYS_close, 0);
  /* the rest close at the exec (Linux 5.11); before, the helper closes them itself */
  RAW3(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  const char *argv[] = {"ps-lend", a->caller, NULL}, *envp[] = {NULL};
  RAW6(SYS_execveat, a->exe, "", argv, envp, AT_EMPTY_PATH, 0);
  /* valgrind runs execveat() by the path that /proc/self/fd gives, which a
     memfd's is not; the magic link itself opens */
  RAW3(SYS_execve, a->path, argv, envp);
  return 127;
}

/*
** The first child: it starts the second and exits once that one has
** exec'd, so the helper is nobody's child of the caller's: an exec sets a
** process's exit signal back to SIGCHLD (fs/exec.c de_thread), and a
** child of the caller's would then signal it and show in its wait().
** Orphaned, the helper is adopted by init (or by the nearest child
** subreaper, see the README).
*/
RAW_CHILD static int first_child(void *p) {
  struct child_arg *a = p;
  return clone(exec_child, a->stack, CLONE_VM | CLONE_VFORK, a) < 0 ? 127 : 0;
}

/*
** The helper program in a sealed memfd: fd (close-on-exec), or -errno.
** MFD_EXEC where the kernel knows it (vm.memfd_noexec may make memfds not
** executable by default).
*/
static int lender_exe(void) {
  int fd = memfd_create("ps-lend", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("ps-lend", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -errno;
  size_t off = 0;
  while (off < psnap_lender_size) {
    ssize_t w = write(fd, psnap_lender_elf + off, psnap_lender_size - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = w < 0 ? errno : EIO;
      close(fd);
      return -e;
    }
    off += (size_t)w;
  }
  (void)fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
  return fd;
}

/*
** Start the helper with sock and death as its descriptors 1 and 2: glibc's
** clone() (it runs the function on the stack given, no hand-written
** trampoline), CLONE_VM | CLONE_VFORK, exit signal 0, so that no fork
** handler runs, no SIGCHLD is sent and the program's wait() sees nothing;
** the first child is reaped here through its pidfd. Where CLONE_VM is
** refused (valgrind runs such clones as forks) the children are copies,
** which exec at once as well. 0 or -errno.
*/
static int spawn(int sock, int death) {
  int exe = lender_exe();
  if (exe < 0) return exe;
  char stack[2 * LEND_CHILD_STACK] __attribute__((aligned(16)));
  struct child_arg a = {.exe = exe, .sock = sock, .death = death, .stack = stack + LEND_CHILD_STACK};
  snprintf(a.caller, sizeof a.caller, "%d", (int)getpid());
  snprintf(a.path, sizeof a.path, "/proc/self/fd/%d", exe);
  /* Every signal blocked in the children (no handler of the program can
     run in them); the raw call blocks the two that glibc keeps for itself */
  uint64_t all = ~0ULL, old;
  RAW4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof all);
  int saved = errno, pidfd = -1;
  long pid = clone(first_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | CLONE_PIDFD, &a, &pidfd);
  int e = errno;
  errno = saved;
  RAW4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
  close(exe);
  if (pid < 0) return -e;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | __WALL) < 0 && errno == EINTR) {
  }
  close(pidfd);
  return si.si_code == CLD_EXITED && si.si_status == 0 ? 0 : -ECHILD;
}

/* Append n bytes to b, at most max in all. 0, -E2BIG past max, or -ENOMEM. */
static int append(struct psnap_buf *b, const char *p, size_t n, size_t max) {
  if (n > max - b->len) return -E2BIG;
  if (b->len + n > b->cap) {
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < b->len + n) ncap *= 2;
    if (ncap > max) ncap = max;
    char *np = psnap_realloc(b->p, ncap);
    if (!np) return -ENOMEM;
    b->p = np;
    b->cap = ncap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

/* The helper's records, taken as they come. */
struct stream {
  struct lend_rec h;
  size_t hgot; /* header bytes so far */
  size_t left; /* bytes of the current record still to come */
  uint32_t kind;
  int end; /* END came: its status in status */
  int status;
  int pid; /* HELLO: the helper's pid, or -1 */
};

/* Take n bytes of the stream. 0, -EPROTO for a stream that breaks a rule or a bound, -ENOMEM. */
static int feed(struct stream *st, struct names_raw *r, const char *p, size_t n) {
  while (n) {
    if (st->end) return -EPROTO; /* nothing after END */
    if (st->left == 0) {
      size_t k = sizeof st->h - st->hgot < n ? sizeof st->h - st->hgot : n;
      memcpy((char *)&st->h + st->hgot, p, k);
      st->hgot += k, p += k, n -= k;
      if (st->hgot < sizeof st->h) break;
      st->hgot = 0;
      int bare = st->h.kind == LEND_REC_END || st->h.kind == LEND_REC_HELLO;
      if (st->h.len > LEND_CHUNK || bare != (st->h.len == 0)) return -EPROTO;
      if (st->h.kind == LEND_REC_END) {
        st->end = 1;
        st->status = st->h.status;
        continue;
      }
      if (st->h.kind == LEND_REC_HELLO) {
        if (st->pid >= 0 || st->h.status <= 0) return -EPROTO;
        st->pid = st->h.status;
        continue;
      }
      if (st->h.kind != LEND_REC_PASSWD && st->h.kind != LEND_REC_GROUP && st->h.kind != LEND_REC_TTY) return -EPROTO;
      st->kind = st->h.kind;
      st->left = st->h.len;
      continue;
    }
    size_t k = st->left < n ? st->left : n;
    struct psnap_buf *b = st->kind == LEND_REC_PASSWD ? &r->passwd : st->kind == LEND_REC_GROUP ? &r->group : &r->tty;
    size_t max = st->kind == LEND_REC_TTY ? LEND_MAX_TTY * sizeof(struct ttyname) : (size_t)PSNAP_ETC_MAX + 1;
    int rc = append(b, p, k, max);
    if (rc < 0) return rc == -E2BIG ? -EPROTO : rc;
    st->left -= k, p += k, n -= k;
  }
  return 0;
}

/* How a wait ended. */
enum { W_DONE, W_LATE, W_INTR };

/* 1 when the query that waits was interrupted. */
static int interrupted(const struct lend_ctl *ctl) { return ctl->interrupted && ctl->interrupted(ctl->arg); }

/*
** Read the helper's records until it closes the socket, the deadline
** passes or the query is interrupted. W_* (*rc: 0, -EPROTO, -ENOMEM);
** *pid: the helper's, from HELLO (it is waiting for this caller then: the
** pid is still its own), or -1.
*/
static int collect(int sock, const struct lend_ctl *ctl, struct names_raw *r, int *rc, int *pid) {
  struct stream st;
  memset(&st, 0, sizeof st);
  st.pid = -1;
  char buf[16384];
  long long until = now_ms() + ctl->deadline_ms;
  int w = W_DONE;
  *rc = 0;
  for (;;) {
    long long left = until - now_ms();
    if (left <= 0) {
      w = W_LATE;
      break;
    }
    if (interrupted(ctl)) {
      w = W_INTR;
      break;
    }
    struct pollfd p = {.fd = sock, .events = POLLIN};
    int n = poll(&p, 1, left < LEND_POLL_MS ? (int)left : LEND_POLL_MS);
    if (n < 0 && errno != EINTR) {
      w = W_LATE;
      break;
    }
    if (n <= 0) continue;
    ssize_t got = read(sock, buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) break; /* the helper died: EOF */
    *rc = feed(&st, r, buf, (size_t)got);
    if (*rc < 0 || (st.end && !st.left && !st.hgot)) break; /* END: this request is answered */
  }
  if (w == W_DONE && *rc == 0 && (!st.end || st.left || st.hgot || st.status != 0)) *rc = -EPROTO;
  *pid = st.pid;
  return w;
}

/*
** 1 when one of the FUSE connections among the lender's mounts has
** requests waiting that no daemon has answered: a helper sent there would
** wait too (another program's is stuck there). Unknown (not root, no
** fusectl mounted): 0.
*/
static int fuse_busy(int xfd) {
  struct psnap_buf b = {0};
  int busy = 0;
  if (access("/sys/fs/fuse/connections", R_OK | X_OK) != 0 ||
      psnap_readat(xfd, "mountinfo", 0, &b, PSNAP_SMALL_MAX) < 0) {
    psnap_buf_free(&b);
    return 0;
  }
  /* proc(5): ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPEROPTIONS */
  for (char *line = b.p, *end = b.p + b.len; line < end && !busy;) {
    char *nl = memchr(line, '\n', (size_t)(end - line));
    char *le = nl ? nl : end;
    *le = '\0';
    unsigned long long id, parent, maj, min;
    const char *q = line, *dash = strstr(line, " - ");
    int fuse = dash && (strncmp(dash + 3, "fuse ", 5) == 0 || strncmp(dash + 3, "fuse.", 5) == 0 ||
                        strncmp(dash + 3, "fuseblk ", 8) == 0);
    if (fuse && psnap_next_uint(&q, le, &id) && psnap_next_uint(&q, le, &parent) && psnap_next_uint(&q, le, &maj) &&
        q < le && *q++ == ':' && psnap_next_uint(&q, le, &min) && maj < 4096 && min < (1u << 20)) {
      /* the connection is named by the kernel's device number (fs/fuse/control.c) */
      char path[64], val[24];
      (void)id, (void)parent;
      snprintf(path, sizeof path, "/sys/fs/fuse/connections/%llu/waiting", (maj << 20) | min);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        ssize_t n = read(fd, val, sizeof val - 1);
        close(fd);
        const char *v = val;
        unsigned long long waiting;
        busy = n > 0 && psnap_next_uint(&v, val + n, &waiting) && waiting > 0;
      }
    }
    line = le + 1;
  }
  psnap_buf_free(&b);
  return busy;
}

/* Close what the caller holds of h: the helper dies as its pipe closes. */
static void helper_close(struct helper *h) {
  if (h->pidfd >= 0) close(h->pidfd);
  if (h->death >= 0) close(h->death);
  if (h->sock >= 0) close(h->sock);
  *h = NO_HELPER;
}

/* 1 when h's socket and pipe are still the descriptors they were. */
static int helper_ours(const struct helper *h) {
  struct stat a, b;
  return fstat(h->sock, &a) == 0 && fstat(h->death, &b) == 0 && S_ISSOCK(a.st_mode) && S_ISFIFO(b.st_mode) &&
         a.st_dev == h->sdev && a.st_ino == h->sino && b.st_dev == h->ddev && b.st_ino == h->dino;
}

/* Start a new helper into *h. 0 or -errno. */
static int helper_start(struct helper *h) {
  int sv[2], death[2];
  *h = NO_HELPER;
  if (pipe2(death, O_CLOEXEC) < 0) return -errno;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    int e = errno;
    close(death[0]), close(death[1]);
    return -e;
  }
  struct stat a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  int rc = fstat(sv[0], &a) < 0 || fstat(death[1], &b) < 0 ? -errno : spawn(sv[1], death[0]);
  close(sv[1]);
  close(death[0]);
  if (rc < 0) {
    close(sv[0]), close(death[1]);
    return rc;
  }
  *h = (struct helper){.sock = sv[0], .death = death[1], .pidfd = -1};
  h->sdev = a.st_dev, h->sino = a.st_ino, h->ddev = b.st_dev, h->dino = b.st_ino;
  return 0;
}

/* The helper kept from an earlier query, if it is still there and ours. 1, or 0 (none). */
static int helper_take(struct helper *h) {
  pthread_mutex_lock(&mu);
  *h = idle;
  idle = NO_HELPER;
  pthread_mutex_unlock(&mu);
  if (h->sock < 0) return 0;
  if (!helper_ours(h)) {
    *h = NO_HELPER; /* the program closed them: the numbers are not ours to close */
    return 0;
  }
  if (h->pidfd >= 0 && gone(h->pidfd, 0)) {
    helper_close(h); /* it left, idle */
    return 0;
  }
  return 1;
}

/* Keep h for the next query, unless one is kept already. */
static void helper_keep(struct helper *h) {
  pthread_mutex_lock(&mu);
  if (idle.sock < 0) {
    idle = *h;
    *h = NO_HELPER;
  }
  pthread_mutex_unlock(&mu);
  if (h->sock >= 0) helper_close(h);
}

/* Send one request, with the lender's root. 0 or -errno. */
static int ask(const struct helper *h, int root, unsigned what) {
  struct lend_req q = {.magic = LEND_MAGIC, .what = what};
  struct iovec iov = {.iov_base = &q, .iov_len = sizeof q};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } c;
  memset(&c, 0, sizeof c);
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
  struct cmsghdr *ch = CMSG_FIRSTHDR(&m);
  ch->cmsg_level = SOL_SOCKET;
  ch->cmsg_type = SCM_RIGHTS;
  ch->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(ch), &root, sizeof root);
  ssize_t n;
  while ((n = sendmsg(h->sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  return n == (ssize_t)sizeof q ? 0 : n < 0 ? -errno : -EPROTO;
}

/*
** Lend through a helper for the lender whose /proc directory is xfd: the
** one kept from an earlier query, else a new one (and a new one once more
** when the kept one turns out to have left). Returns W_*; *r holds what it
** sent when *rc is 0; *stuck is its pidfd when it was killed and did not
** die (else -1). A helper that answered whole is kept for the next query.
*/
static int run_helper(int xfd, unsigned what, const struct lend_ctl *ctl, struct names_raw *r, int *rc, int *stuck) {
  *stuck = -1;
  *rc = 0;
  if (fuse_busy(xfd)) {
    *rc = -EBUSY;
    return W_DONE;
  }
  int root = openat(xfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    *rc = -errno;
    return W_DONE;
  }
  struct helper h;
  int w = W_DONE, kept = helper_take(&h);
  for (;;) {
    if (!kept && (*rc = helper_start(&h)) < 0) break; /* EAGAIN: the process limit: numbers */
    int pid = -1;
    *rc = ask(&h, root, what);
    if (*rc == 0) w = collect(h.sock, ctl, r, rc, &pid);
    if (pid > 0 && h.pidfd < 0) h.pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (kept && w == W_DONE && pid <= 0 && *rc < 0) {
      /* the kept one left (idle) before it read this request: a new one */
      raw_free(r);
      helper_close(&h);
      kept = 0;
      continue;
    }
    break;
  }
  close(root);
  if (*rc == 0 && w == W_DONE) {
    helper_keep(&h);
    return w;
  }
  /* Late, interrupted or broken: killed, and its pipe closed (which kills
     it too). It dies at once, unless it waits in a FUSE request that its
     daemon read and never answers, where no signal reaches */
  if (h.pidfd >= 0 && w != W_DONE) (void)syscall(SYS_pidfd_send_signal, h.pidfd, SIGKILL, NULL, 0);
  int pidfd = h.pidfd;
  h.pidfd = -1;
  helper_close(&h);
  if (pidfd >= 0 && w != W_DONE && !gone(pidfd, LEND_DIE_MS))
    *stuck = pidfd;
  else if (pidfd >= 0)
    close(pidfd);
  return w;
}

/* Copy a finished helper's names into the snapshot's memory. 0 or -ENOMEM. */
static int take(const struct names_raw *r, struct lent *out) {
  size_t np = r->passwd.len, ng = r->group.len;
  int rc = 0;
  /* Cut at the bound: the last line may be any prefix of an entry, so it is none */
  if (np > PSNAP_ETC_MAX)
    for (np = PSNAP_ETC_MAX; np > 0 && r->passwd.p[np - 1] != '\n';) np--;
  if (ng > PSNAP_ETC_MAX)
    for (ng = PSNAP_ETC_MAX; ng > 0 && r->group.p[ng - 1] != '\n';) ng--;
  rc = psnap_idtab_parse(&out->pw, np ? r->passwd.p : "", np);
  if (rc == 0) rc = psnap_idtab_parse(&out->gr, ng ? r->group.p : "", ng);
  size_t nt = r->tty.len / sizeof(struct ttyname);
  if (rc == 0 && nt) {
    out->tty = psnap_malloc(nt * sizeof *out->tty);
    if (!out->tty)
      rc = -ENOMEM;
    else {
      memcpy(out->tty, r->tty.p, nt * sizeof *out->tty);
      out->ntty = nt;
    }
  }
  if (rc < 0) return rc;
  out->ok = 1;
  return 0;
}

/* Wait, under mu, until e leaves L_FLIGHT, the deadline passes or the query is interrupted. W_*. */
static int wait_flight(struct lending *e, const struct lend_ctl *ctl) {
  long long until = now_ms() + ctl->deadline_ms;
  while (e->state == L_FLIGHT) {
    long long now = now_ms();
    if (now >= until) return W_LATE;
    if (interrupted(ctl)) return W_INTR;
    long long at = now + (until - now < LEND_POLL_MS ? until - now : LEND_POLL_MS);
    struct timespec ts = {.tv_sec = (time_t)(at / 1000), .tv_nsec = (long)(at % 1000) * 1000000};
    pthread_cond_timedwait(&cv, &mu, &ts);
  }
  return W_DONE;
}

/* Give up a hold on e; under mu. */
static void release(struct lending *e) {
  if (--e->refs == 0 && !e->linked) {
    raw_free(&e->raw);
    free(e);
  }
}

/*
** Borrow the names of namespace key from the root of the process whose
** /proc directory is xfd, waiting at most ctl->deadline_ms. Returns 0 with
** *out filled (out->ok 1), 0 with out->ok 0 when the names could not be
** read in time or at all (they stay numbers), -EINTR when the query was
** interrupted, or -ENOMEM.
*/
int lend_names(int xfd, uint64_t key, unsigned what, const struct lend_ctl *ctl, struct lent *out) {
  memset(out, 0, sizeof *out);
  pthread_once(&init_once, init);
  int cancel;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
  int rc = 0;
  struct lending *mine = calloc(1, sizeof *mine); /* taken now: no allocation after a deadline */
  pthread_mutex_lock(&mu);
  reap();
  struct lending *e = list;
  while (e && e->key != key) e = e->next;
  if (e && e->state == L_FLIGHT) {
    /* Another query lends this namespace now: its result is ours */
    e->refs++;
    int w = wait_flight(e, ctl);
    pthread_mutex_unlock(&mu);
    if (w == W_INTR)
      rc = -EINTR;
    else if (w == W_DONE && e->state == L_DONE && e->ok)
      rc = take(&e->raw, out);
    pthread_mutex_lock(&mu);
    release(e);
    pthread_mutex_unlock(&mu);
    free(mine);
    goto out;
  }
  if (e || nstuck >= PSNAP_LEND_STUCK || !mine) {
    /* stuck lately, too many stuck, or no memory: numbers */
    pthread_mutex_unlock(&mu);
    rc = mine ? 0 : -ENOMEM;
    free(mine);
    goto out;
  }
  e = mine;
  *e = (struct lending){.key = key, .state = L_FLIGHT, .refs = 1, .linked = 1, .pidfd = -1, .next = list};
  list = e;
  pthread_mutex_unlock(&mu);

  int hrc, stuck;
  int w = run_helper(xfd, what, ctl, &e->raw, &hrc, &stuck);
  pthread_mutex_lock(&mu);
  if (w == W_LATE || stuck >= 0) {
    /* Too late (or interrupted with the helper stuck): this namespace lends
       nothing until the helper is gone and PSNAP_LEND_RETRY deadlines passed */
    e->state = L_STUCK;
    e->pidfd = stuck;
    if (stuck >= 0) nstuck++;
    e->retry_ms = now_ms() + (long long)PSNAP_LEND_RETRY * ctl->deadline_ms;
    raw_free(&e->raw);
  } else {
    e->state = L_DONE;
    e->ok = w == W_DONE && hrc == 0;
    detach(e); /* its holders (this query, waiters) free it */
  }
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  if (w == W_INTR)
    rc = -EINTR;
  else if (hrc == -ENOMEM)
    rc = -ENOMEM;
  else if (e->state == L_DONE && e->ok)
    rc = take(&e->raw, out);
  pthread_mutex_lock(&mu);
  release(e);
  pthread_mutex_unlock(&mu);
out:
  if (rc < 0) lend_free(out);
  pthread_setcancelstate(cancel, NULL);
  return rc;
}

/* End the helper kept for the next lending, if any (psnap.h). */
void psnap_lend_release(void) {
  pthread_once(&init_once, init);
  struct helper h;
  if (helper_take(&h)) helper_close(&h);
}

/* Free what lend_names() copied. */
void lend_free(struct lent *l) {
  psnap_idtab_free(&l->pw);
  psnap_idtab_free(&l->gr);
  psnap_free(l->tty);
  memset(l, 0, sizeof *l);
}
