/*
** container: build a small real container the way container runtimes do, for
** the container tests of sqlite-ps.
**
**   build/helpers/container [options]
**
** The helper clone(2)s a container init in new user, PID, mount, UTS and IPC
** namespaces. The parent (this program) writes the init's uid_map, gid_map
** and setgroups itself (no newuidmap, no /etc/subuid). The init builds its
** own root filesystem on a tmpfs: etc/passwd and etc/group with users that
** exist only inside, a fresh proc mount of its own PID namespace, a minimal
** dev (host nodes bind-mounted), then pivot_root(2)s into it, sets its
** hostname and becomes a session leader. Then it forks its processes, all
** children of the init (ppid 1 inside), each with its own comm:
**
**   role     comm         what it is                                   pid
**   init     ctr-init     container init, uid 0, setsid: pgid 1        1
**   worker   ctr-worker   uid 0, own process group (setpgid)           2
**   someone  ctr-someone  uid/gid 1000 (someone/somegroup), groups 2000 3
**   nocaps   ctr-nocaps   uid 0, capabilities dropped (see below)      4
**   seccomp  ctr-seccomp  uid 0, under a seccomp filter                5
**   nested   ctr-nested   --nested: init of a nested PID namespace     6
**   nestkid  ctr-nestkid  --nested: its child (pid 2 in the nested ns) 7
**
** (The pids are those of the default options; "someone" is left out when the
** container cannot map uid 1000, which shifts the later ones. Trust the
** readiness line, not this table.)
**
** --sleepers N adds N more children of the init, forked after the processes
** above (so their pids follow those; with --nested, ctr-nestkid's pid may
** fall among them), each with comm ctr-sleeper, uid 0, sleeping until
** killed: a container of a given size for the benchmark. They are not in the
** readiness line's "procs"; every one of them exists and has its comm set
** before the init says it is ready.
**
** ctr-nocaps keeps CHOWN,KILL,NET_BIND_SERVICE in its effective, permitted
** and bounding sets, KILL in its inheritable and ambient sets.
** ctr-seccomp's filter allows everything except personality(2) (EPERM).
**
** The container's files:
**   /etc/passwd  root:0 someone:1000 nobody:65534
**   /etc/group   root:0 somegroup:1000 extra:2000 (members someone) nogroup:65534
**
** Readiness: when every process is set up, the helper prints one JSON line on
** stdout and flushes it:
**
**   {"ready": true, "init": HOSTPID, "userns": true, "uid_map": "0 300000 70000",
**    "gid_map": "...", "proc": "own", "hostname": "ctr", "rootfs": "/tmp/ctr-...",
**    "procs": [{"role": "init", "comm": "ctr-init", "hpid": HOSTPID, "pid": 1,
**               "nspid": [HOSTPID, 1]}, ...]}
**
** hpid is the pid in the helper's PID namespace, pid the pid in the
** container's PID namespace, nspid the NSpid: line of /proc/HPID/status
** (every level). Then the helper waits until its stdin reaches end of file
** (or, with --no-stdin, not at all) or it gets SIGTERM, SIGINT or SIGHUP;
** then it kills the init (the kernel kills the rest of the PID namespace),
** reaps it and exits 0. If the helper is killed, the init gets SIGKILL too
** (PR_SET_PDEATHSIG), so nothing is left behind either way: the rootfs
** directory the helper creates is only the mount point of the tmpfs until
** pivot_root, and is removed before the readiness line.
**
** Options:
**   --uid-map "IN OUT COUNT"  a uid_map line (repeat for more); default
**                            "0 300000 70000" as root, "0 EUID 1" otherwise
**   --gid-map "IN OUT COUNT"  likewise for gid_map (default "0 300000 70000"
**                            or "0 EGID 1")
**   --setgroups-deny         write "deny" to /proc/PID/setgroups (always done
**                            when not root); ctr-someone is left out then
**   --no-userns              no user namespace: container ids are host ids
**                            (needs root)
**   --no-proc                no proc mount: the container's /proc is empty
**   --host-proc              bind-mount the host's /proc on the container's
**                            /proc (it shows the host's PID namespace)
**   --nested                 add ctr-nested and ctr-nestkid
**   --hostname NAME          default "ctr"
**   --rootfs DIR             mount the container's tmpfs root on DIR (which
**                            must exist and is not removed); default: a new
**                            $TMPDIR/ctr-XXXXXX (or /tmp), removed once the
**                            container is ready
**   --no-stdin               do not watch stdin; wait for a signal only
**   --sleepers N             add N sleeping children of the init (see above);
**                            default 0
**
** Rootless: run by a user that is not root, the helper maps only that user
** (to 0), writes setgroups deny and leaves ctr-someone out; everything else
** is done inside the user namespace, which needs unprivileged user
** namespaces and a /proc the kernel lets a user namespace mount proc over.
**
** Every error is printed to stderr as "container: what: why" and makes the
** helper exit 1 (after killing what it started).
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>

#define READY_TIMEOUT_MS 15000
#define MAXPROCS 8

static const char *prog = "container";

/* Options */
static int opt_userns = 1;
static int opt_proc = 1; /* 1 own, 0 none, 2 host */
static int opt_nested;
static int opt_setgroups_deny;
static int opt_stdin = 1;
static long opt_sleepers;
static const char *opt_hostname = "ctr";
static const char *opt_rootfs;
static char uid_map[1024], gid_map[1024];

/* State */
static char rootfs[4096];
static int rootfs_created;
static pid_t init_pid = -1;
static int want_someone = 1;

static void msg(const char *fmt, va_list ap, int err) {
  char buf[1024];
  vsnprintf(buf, sizeof buf, fmt, ap);
  if (err)
    fprintf(stderr, "%s: %s: %s\n", prog, buf, strerror(err));
  else
    fprintf(stderr, "%s: %s\n", prog, buf);
  fflush(stderr);
}

/* In the container: print and exit (the parent notices and cleans up). */
__attribute__((format(printf, 1, 2), noreturn)) static void cdie(const char *fmt, ...) {
  int e = errno;
  va_list ap;
  va_start(ap, fmt);
  msg(fmt, ap, e);
  va_end(ap);
  _exit(1);
}

static void parent_cleanup(void);

/* In the parent: print, clean up, exit 1. */
__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...) {
  int e = errno;
  va_list ap;
  va_start(ap, fmt);
  msg(fmt, ap, e);
  va_end(ap);
  parent_cleanup();
  exit(1);
}

__attribute__((format(printf, 1, 2), noreturn)) static void die0(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  msg(fmt, ap, 0);
  va_end(ap);
  parent_cleanup();
  exit(1);
}

static void usage(int code) {
  fprintf(code ? stderr : stdout,
          "usage: %s [--uid-map 'IN OUT N']... [--gid-map 'IN OUT N']... [--setgroups-deny]\n"
          "          [--no-userns] [--no-proc | --host-proc] [--nested] [--hostname NAME]\n"
          "          [--rootfs DIR] [--no-stdin] [--sleepers N]\n"
          "Prints one JSON line when the container is ready; stops it at end of stdin\n"
          "or on SIGTERM. See the comment at the top of tests/helpers/container.c.\n",
          prog);
  exit(code);
}

/* Raw clone(2) with fork semantics (no new stack): returns like fork(). */
static pid_t clone_fork(unsigned long flags) {
  fflush(NULL);
  return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

static void write_file(const char *path, const char *text, int in_container) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (in_container)
      cdie("open %s", path);
    die("open %s", path);
  }
  size_t len = strlen(text), off = 0;
  while (off < len) {
    ssize_t n = write(fd, text + off, len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      if (in_container)
        cdie("write %s", path);
      die("write %s", path);
    }
    off += (size_t)n;
  }
  if (close(fd) < 0) {
    if (in_container)
      cdie("close %s", path);
    die("close %s", path);
  }
}

static void append_map(char *map, size_t cap, const char *line) {
  unsigned long a, b, c;
  char extra;
  if (sscanf(line, "%lu %lu %lu %c", &a, &b, &c, &extra) != 3) {
    fprintf(stderr, "%s: bad id map line %s (want \"INSIDE OUTSIDE COUNT\")\n", prog, line);
    exit(2);
  }
  size_t len = strlen(map);
  int n = snprintf(map + len, cap - len, "%lu %lu %lu\n", a, b, c);
  if (n < 0 || (size_t)n >= cap - len) {
    fprintf(stderr, "%s: id map too long\n", prog);
    exit(2);
  }
}

/* ---------------------------------------------------------------------- */
/* Inside the container */

static int ready_sock = -1; /* container end of the readiness socket */

/* Tell the helper this process is ready; the kernel attaches our pid (as
** SCM_CREDENTIALS, since the helper's end has SO_PASSCRED). */
static void send_ready(const char *role) {
  struct ucred uc = {.pid = getpid(), .uid = geteuid(), .gid = getegid()};
  union {
    char buf[CMSG_SPACE(sizeof(struct ucred))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct iovec iov = {.iov_base = (void *)role, .iov_len = strlen(role)};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_CREDENTIALS;
  cm->cmsg_len = CMSG_LEN(sizeof uc);
  memcpy(CMSG_DATA(cm), &uc, sizeof uc);
  while (sendmsg(ready_sock, &mh, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR)
      cdie("%s: send readiness", role);
  }
}

static void set_comm(const char *comm) {
  if (prctl(PR_SET_NAME, comm, 0, 0, 0) < 0)
    cdie("prctl(PR_SET_NAME, %s)", comm);
}

/* Sleep until killed. */
__attribute__((noreturn)) static void sleep_forever(void) {
  for (;;)
    pause();
}

/* Reap children; any child exiting is an error (the container is broken). */
__attribute__((noreturn)) static void reap_forever(const char *who) {
  for (;;) {
    int st;
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0) {
      if (errno == EINTR)
        continue;
      if (errno == ECHILD)
        sleep_forever();
      cdie("%s: waitpid", who);
    }
    if (WIFEXITED(st))
      fprintf(stderr, "%s: %s: child %d exited with status %d\n", prog, who, (int)p, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
      fprintf(stderr, "%s: %s: child %d killed by signal %d\n", prog, who, (int)p, WTERMSIG(st));
    else
      continue;
    _exit(1);
  }
}

static void mkdir_c(const char *path, mode_t mode) {
  if (mkdir(path, mode) < 0 && errno != EEXIST)
    cdie("mkdir %s", path);
}

static void bind_node(const char *host, const char *target) {
  int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    cdie("create %s", target);
  if (close(fd) < 0)
    cdie("close %s", target);
  if (mount(host, target, NULL, MS_BIND, NULL) < 0)
    cdie("bind-mount %s on %s", host, target);
}

static void build_rootfs(void) {
  char p[4200];
#define P(sub) (snprintf(p, sizeof p, "%s/%s", rootfs, sub), p)

  /* Nothing we mount may propagate back to the host. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    cdie("make / private (mount MS_REC|MS_PRIVATE)");
  if (mount("ctr-root", rootfs, "tmpfs", MS_NOSUID, "mode=0755,size=4m") < 0)
    cdie("mount tmpfs on %s", rootfs);

  mkdir_c(P("etc"), 0755);
  mkdir_c(P("proc"), 0555);
  mkdir_c(P("dev"), 0755);
  mkdir_c(P("tmp"), 01777);
  mkdir_c(P("root"), 0700);
  mkdir_c(P("home"), 0755);
  mkdir_c(P("home/someone"), 0755);
  mkdir_c(P(".oldroot"), 0700);

  write_file(P("etc/passwd"),
             "root:x:0:0:root:/root:/bin/sh\n"
             "someone:x:1000:1000::/home/someone:/bin/sh\n"
             "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
             1);
  write_file(P("etc/group"),
             "root:x:0:\n"
             "somegroup:x:1000:\n"
             "extra:x:2000:someone\n"
             "nogroup:x:65534:\n",
             1);
  write_file(P("etc/hostname"), opt_hostname, 1);

  /* A minimal /dev: a tmpfs with some of the host's nodes bind-mounted
  ** (mknod is not allowed in a user namespace). */
  if (mount("ctr-dev", P("dev"), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
    cdie("mount tmpfs on %s", p);
  static const char *nodes[] = {"null", "zero", "full", "random", "urandom"};
  for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
    char host[64], target[4200];
    snprintf(host, sizeof host, "/dev/%s", nodes[i]);
    snprintf(target, sizeof target, "%s/dev/%s", rootfs, nodes[i]);
    bind_node(host, target);
  }
  static const char *links[][2] = {
      {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
    char target[4200];
    snprintf(target, sizeof target, "%s/dev/%s", rootfs, links[i][1]);
    if (symlink(links[i][0], target) < 0)
      cdie("symlink %s", target);
  }

  /* /proc: our own PID namespace's (we are its pid 1), the host's, or none. */
  if (opt_proc == 1) {
    if (mount("proc", P("proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
      cdie("mount proc on %s", p);
  } else if (opt_proc == 2) {
    if (mount("/proc", P("proc"), NULL, MS_BIND | MS_REC, NULL) < 0)
      cdie("bind-mount the host's /proc on %s", p);
  }

  if (syscall(SYS_pivot_root, rootfs, P(".oldroot")) < 0)
    cdie("pivot_root(%s, %s)", rootfs, p);
  if (chdir("/") < 0)
    cdie("chdir /");
  if (umount2("/.oldroot", MNT_DETACH) < 0)
    cdie("umount the old root");
  if (rmdir("/.oldroot") < 0)
    cdie("rmdir /.oldroot");
#undef P
}

static void child_someone(void) {
  set_comm("ctr-someone");
  gid_t groups[1] = {2000};
  if (setgroups(1, groups) < 0)
    cdie("someone: setgroups([2000])");
  if (setresgid(1000, 1000, 1000) < 0)
    cdie("someone: setresgid(1000)");
  if (setresuid(1000, 1000, 1000) < 0)
    cdie("someone: setresuid(1000)");
  send_ready("someone");
  sleep_forever();
}

static void child_nocaps(void) {
  set_comm("ctr-nocaps");
  static const cap_value_t keep[] = {CAP_CHOWN, CAP_KILL, CAP_NET_BIND_SERVICE};
  static const cap_value_t inh[] = {CAP_KILL};
  for (int c = 0; c < 64; c++) {
    if (c == CAP_CHOWN || c == CAP_KILL || c == CAP_NET_BIND_SERVICE)
      continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
      if (errno == EINVAL)
        break; /* past cap_last_cap */
      cdie("nocaps: prctl(PR_CAPBSET_DROP, %d)", c);
    }
  }
  cap_t caps = cap_init();
  if (!caps)
    cdie("nocaps: cap_init");
  if (cap_set_flag(caps, CAP_EFFECTIVE, 3, keep, CAP_SET) < 0 || cap_set_flag(caps, CAP_PERMITTED, 3, keep, CAP_SET) < 0 ||
      cap_set_flag(caps, CAP_INHERITABLE, 1, inh, CAP_SET) < 0)
    cdie("nocaps: cap_set_flag");
  if (cap_set_proc(caps) < 0)
    cdie("nocaps: cap_set_proc");
  cap_free(caps);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0) < 0)
    cdie("nocaps: prctl(PR_CAP_AMBIENT_RAISE, CAP_KILL)");
  send_ready("nocaps");
  sleep_forever();
}

static void child_seccomp(void) {
  set_comm("ctr-seccomp");
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) {
    errno = ENOMEM;
    cdie("seccomp: seccomp_init");
  }
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 0);
  if (rc < 0) {
    errno = -rc;
    cdie("seccomp: seccomp_rule_add(personality)");
  }
  rc = seccomp_load(ctx);
  if (rc < 0) {
    errno = -rc;
    cdie("seccomp: seccomp_load");
  }
  seccomp_release(ctx);
  send_ready("seccomp");
  sleep_forever();
}

static void child_nested(void) {
  /* We are pid 1 of the nested PID namespace. */
  set_comm("ctr-nested");
  if (setsid() < 0)
    cdie("nested: setsid");
  pid_t k = clone_fork(0);
  if (k < 0)
    cdie("nested: fork");
  if (k == 0) {
    set_comm("ctr-nestkid");
    send_ready("nestkid");
    sleep_forever();
  }
  send_ready("nested");
  reap_forever("ctr-nested");
}

static void spawn(void (*fn)(void), unsigned long flags, const char *role) {
  pid_t p = clone_fork(flags);
  if (p < 0)
    cdie("init: fork %s", role);
  if (p == 0) {
    fn();
    _exit(1);
  }
}

/*
** The --sleepers children of the init: each sets its comm, then closes its
** copy of the pipe's write end; the init reads the pipe to end of file, so
** it says it is ready only once every one of them is set up.
*/
static void spawn_sleepers(long n) {
  if (n == 0)
    return;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    cdie("init: pipe for the sleepers");
  for (long i = 0; i < n; i++) {
    pid_t k = clone_fork(0);
    if (k < 0)
      cdie("init: fork sleeper %ld of %ld", i + 1, n);
    if (k == 0) {
      close(p[0]);
      set_comm("ctr-sleeper");
      close(p[1]);
      sleep_forever();
    }
  }
  close(p[1]);
  char c;
  ssize_t r;
  while ((r = read(p[0], &c, 1)) != 0) {
    if (r < 0 && errno != EINTR)
      cdie("init: read the sleepers' pipe");
  }
  close(p[0]);
}

static void child_worker(void) {
  set_comm("ctr-worker");
  if (setpgid(0, 0) < 0)
    cdie("worker: setpgid");
  send_ready("worker");
  sleep_forever();
}

/* The container's init: pid 1 of the new PID namespace. */
__attribute__((noreturn)) static void container_init(int sync_rd) {
  /* Die with the helper, whatever kills it (set again below: changing
  ** our credentials clears it). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    cdie("init: prctl(PR_SET_PDEATHSIG)");
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
    cdie("init: sigprocmask");

  /* Wait for the helper to write our id maps (EOF: it died). */
  char c;
  ssize_t n;
  while ((n = read(sync_rd, &c, 1)) < 0 && errno == EINTR)
    ;
  if (n < 0)
    cdie("init: read the sync pipe");
  if (n == 0 || c != 'm') {
    fprintf(stderr, "%s: init: the helper did not set up the container\n", prog);
    _exit(1);
  }

  if (opt_userns) {
    /* Become the namespace's root (the maps are written now); drop the
    ** host's supplementary groups when allowed. */
    if (!opt_setgroups_deny && setgroups(0, NULL) < 0)
      cdie("init: setgroups(0)");
    if (setresgid(0, 0, 0) < 0)
      cdie("init: setresgid(0)");
    if (setresuid(0, 0, 0) < 0)
      cdie("init: setresuid(0)");
  } else if (setgroups(0, NULL) < 0) {
    cdie("init: setgroups(0)");
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    cdie("init: prctl(PR_SET_PDEATHSIG)");
  /* The helper keeps the pipe's write end open while it lives: a hang-up
  ** means it died before PR_SET_PDEATHSIG took effect. */
  struct pollfd pf = {.fd = sync_rd, .events = POLLIN};
  if (poll(&pf, 1, 0) < 0)
    cdie("init: poll the sync pipe");
  if (pf.revents & (POLLHUP | POLLERR)) {
    fprintf(stderr, "%s: init: the helper is gone\n", prog);
    _exit(1);
  }
  close(sync_rd);

  if (sethostname(opt_hostname, strlen(opt_hostname)) < 0)
    cdie("init: sethostname(%s)", opt_hostname);
  build_rootfs();
  if (setsid() < 0)
    cdie("init: setsid");
  set_comm("ctr-init");

  spawn(child_worker, 0, "worker");
  if (want_someone)
    spawn(child_someone, 0, "someone");
  spawn(child_nocaps, 0, "nocaps");
  spawn(child_seccomp, 0, "seccomp");
  if (opt_nested)
    spawn(child_nested, CLONE_NEWPID, "nested");
  spawn_sleepers(opt_sleepers);
  send_ready("init");
  reap_forever("ctr-init");
}

/* ---------------------------------------------------------------------- */
/* The helper (outside) */

static void parent_cleanup(void) {
  if (init_pid > 0) {
    if (kill(init_pid, SIGKILL) < 0 && errno != ESRCH)
      fprintf(stderr, "%s: kill init %d: %s\n", prog, (int)init_pid, strerror(errno));
    int st;
    while (waitpid(init_pid, &st, 0) < 0 && errno == EINTR)
      ;
    init_pid = -1;
  }
  if (rootfs_created) {
    if (rmdir(rootfs) < 0)
      fprintf(stderr, "%s: rmdir %s: %s\n", prog, rootfs, strerror(errno));
    rootfs_created = 0;
  }
}

struct proc {
  char role[16];
  pid_t hpid;
  long nspid[16];
  int nnspid;
};

/* NSpid of a host pid, from /proc/PID/status. */
static void read_nspid(struct proc *p) {
  char path[64], buf[8192];
  snprintf(path, sizeof path, "/proc/%d/status", (int)p->hpid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    die("open %s", path);
  size_t len = 0;
  ssize_t n;
  while ((n = read(fd, buf + len, sizeof buf - 1 - len)) != 0) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      die("read %s", path);
    }
    len += (size_t)n;
    if (len == sizeof buf - 1)
      break;
  }
  close(fd);
  buf[len] = 0;
  char *s = strstr(buf, "\nNSpid:");
  if (!s)
    die0("%s has no NSpid line (kernel older than 4.1?)", path);
  s += 7;
  p->nnspid = 0;
  while (*s && *s != '\n' && p->nnspid < 16) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s)
      break;
    p->nspid[p->nnspid++] = v;
    s = end;
  }
  if (p->nnspid < 1)
    die0("%s: empty NSpid line", path);
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      printf("\\%c", ch);
    else if (ch == '\n')
      printf("\\n");
    else if (ch < 0x20)
      printf("\\u%04x", ch);
    else
      putchar(ch);
  }
  putchar('"');
}

static void map_json(const char *map) {
  /* One line per extent; join extents with ", " for readability. */
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", map);
  size_t l = strlen(tmp);
  while (l && tmp[l - 1] == '\n')
    tmp[--l] = 0;
  for (char *c = tmp; *c; c++)
    if (*c == '\n')
      *c = ',';
  json_str(tmp);
}

static void write_maps(pid_t pid) {
  char path[64];
  if (opt_setgroups_deny) {
    snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
    write_file(path, "deny", 0);
  }
  snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
  write_file(path, uid_map, 0);
  snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
  write_file(path, gid_map, 0);
}

/* Receive one readiness message: returns 1 with *p filled, dies on error. */
static void recv_ready(int sock, int sfd, struct proc *p) {
  struct pollfd pf[2] = {{.fd = sock, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
  for (;;) {
    int r = poll(pf, 2, READY_TIMEOUT_MS);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      die("poll");
    }
    if (r == 0)
      die0("the container was not ready after %d ms", READY_TIMEOUT_MS);
    if (pf[1].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) != sizeof si)
        die("read signalfd");
      if (si.ssi_signo != SIGCHLD)
        die0("got signal %d while starting the container", (int)si.ssi_signo);
      /* SIGCHLD: the init died; its message (if any) is on stderr. */
      int st;
      pid_t w = waitpid(init_pid, &st, WNOHANG);
      if (w == init_pid) {
        init_pid = -1;
        if (WIFEXITED(st))
          die0("the container's init exited with status %d before it was ready", WEXITSTATUS(st));
        die0("the container's init was killed by signal %d before it was ready", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
      }
    }
    if (pf[0].revents)
      break;
  }
  char data[64];
  union {
    char buf[CMSG_SPACE(sizeof(struct ucred))];
    struct cmsghdr align;
  } u;
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data - 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  ssize_t n;
  while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
    ;
  if (n < 0)
    die("recvmsg (readiness)");
  if (n == 0)
    die0("the container exited before it was ready (see the messages above)");
  data[n] = 0;
  struct ucred uc = {0};
  int have = 0;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
      memcpy(&uc, CMSG_DATA(cm), sizeof uc);
      have = 1;
    }
  }
  if (!have || uc.pid <= 0)
    die0("readiness message %s came without the sender's pid", data);
  size_t rl = strlen(data);
  if (rl == 0 || rl >= sizeof p->role)
    die0("bad readiness message %s", data);
  memcpy(p->role, data, rl + 1);
  p->hpid = uc.pid;
}

int main(int argc, char **argv) {
  int uidmap_given = 0, gidmap_given = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--uid-map") && i + 1 < argc) {
      append_map(uid_map, sizeof uid_map, argv[++i]);
      uidmap_given = 1;
    } else if (!strcmp(a, "--gid-map") && i + 1 < argc) {
      append_map(gid_map, sizeof gid_map, argv[++i]);
      gidmap_given = 1;
    } else if (!strcmp(a, "--setgroups-deny")) {
      opt_setgroups_deny = 1;
    } else if (!strcmp(a, "--no-userns")) {
      opt_userns = 0;
    } else if (!strcmp(a, "--no-proc")) {
      opt_proc = 0;
    } else if (!strcmp(a, "--host-proc")) {
      opt_proc = 2;
    } else if (!strcmp(a, "--nested")) {
      opt_nested = 1;
    } else if (!strcmp(a, "--hostname") && i + 1 < argc) {
      opt_hostname = argv[++i];
    } else if (!strcmp(a, "--rootfs") && i + 1 < argc) {
      opt_rootfs = argv[++i];
    } else if (!strcmp(a, "--no-stdin")) {
      opt_stdin = 0;
    } else if (!strcmp(a, "--sleepers") && i + 1 < argc) {
      char *end;
      errno = 0;
      opt_sleepers = strtol(argv[++i], &end, 10);
      if (errno || end == argv[i] || *end || opt_sleepers < 0 || opt_sleepers > 1000000) {
        fprintf(stderr, "%s: --sleepers needs a count from 0 to 1000000, not %s\n", prog, argv[i]);
        usage(2);
      }
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(0);
    } else {
      fprintf(stderr, "%s: unknown or incomplete option %s\n", prog, a);
      usage(2);
    }
  }

  int rootless = geteuid() != 0;
  if (!opt_userns && rootless) {
    fprintf(stderr, "%s: --no-userns needs root\n", prog);
    return 2;
  }
  if (opt_userns) {
    if (rootless) {
      opt_setgroups_deny = 1; /* the kernel requires it for an unprivileged gid_map */
      if (!uidmap_given)
        snprintf(uid_map, sizeof uid_map, "0 %u 1\n", (unsigned)geteuid());
      if (!gidmap_given)
        snprintf(gid_map, sizeof gid_map, "0 %u 1\n", (unsigned)getegid());
    } else {
      if (!uidmap_given)
        snprintf(uid_map, sizeof uid_map, "0 300000 70000\n");
      if (!gidmap_given)
        snprintf(gid_map, sizeof gid_map, "0 300000 70000\n");
    }
    /* ctr-someone needs setgroups(2) and uids/gids 1000 and 2000 mapped. */
    if (opt_setgroups_deny || rootless)
      want_someone = 0;
  } else {
    uid_map[0] = gid_map[0] = 0;
  }

  /* Signals: handled through a signalfd, so block them first. */
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGPIPE);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
    die("sigprocmask");
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sfd < 0)
    die("signalfd");

  if (opt_rootfs) {
    struct stat sb;
    if (stat(opt_rootfs, &sb) < 0)
      die("--rootfs %s", opt_rootfs);
    if (!S_ISDIR(sb.st_mode)) {
      errno = ENOTDIR;
      die("--rootfs %s", opt_rootfs);
    }
    if (!realpath(opt_rootfs, rootfs))
      die("realpath %s", opt_rootfs);
  } else {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
      tmp = "/tmp";
    snprintf(rootfs, sizeof rootfs, "%s/ctr-XXXXXX", tmp);
    if (!mkdtemp(rootfs))
      die("mkdtemp %s", rootfs);
    rootfs_created = 1;
  }

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    die("socketpair");
  int one = 1;
  if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
    die("setsockopt(SO_PASSCRED)");
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0)
    die("pipe");

  unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
  if (opt_userns)
    flags |= CLONE_NEWUSER;
  pid_t pid = clone_fork(flags);
  if (pid < 0) {
    if (errno == EPERM || errno == ENOSPC || errno == EINVAL)
      die("clone(%s)", opt_userns ? "user, PID, mount, UTS, IPC namespaces (are unprivileged user namespaces allowed?)"
                                  : "PID, mount, UTS, IPC namespaces");
    die("clone");
  }
  if (pid == 0) {
    close(sv[0]);
    close(sync[1]);
    close(sfd);
    ready_sock = sv[1];
    container_init(sync[0]);
  }
  init_pid = pid;
  close(sv[1]);
  close(sync[0]);

  if (opt_userns)
    write_maps(pid);
  char m = 'm';
  while (write(sync[1], &m, 1) != 1) {
    if (errno != EINTR)
      die("write the sync pipe");
  }
  /* sync[1] stays open (close-on-exec) until we exit: see container_init. */

  /* Every process says when it is ready. */
  int want = 4 + want_someone + (opt_nested ? 2 : 0);
  struct proc procs[MAXPROCS];
  memset(procs, 0, sizeof procs);
  for (int i = 0; i < want; i++)
    recv_ready(sv[0], sfd, &procs[i]);

  /* Report them in container pid order; the container level of NSpid is
  ** the last level of the init's. */
  struct proc *initp = NULL;
  for (int i = 0; i < want; i++) {
    read_nspid(&procs[i]);
    if (!strcmp(procs[i].role, "init"))
      initp = &procs[i];
  }
  if (!initp || initp->hpid != init_pid)
    die0("the init's readiness message is missing or has the wrong pid");
  int lvl = initp->nnspid - 1;
  for (int i = 0; i < want; i++)
    if (procs[i].nnspid <= lvl)
      die0("process %s (pid %d) is not in the container's PID namespace", procs[i].role, (int)procs[i].hpid);
  for (int i = 1; i < want; i++)
    for (int j = i; j > 0 && procs[j - 1].nspid[lvl] > procs[j].nspid[lvl]; j--) {
      struct proc t = procs[j];
      procs[j] = procs[j - 1];
      procs[j - 1] = t;
    }

  /* The directory was only the mount point of the container's root before
  ** pivot_root; nothing is mounted on it now, so remove it at once (nothing
  ** is left behind even if the helper is killed). */
  if (rootfs_created) {
    if (rmdir(rootfs) < 0)
      die("rmdir %s", rootfs);
    rootfs_created = 0;
  }

  printf("{\"ready\": true, \"init\": %d, \"userns\": %s, \"uid_map\": ", (int)init_pid, opt_userns ? "true" : "false");
  map_json(uid_map);
  printf(", \"gid_map\": ");
  map_json(gid_map);
  printf(", \"proc\": \"%s\", \"hostname\": ", opt_proc == 1 ? "own" : opt_proc == 2 ? "host" : "none");
  json_str(opt_hostname);
  printf(", \"rootfs\": ");
  json_str(rootfs);
  printf(", \"procs\": [");
  for (int i = 0; i < want; i++) {
    printf("%s{\"role\": \"%s\", \"comm\": \"ctr-%s\", \"hpid\": %d, \"pid\": %ld, \"nspid\": [", i ? ", " : "",
           procs[i].role, procs[i].role, (int)procs[i].hpid, procs[i].nspid[lvl]);
    for (int k = 0; k < procs[i].nnspid; k++)
      printf("%s%ld", k ? ", " : "", procs[i].nspid[k]);
    printf("]}");
  }
  printf("]}\n");
  if (fflush(stdout) == EOF || ferror(stdout))
    die("write the readiness line");

  /* Wait for the end of stdin or a signal. */
  int watch_stdin = opt_stdin && fcntl(0, F_GETFD) >= 0;
  for (;;) {
    struct pollfd pf[2] = {{.fd = sfd, .events = POLLIN}, {.fd = watch_stdin ? 0 : -1, .events = POLLIN}};
    int r = poll(pf, 2, -1);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      die("poll");
    }
    if (pf[0].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) != sizeof si)
        die("read signalfd");
      if (si.ssi_signo == SIGCHLD) {
        int st;
        pid_t w = waitpid(init_pid, &st, WNOHANG);
        if (w == init_pid) {
          init_pid = -1;
          die0("the container's init ended unexpectedly (%s %d)", WIFEXITED(st) ? "exit status" : "signal",
               WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        }
        continue;
      }
      if (si.ssi_signo == SIGPIPE)
        continue;
      break; /* SIGTERM, SIGINT, SIGHUP */
    }
    if (pf[1].revents & POLLNVAL) {
      watch_stdin = 0;
      continue;
    }
    if (pf[1].revents) {
      char buf[256];
      ssize_t n = read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break; /* end of file (or an unreadable stdin) */
    }
  }
  parent_cleanup();
  return 0;
}
