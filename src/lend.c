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
**   - all of it happens in a helper *process*, never on a thread of the
**     caller's: made by a raw clone3 (no fork handlers of the host program
**     run, no SIGCHLD is sent to it and its wait() does not see the
**     helper), with every signal blocked and every handler reset. It
**     shares the caller's address space (CLONE_VM: nothing is copied, so
**     it costs what a thread costs whatever the program's size) but
**     touches only its own mapping: its arguments, its stack and its
**     results, which the caller unmaps only once it has reaped the helper.
**     It runs no C library code that keeps state (rawsys.h: raw system
**     calls, no errno), has its own descriptor table, in which it closes
**     every descriptor but the lender's, and drops its supplementary
**     groups, its fsuid and fsgid (to nobody) and all its capabilities
**     before it opens anything, so a planted link cannot read what nobody
**     cannot. Where clone3 with a stack is not available (filtered, before
**     Linux 5.5, another architecture, valgrind) the helper is a copy of
**     the caller instead (fork without fork handlers), made not dumpable
**     (by plain clone where clone3 is refused: its handlers stay, blocked);
**   - the caller waits on a pidfd until a deadline. Past it the names stay
**     numbers and the helper is killed. One stuck in a FUSE request that
**     its daemon never answers cannot die until the daemon does: it holds
**     none of the host program's descriptors, locks or threads (glibc's
**     setuid() broadcast, which waits for every thread of the program, and
**     a host that exits never wait for it), only its memory mapped, and is
**     reaped by a later call (the module is linked -z nodelete: that list
**     outlives a connection).
**     A namespace whose helper missed its deadline lends nothing until
**     that helper is gone and ten deadlines have passed: its queries get
**     numbers at once, and it never has two helpers.
*/
#include "snap.h"
#include "rawsys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
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

#define LEND_ID 65534                  /* the unprivileged fsuid and fsgid of the helper */
#define LEND_MAX_TTY 4096              /* device names kept from a container's /dev */
#define LEND_STACK ((size_t)128 << 10) /* the helper's stack, in its own mapping */
#define LEND_MAX_FD (1L << 20)         /* most descriptors closed one by one, before close_range (Linux 5.9) */

/*
** The helper's memory, one mapping per helper (MAP_SHARED, so that a copy
** made by fork shares it too): a guard page, the helper's stack, then
** this. The caller writes the arguments before the helper starts; the
** helper alone writes the results, read by the caller once it has exited.
** Pages are allocated as they are written: a few KiB for the usual /etc.
*/
struct shared {
  int xfd;       /* the lender's /proc directory */
  unsigned what; /* LEND_IDS, LEND_TTY */
  pid_t caller;  /* the caller's pid: the helper's parent */
  int copy;      /* 1: a copy of the caller (fork), 0: sharing its address space */
  int dumpable;  /* the caller's PR_GET_DUMPABLE, restored after a shared helper's setfsuid() */
  int ok;        /* the helper got through its work */
  size_t npasswd, ngroup, ntty;
  char passwd[PSNAP_ETC_MAX + 2]; /* one byte past the bound tells a cut, one NUL */
  char group[PSNAP_ETC_MAX + 2];
  struct ttyname tty[LEND_MAX_TTY];
};

/* The mapping: guard page, stack, struct shared. */
static size_t page_size(void) {
  long p = sysconf(_SC_PAGESIZE);
  return p > 0 ? (size_t)p : 4096;
}
static size_t mem_len(void) {
  size_t pg = page_size();
  return pg + LEND_STACK + (sizeof(struct shared) + pg - 1) / pg * pg;
}
static struct shared *mem_shared(char *mem) { return (struct shared *)(mem + page_size() + LEND_STACK); }

/*
** Namespaces whose helper missed its deadline: each lends nothing until
** its helper is gone and PSNAP_LEND_RETRY deadlines have passed, so a
** container that hangs its /etc costs a query the deadline at most once in
** that time, and never has two helpers.
*/
struct straggler {
  uint64_t key;       /* the PID namespace: one each */
  int pidfd;          /* the killed helper (a pid could be reused), -1 once reaped */
  long long retry_ms; /* CLOCK_MONOTONIC: ask this namespace again from then on */
  char *mem;          /* the helper's mapping, unmapped once it is reaped (NULL: none) */
  struct straggler *next;
};
static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
static struct straggler *running;

/* fork(2) of the host program: its child has no children of ours. */
static void fork_prepare(void) { pthread_mutex_lock(&running_mu); }
static void fork_parent(void) { pthread_mutex_unlock(&running_mu); }
static void fork_child(void) {
  for (struct straggler *r = running; r; r = r->next) {
    if (r->pidfd >= 0) close(r->pidfd);
    if (r->mem) munmap(r->mem, mem_len());
  }
  running = NULL; /* the entries stay allocated: not worth a free() here */
  pthread_mutex_init(&running_mu, NULL);
}
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void atfork(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* Reap the helper of pidfd if it has exited (flags WNOHANG) or once it has. 1 if reaped. */
static int reaped(int pidfd, int flags) {
  siginfo_t si;
  si.si_pid = 0;
  if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | __WALL | flags) < 0) return errno == ECHILD;
  return si.si_pid != 0;
}

/* Reap the stragglers that have died, forget those due again; under running_mu. */
static void reap(void) {
  long long now = now_ms();
  for (struct straggler **p = &running; *p;) {
    struct straggler *r = *p;
    if (r->pidfd >= 0 && reaped(r->pidfd, WNOHANG)) {
      close(r->pidfd);
      r->pidfd = -1;
      munmap(r->mem, mem_len());
      r->mem = NULL;
    }
    if (r->pidfd < 0 && now >= r->retry_ms) {
      *p = r->next;
      free(r);
    } else
      p = &r->next;
  }
}

/* ----------------------------------------------------------- the helper */

/*
** Everything from here to the caller's part runs in the helper: raw system
** calls only, no errno, no allocation, no memory of the caller's but its
** own mapping (RAW_CHILD: no sanitizer run-time either).
*/

/*
** Drop this process's file-access privileges: no supplementary groups,
** fsuid and fsgid nobody, then no capabilities at all (setfsuid() needs
** CAP_SETUID). Each is a system call on this task alone: glibc's wrappers
** would broadcast them to the caller's threads. A caller that is not root
** cannot change its ids and keeps its own, which are unprivileged
** already. A new fsuid or fsgid resets the dumpable flag of the address
** space to fs.suid_dumpable: one shared with the caller gets the caller's
** value (dumpable, 0 or 1) back at once. Returns 0, or -EPERM when the
** helper would still read as root.
*/
RAW_CHILD static int unprivileged(const struct shared *m) {
  RAW2(SYS_setgroups, 0, NULL);
  RAW1(SYS_setfsgid, LEND_ID);
  RAW1(SYS_setfsuid, LEND_ID);
  if (!m->copy && (m->dumpable == 0 || m->dumpable == 1)) RAW2(SYS_prctl, PR_SET_DUMPABLE, m->dumpable);
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2] = {{0, 0, 0}, {0, 0, 0}};
  RAW2(SYS_capset, &h, d); /* last: the calls above need CAP_SETGID and CAP_SETUID */
  /* setfsuid(-1) changes nothing and returns the current fsuid */
  return RAW1(SYS_setfsuid, -1) == 0 ? -EPERM : 0;
}

/* File systems whose "regular files" are kernel interfaces, never names. */
RAW_CHILD static int kernel_fs(long type) {
  return type == PROC_SUPER_MAGIC || type == SYSFS_MAGIC || type == DEBUGFS_MAGIC || type == TRACEFS_MAGIC ||
         type == SECURITYFS_MAGIC || type == BPF_FS_MAGIC || type == CGROUP_SUPER_MAGIC ||
         type == CGROUP2_SUPER_MAGIC || type == DEVPTS_SUPER_MAGIC;
}

/* Open a path beneath rootfd: inside the root, no magic links. fd or -errno. */
RAW_CHILD static int open_beneath(int rootfd, const char *path, int flags) {
  /* openat2 refuses O_NOCTTY beside O_PATH */
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)RAW4(SYS_openat2, rootfd, path, &how, sizeof how);
}

/*
** Read one lent file into buf (PSNAP_ETC_MAX + 2 bytes). A file that is
** absent or is not a regular file of an ordinary file system lends nothing
** (0, *len 0). More than PSNAP_ETC_MAX bytes: the part up to the last
** newline within the bound. 0 or -errno.
*/
RAW_CHILD static int read_lent(int rootfd, const char *path, char *buf, size_t *len) {
  *len = 0;
  int pfd = open_beneath(rootfd, path, O_PATH);
  if (pfd < 0) return pfd == -ENOENT || pfd == -ENOTDIR || pfd == -ELOOP || pfd == -EXDEV ? 0 : pfd;
  struct stat st, st2;
  struct statfs sf;
  if (raw_fstatat(pfd, "", &st, AT_EMPTY_PATH) < 0 || !S_ISREG(st.st_mode) || RAW2(SYS_fstatfs, pfd, &sf) < 0 ||
      kernel_fs((long)sf.f_type)) {
    RAW1(SYS_close, pfd);
    return 0;
  }
  /* Reopen the very file for reading, with the helper's credentials */
  char self[40] = "/proc/self/fd/", num[12], *e = num + sizeof num - 1;
  *e = '\0';
  unsigned v = (unsigned)pfd;
  do *--e = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  raw_copy(self + 14, e, (size_t)(num + sizeof num - e));
  int fd = (int)RAW4(SYS_openat, AT_FDCWD, self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
  RAW1(SYS_close, pfd);
  if (fd < 0) return fd == -EACCES ? 0 : fd;
  if (raw_fstatat(fd, "", &st2, AT_EMPTY_PATH) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino ||
      !S_ISREG(st2.st_mode)) {
    RAW1(SYS_close, fd);
    return 0;
  }
  size_t n = 0;
  int rc = 0;
  while (n < (size_t)PSNAP_ETC_MAX + 1) {
    long r = RAW3(SYS_read, fd, buf + n, (size_t)PSNAP_ETC_MAX + 1 - n);
    if (r == -EINTR) continue;
    if (r < 0) {
      rc = r == -EAGAIN ? 0 : (int)r;
      break;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  RAW1(SYS_close, fd);
  if (rc < 0) return rc;
  if (n > PSNAP_ETC_MAX) {
    /* Cut: the last line may be any prefix of an entry, so it is none */
    n = PSNAP_ETC_MAX;
    while (n > 0 && buf[n - 1] != '\n') n--;
  }
  buf[n] = '\0';
  *len = n;
  return 0;
}

/* names_dev_walk's "allocator" in the helper: the shared table, fixed. */
RAW_CHILD static void *grow_shared(void *ctx, void *p, size_t n) {
  (void)p;
  struct shared *m = ctx;
  return n <= sizeof m->tty ? m->tty : NULL;
}

/* The character devices at the top of the container's /dev. 0 or -errno. */
RAW_CHILD static int read_dev(int rootfd, struct shared *m) {
  int fd = open_beneath(rootfd, "dev", O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
  struct ttyname *t = m->tty;
  int rc = names_dev_walk(fd, grow_shared, m, &t, &m->ntty, LEND_MAX_TTY);
  return rc == -ENOMEM ? 0 : rc; /* a full table keeps what it holds */
}

/* Close every descriptor but fd: none of the host program's stays open in a helper that may be stuck. */
RAW_CHILD static void keep_only(int fd) {
  if ((fd == 0 || RAW3(SYS_close_range, 0, fd - 1, 0) == 0) && RAW3(SYS_close_range, fd + 1, ~0U, 0) == 0) return;
  struct rlimit rl; /* before Linux 5.9 */
  long top = LEND_MAX_FD;
  if (RAW4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) == 0 && rl.rlim_cur < (rlim_t)LEND_MAX_FD)
    top = (long)rl.rlim_cur;
  for (long i = 0; i < top; i++)
    if (i != fd) RAW1(SYS_close, i);
}

/*
** The helper: keep only the lender's directory, drop privileges, read,
** report. It returns only to exit (the clone trampoline, or spawn_copy).
*/
RAW_CHILD static int helper(void *arg) {
  struct shared *m = arg;
  keep_only(m->xfd);
  int rootfd = (int)RAW4(SYS_openat, m->xfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  RAW1(SYS_close, m->xfd);
  int rc = rootfd < 0 ? rootfd : unprivileged(m);
  /* After the credentials changed, which resets it: die with the caller's
     thread. A copy of the caller also becomes not dumpable, so that the
     program's memory in it cannot be read through ptrace or a core dump
     (dumpable belongs to an address space: one shared with the caller
     keeps the caller's, see unprivileged()) */
  RAW2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
  if (m->copy) RAW2(SYS_prctl, PR_SET_DUMPABLE, 0);
  if (RAW0(SYS_getppid) != m->caller) rc = -ESRCH; /* the caller died before prctl */
  if (rc == 0 && (m->what & LEND_IDS)) rc = read_lent(rootfd, "etc/passwd", m->passwd, &m->npasswd);
  if (rc == 0 && (m->what & LEND_IDS)) rc = read_lent(rootfd, "etc/group", m->group, &m->ngroup);
  if (rc == 0 && (m->what & LEND_TTY)) rc = read_dev(rootfd, m);
  m->ok = rc == 0;
  return 0;
}

/*
** psnap_lend_clone3(args, size, fn, arg): clone3(2) that runs fn(arg) in
** the child, on the stack that args names, then exits with its result
** (SYS_exit: the child is alone in its thread group). The parent gets the
** child's pid or -errno. fn and arg ride in registers that the system
** call keeps, and the child starts with a copy of them.
*/
#if RAW_SYS_INLINE
long psnap_lend_clone3(struct clone_args *ca, size_t size, int (*fn)(void *), void *arg)
    __attribute__((visibility("hidden")));
#if defined(__x86_64__)
__asm__(".text\n"
        ".globl psnap_lend_clone3\n"
        ".hidden psnap_lend_clone3\n"
        ".type psnap_lend_clone3, @function\n"
        ".p2align 4\n"
        "psnap_lend_clone3:\n"
        "  endbr64\n"
        "  mov %rdx, %r8\n"
        "  mov %rcx, %r9\n"
        "  mov $435, %eax\n" /* SYS_clone3 */
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jnz 1f\n"
        "  xor %ebp, %ebp\n"
        "  mov %r9, %rdi\n"
        "  call *%r8\n"
        "  mov %eax, %edi\n"
        "  mov $60, %eax\n" /* SYS_exit */
        "  syscall\n"
        "  hlt\n"
        "1:\n"
        "  ret\n"
        ".size psnap_lend_clone3, .-psnap_lend_clone3\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl psnap_lend_clone3\n"
        ".hidden psnap_lend_clone3\n"
        ".type psnap_lend_clone3, %function\n"
        ".p2align 2\n"
        "psnap_lend_clone3:\n"
        "  hint #34\n" /* bti c */
        "  mov x9, x2\n"
        "  mov x10, x3\n"
        "  mov x8, #435\n" /* SYS_clone3 */
        "  svc #0\n"
        "  cbnz x0, 1f\n"
        "  mov x0, x10\n"
        "  blr x9\n"
        "  mov x8, #93\n" /* SYS_exit */
        "  svc #0\n"
        "  brk #0\n"
        "1:\n"
        "  ret\n"
        ".size psnap_lend_clone3, .-psnap_lend_clone3\n");
#endif
#endif

/* ----------------------------------------------------------- the caller */

/* The helper in the caller's address space, on its own stack. pid or -errno. */
static long spawn_shared(struct shared *m, char *stack, int *pidfd) {
#if RAW_SYS_INLINE
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = CLONE_VM | CLONE_PIDFD | CLONE_CLEAR_SIGHAND;
  ca.pidfd = (uint64_t)(uintptr_t)pidfd;
  ca.exit_signal = 0;
  ca.stack = (uint64_t)(uintptr_t)stack;
  ca.stack_size = LEND_STACK;
  m->copy = 0;
  return psnap_lend_clone3(&ca, sizeof ca, helper, m);
#else
  (void)m, (void)stack, (void)pidfd;
  return -ENOSYS;
#endif
}

/* The helper as a copy of the caller, no exit signal. pid or -errno. */
static long spawn_copy(struct shared *m, int *pidfd) {
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = CLONE_PIDFD | CLONE_CLEAR_SIGHAND;
  ca.pidfd = (uint64_t)(uintptr_t)pidfd;
  ca.exit_signal = 0;
  m->copy = 1;
  long pid = syscall(SYS_clone3, &ca, sizeof ca);
  /* ENOSYS, EPERM: filtered (as runtimes' seccomp profiles have done); EINVAL: before Linux 5.5 */
  if (pid < 0 && (errno == ENOSYS || errno == EPERM || errno == EINVAL))
#if defined(__s390__) || defined(__CRIS__)
    pid = syscall(SYS_clone, 0, CLONE_PIDFD, pidfd, 0, 0);
#else
    pid = syscall(SYS_clone, CLONE_PIDFD, 0, pidfd, 0, 0);
#endif
  if (pid == 0) {
    helper(m);
    RAW1(SYS_exit_group, 0);
  }
  return pid < 0 ? -errno : pid;
}

/* Start the helper, sharing the caller's address space where it can. Its pid, or -errno. */
static long spawn(struct shared *m, char *stack, int *pidfd) {
  /* The helper starts with every signal blocked; the raw call blocks the
     two that glibc's pthread_sigmask() keeps open for itself as well */
  uint64_t all = ~0ULL, old;
  RAW4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof all);
  long pid = spawn_shared(m, stack, pidfd);
  if (pid < 0) pid = spawn_copy(m, pidfd); /* clone3 filtered, or valgrind: a copy */
  RAW4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
  return pid;
}

/* Wait until the helper's pidfd reads (it exited) or deadline_ms passed. 1 if it exited. */
static int exited(int pidfd, unsigned deadline_ms) {
  long long until = now_ms() + deadline_ms;
  for (;;) {
    long long left = until - now_ms();
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int r = poll(&p, 1, left > 0 ? (int)left : 0);
    if (r > 0) return 1;
    if (r == 0 || errno != EINTR) return 0;
  }
}

/* Copy a finished helper's results into the snapshot's memory. 0 or -ENOMEM. */
static int take(const struct shared *m, struct lent *out) {
  int rc = psnap_idtab_parse(&out->pw, m->passwd, m->npasswd);
  if (rc == 0) rc = psnap_idtab_parse(&out->gr, m->group, m->ngroup);
  if (rc == 0 && m->ntty) {
    out->tty = psnap_malloc(m->ntty * sizeof *out->tty);
    if (!out->tty)
      rc = -ENOMEM;
    else {
      memcpy(out->tty, m->tty, m->ntty * sizeof *out->tty);
      out->ntty = m->ntty;
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
  size_t len = mem_len();
  char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  struct straggler *me = malloc(sizeof *me); /* taken now: no allocation after a deadline */
  if (!me || mem == MAP_FAILED) {
    free(me);
    if (mem != MAP_FAILED) munmap(mem, len);
    return -ENOMEM;
  }
  /* One helper per namespace: a query that finds one in flight or one that
     missed its deadline lately answers with numbers */
  pthread_mutex_lock(&running_mu);
  reap();
  struct straggler *r = running;
  while (r && r->key != key) r = r->next;
  if (!r) {
    *me = (struct straggler){.key = key, .pidfd = -1, .retry_ms = LLONG_MAX, .mem = NULL, .next = running};
    running = me;
  }
  pthread_mutex_unlock(&running_mu);
  if (r) {
    free(me);
    munmap(mem, len);
    return 0;
  }

  (void)mprotect(mem, page_size(), PROT_NONE); /* below the stack: an overflow faults */
  struct shared *m = mem_shared(mem);
  m->xfd = xfd;
  m->what = what;
  m->caller = getpid();
  m->dumpable = prctl(PR_GET_DUMPABLE);
  int pidfd = -1, rc = 0;
  long pid = spawn(m, mem + page_size(), &pidfd);
  if (pid >= 0 && !exited(pidfd, deadline_ms)) {
    /* Too late: kill it. It may be stuck where no signal reaches (a FUSE
       request its daemon read and never answers): then a later call reaps
       it and unmaps its memory, which it may still write when it wakes.
       Until then, and for PSNAP_LEND_RETRY deadlines, the namespace lends
       nothing. */
    (void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    pthread_mutex_lock(&running_mu);
    int gone = reaped(pidfd, WNOHANG);
    me->pidfd = gone ? -1 : pidfd;
    me->mem = gone ? NULL : mem;
    me->retry_ms = now_ms() + (long long)PSNAP_LEND_RETRY * deadline_ms;
    pthread_mutex_unlock(&running_mu);
    if (gone) {
      close(pidfd);
      munmap(mem, len);
    }
    return 0;
  }
  if (pid >= 0) {
    (void)reaped(pidfd, 0);
    close(pidfd);
    rc = m->ok ? take(m, out) : 0;
  } else if (pid == -ENOMEM) {
    rc = -ENOMEM; /* otherwise no helper (EAGAIN: the process limit): numbers */
  }
  pthread_mutex_lock(&running_mu);
  struct straggler **p = &running;
  while (*p != me) p = &(*p)->next;
  *p = me->next;
  pthread_mutex_unlock(&running_mu);
  free(me);
  munmap(mem, len);
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
