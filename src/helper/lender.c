/*
** lender.c: the helper program that reads the names a container lends:
** its /etc/passwd, its /etc/group and the names of the character devices
** in its /dev. Built static, without the C library (raw system calls,
** rawsys.h), and carried inside the extension and libpsnap.a as bytes
** (lend.c starts it from a sealed memfd: no path is searched, nothing is
** read from the file system to find it).
**
** It runs in an address space of its own: the caller starts it with two
** CLONE_VM | CLONE_VFORK children, the second of which execs it at once,
** so nothing but the exec runs in the caller's memory, and what happens
** here (a crash and its core file, a credential change and the dumpable
** flag it resets, a read that a FUSE daemon never answers) touches only
** this process. Before it reads a request it makes itself not dumpable
** with no core file, blocks every signal, has no descriptor but its two
** (lendproto.h), arranges to die with the caller, and drops every
** privilege: no supplementary groups, uid and gid nobody when the caller
** could change ids, no capabilities (ambient ones too), no new privileges.
** A planted link can then read only what nobody can. It then answers
** requests one after another, each with the root of the process that
** lends (SCM_RIGHTS), and exits after LEND_IDLE_S seconds without one.
**
** The container controls these files: they may be links to /proc/kmsg or
** to host files through /proc/N/root, device nodes, FIFOs, huge, on a FUSE
** mount whose daemon never answers, or kernel files seen through an
** overlay. So:
**   - they are opened beneath the lender's root (the request's descriptor) with
**     openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: absolute links stay
**     inside, /proc/N/root-style links are refused; mount crossings are
**     allowed (engines bind-mount generated /etc/passwd files);
**   - O_PATH first: a file is read only when it is a regular file of a
**     disk or memory file system (not procfs, sysfs and their kin), then
**     reopened through /proc/self/fd, non-blocking, as the same inode;
**   - through an overlay, statfs answers for the overlay, not the layer,
**     and since Linux 6.8 /proc/PID/maps shows the overlay's inode too;
**     what the helper can ask of the layer's file is whether it maps: a
**     file of a disk or memory file system does, the attribute files of
**     sysfs, debugfs, tracefs, configfs and cgroupfs do not (procfs cannot
**     be a layer at all: it sets s_stack_depth to the maximum);
**   - at most PSNAP_ETC_MAX + 1 bytes of each are sent; the caller cuts.
*/
#include "../lendproto.h"
#include "../psnap.h"

#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/prctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/vfs.h>

_Static_assert(RAW_SYS_INLINE, "the helper is built without the C library: raw system calls (rawsys.h) are needed");

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

/* The compiler may call these for struct copies and initializers. */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n) {
  raw_copy(d, s, n);
  return d;
}
void *memset(void *d, int c, size_t n) {
  volatile unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}

static __attribute__((noreturn)) void die(int code) {
  for (;;) RAW1(SYS_exit_group, code);
}

/* Write all of buf to the caller, or die: the caller is gone or gave up. */
static void send_all(const void *buf, size_t n) {
  const char *p = buf;
  while (n) {
    long r = RAW3(SYS_write, LEND_FD_SOCK, p, n);
    if (r == -EINTR) continue;
    if (r <= 0) die(2);
    p += r;
    n -= (size_t)r;
  }
}

static void send_rec(uint32_t kind, int32_t status, const void *buf, size_t len) {
  struct lend_rec h = {.kind = kind, .status = status, .len = (uint32_t)len, .pad = 0};
  send_all(&h, sizeof h);
  if (len) send_all(buf, len);
}

/*
** The process's state before anything is read: not dumpable, no core
** file, only its two descriptors. Signals are
** blocked already (the caller blocked them for the exec; the mask stays).
*/
static void seal(void) {
  uint64_t all = ~0ULL;
  RAW4(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof all);
  RAW2(SYS_prctl, PR_SET_DUMPABLE, 0);
  struct rlimit none = {0, 0};
  RAW4(SYS_prlimit64, 0, RLIMIT_CORE, &none, NULL);
  RAW2(SYS_prctl, PR_SET_NAME, "ps-lend");
  RAW1(SYS_close, 0);
  if (RAW3(SYS_close_range, 3, ~0U, 0) < 0) {
    /* before Linux 5.9: one by one, up to the descriptor limit */
    struct rlimit rl;
    long top = 1L << 20;
    if (RAW4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) == 0 && rl.rlim_cur < (rlim_t)top) top = (long)rl.rlim_cur;
    for (long i = 3; i < top; i++) RAW1(SYS_close, i);
  }
}

/*
** Drop every privilege: groups, ids (when the caller could change them;
** a caller that could not is unprivileged already and keeps its own), all
** capabilities, ambient ones included, and no new ones through exec.
** Returns 0, or -EPERM when the helper would still read files as root.
*/
static int unprivileged(void) {
  RAW2(SYS_setgroups, 0, NULL);
  RAW3(SYS_setresgid, LEND_ID, LEND_ID, LEND_ID);
  RAW3(SYS_setresuid, LEND_ID, LEND_ID, LEND_ID);
  RAW4(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0);
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2] = {{0, 0, 0}, {0, 0, 0}};
  if (RAW2(SYS_capset, &h, d) < 0) return -EPERM;
  RAW4(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0);
  /* setfsuid(-1) changes nothing and returns the current fsuid */
  return RAW1(SYS_setfsuid, -1) == 0 || RAW0(SYS_geteuid) == 0 ? -EPERM : 0;
}

/* File systems whose "regular files" are kernel interfaces, never names. */
static int kernel_fs(long type) {
  return type == PROC_SUPER_MAGIC || type == SYSFS_MAGIC || type == DEBUGFS_MAGIC || type == TRACEFS_MAGIC ||
         type == SECURITYFS_MAGIC || type == BPF_FS_MAGIC || type == CGROUP_SUPER_MAGIC ||
         type == CGROUP2_SUPER_MAGIC || type == DEVPTS_SUPER_MAGIC;
}

/* The root of the process that lends, for the request being answered. */
static int root = -1;

/* Open a path beneath the lender's root: inside it, no magic links. fd or -errno. */
static int open_beneath(const char *path, int flags) {
  /* openat2 refuses O_NOCTTY beside O_PATH */
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)RAW4(SYS_openat2, root, path, &how, sizeof how);
}

/* A file of an overlay maps only when its layer's file does (see the header). */
static int layer_maps(int fd) {
  long p = RAW6(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p < 0 && p > -4096) return 0;
  RAW2(SYS_munmap, p, 4096);
  return 1;
}

/*
** Open one lent file for reading: fd, 0 when it lends nothing (absent, or
** not a regular file of an ordinary file system), or -errno.
*/
static int open_lent(const char *path) {
  int pfd = open_beneath(path, O_PATH);
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
      !S_ISREG(st2.st_mode) || (sf.f_type == OVERLAYFS_SUPER_MAGIC && !layer_maps(fd))) {
    RAW1(SYS_close, fd);
    return 0;
  }
  return fd;
}

/* Send one lent file as records of kind, at most PSNAP_ETC_MAX + 1 bytes. 0 or -errno. */
static int send_file(const char *path, uint32_t kind) {
  static char buf[LEND_CHUNK];
  int fd = open_lent(path);
  if (fd <= 0) return fd;
  size_t sent = 0;
  int rc = 0;
  while (sent < (size_t)PSNAP_ETC_MAX + 1) {
    size_t want = (size_t)PSNAP_ETC_MAX + 1 - sent;
    long r = RAW3(SYS_read, fd, buf, want < sizeof buf ? want : sizeof buf);
    if (r == -EINTR) continue;
    if (r < 0) {
      rc = r == -EAGAIN ? 0 : (int)r;
      break;
    }
    if (r == 0) break;
    send_rec(kind, 0, buf, (size_t)r);
    sent += (size_t)r;
  }
  RAW1(SYS_close, fd);
  return rc;
}

/* lend_dev_walk's "allocator" here: one fixed table. */
static struct ttyname ttys[LEND_MAX_TTY];
static void *grow_fixed(void *ctx, void *p, size_t n) {
  (void)ctx, (void)p;
  return n <= sizeof ttys ? ttys : NULL;
}

/* Send the character devices at the top of the container's /dev. 0 or -errno. */
static int send_dev(void) {
  int fd = open_beneath("dev", O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
  struct ttyname *t = ttys;
  size_t n = 0;
  (void)lend_dev_walk(fd, grow_fixed, NULL, &t, &n, LEND_MAX_TTY); /* a full table keeps what it holds */
  size_t per = LEND_CHUNK / sizeof *ttys;
  for (size_t i = 0; i < n; i += per) send_rec(LEND_REC_TTY, 0, ttys + i, (n - i < per ? n - i : per) * sizeof *ttys);
  return 0;
}

/*
** Wait for the next request and read it, whole, with the descriptor it
** carries (SCM_RIGHTS): the root of the process that lends, O_PATH, in
** *fd. 0; 1 when there is none for LEND_IDLE_S seconds or the caller
** closed the socket (then this helper exits); -EPROTO for anything else.
*/
static int request(struct lend_req *q, int *fd) {
  struct pollfd p = {.fd = LEND_FD_SOCK, .events = POLLIN, .revents = 0};
  struct timespec idle = {.tv_sec = LEND_IDLE_S, .tv_nsec = 0};
  long n;
  while ((n = RAW6(SYS_ppoll, &p, 1, &idle, NULL, 8, 0)) == -EINTR) {
  }
  if (n <= 0) return 1;
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } c;
  memset(&c, 0, sizeof c);
  struct iovec iov = {.iov_base = q, .iov_len = sizeof *q};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
  long r = RAW3(SYS_recvmsg, LEND_FD_SOCK, &m, MSG_CMSG_CLOEXEC | MSG_WAITALL);
  if (r == 0) return 1;
  *fd = -1;
  if (m.msg_controllen >= CMSG_LEN(sizeof(int)) && c.h.cmsg_level == SOL_SOCKET && c.h.cmsg_type == SCM_RIGHTS &&
      c.h.cmsg_len == CMSG_LEN(sizeof(int)))
    raw_copy(fd, CMSG_DATA(&c.h), sizeof(int));
  if (r != (long)sizeof *q || q->magic != LEND_MAGIC || (m.msg_flags & MSG_CTRUNC) || *fd < 0) {
    if (*fd >= 0) RAW1(SYS_close, *fd);
    return -EPROTO;
  }
  return 0;
}

/*
** Die with the caller: descriptor 2 is the read end of a pipe whose only
** writer the caller holds until it is done with this helper. When the
** writer closes (the caller gave up, finished, or died), the kernel sends
** the owner of an O_ASYNC pipe its signal (pipe_release: kill_fasync), and
** F_SETSIG makes that signal SIGKILL, which no mask blocks and which ends
** even a FUSE request its daemon has not read yet. This process is an
** orphan (lend.c), so a parent-death signal would tell nothing.
*/
static int die_with_caller(void) {
  if (RAW3(SYS_fcntl, LEND_FD_DEATH, F_SETOWN, RAW0(SYS_getpid)) < 0 ||
      RAW3(SYS_fcntl, LEND_FD_DEATH, F_SETSIG, SIGKILL) < 0 ||
      RAW3(SYS_fcntl, LEND_FD_DEATH, F_SETFL, O_ASYNC | O_NONBLOCK) < 0)
    return -EPERM;
  /* the caller may have gone before O_ASYNC was set: then the pipe reads EOF */
  char c;
  return RAW3(SYS_read, LEND_FD_DEATH, &c, 1) == -EAGAIN ? 0 : -EPIPE;
}

/*
** Seal, drop privileges, then answer requests one at a time until the
** caller closes the socket (or the pipe: then the kernel kills this) or
** none comes for LEND_IDLE_S seconds.
*/
static void run(void) {
  seal();
  int priv = unprivileged();
  if (die_with_caller() < 0) die(4);
  for (;;) {
    struct lend_req q = {0, 0};
    int r = request(&q, &root);
    if (r) die(r > 0 ? 0 : 3);
    int rc = priv;
    send_rec(LEND_REC_HELLO, (int32_t)RAW0(SYS_getpid), NULL, 0);
    if (rc == 0 && (q.what & LEND_IDS)) rc = send_file("etc/passwd", LEND_REC_PASSWD);
    if (rc == 0 && (q.what & LEND_IDS)) rc = send_file("etc/group", LEND_REC_GROUP);
    if (rc == 0 && (q.what & LEND_TTY)) rc = send_dev();
    send_rec(LEND_REC_END, rc, NULL, 0);
    RAW1(SYS_close, root);
    root = -1;
  }
}

/*
** The entry point: no C library to start it. At entry the stack pointer is
** 16-byte aligned, not 8 off as after a call: realign where the ABI needs it.
*/
#if defined(__x86_64__)
__attribute__((force_align_arg_pointer))
#endif
__attribute__((noreturn, used)) void
_start(void);
void _start(void) {
  run();
  die(0);
}
