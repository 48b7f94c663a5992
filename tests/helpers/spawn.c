/*
** spawn: a test helper that becomes a process with known properties, tells
** its parent when it is ready, and then waits until it is killed.
**
**   spawn [OPTIONS] [-- ARGV0 ARGV1 ...]
**
** The helper re-executes itself (execv of its own path) with exactly ARGV,
** so /proc/PID/cmdline is ARGV0 NUL ARGV1 NUL ... byte for byte (arguments
** may hold spaces, tabs, newlines). The options travel to the re-executed
** copy in the environment variable SPAWN_OPTS (hex encoded) and are applied
** there, in this order:
**
**   --nice N            setpriority(PRIO_PROCESS) to N (negative needs root)
**   --comm NAME         prctl(PR_SET_NAME): /proc/PID/comm, stat field 2
**   --setsid            setsid() (pgid = sid = pid), no controlling terminal
**   --setsid-pty        openpty, setsid, TIOCSCTTY: the controlling terminal
**                       is the new pts (reported as tty=/dev/pts/N)
**   --alloc-mb N        allocate and touch N MiB (raises rss and vsz)
**   --burn-ms N         use N ms of CPU time before becoming ready
**   --zombie            fork a child that exits at once and is never reaped
**                       (reported as zombie=PID once it is a zombie)
**   --bounding-keep L   drop every capability not in L (comma-separated
**                       names, "cap_" optional; "" keeps none) from the
**                       bounding set
**   --groups G1,G2      setgroups (numbers; "" for no supplementary groups)
**   --gid G / --egid E  setresgid(G, E or G, E or G)
**   --uid U / --euid E  setresuid(U, E or U, E or U); PR_SET_KEEPCAPS is set
**                       first when --caps is given, so the caps survive
**   --caps TEXT         cap_from_text(TEXT) + cap_set_proc, e.g.
**                       "cap_chown,cap_kill=ep" or "cap_kill=eip"
**   --drop-all-caps     clear every capability set (eff, prm, inh, amb)
**   --ambient L         PR_CAP_AMBIENT_RAISE each cap of L (needs it in
**                       prm and inh, see --caps "...=eip")
**   --threads N         start N extra threads that wait forever
**   --seccomp-filter    load a libseccomp filter: allow everything except
**                       mknod/mknodat, which fail with EPERM
**   --ready-fd N        write the ready line to fd N instead of stdout
**   --seccomp-strict    as the very last step (after the ready line) enter
**                       SECCOMP_MODE_STRICT and block in read() on a pipe
**
** Ready line (one line, then the ready fd is closed):
**   ready pid=P [zombie=Z] [tty=/dev/pts/N] [tids=T1,T2]
** On any failure the helper prints "spawn: ..." to stderr and exits 1
** without a ready line.
**
** Without "--" ARGV is just "spawn". argv[0] of the re-exec is ARGV0 but the
** executable is this helper, so comm is "spawn" unless --comm is given.
*/
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <pty.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define ENV_NAME "SPAWN_OPTS"

struct opts {
  int have_nice, nice;
  const char *comm;
  int setsid, setsid_pty;
  long alloc_mb;
  long burn_ms;
  int zombie;
  const char *bounding_keep;
  const char *groups;
  long uid, euid, gid, egid; /* -1: unchanged */
  const char *caps;
  int drop_all_caps;
  const char *ambient;
  int threads;
  int seccomp_filter, seccomp_strict;
  int ready_fd;
  int dashdash; /* "--" was seen */
};

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("spawn: ", stderr);
  vfprintf(stderr, fmt, ap);
  if (errno) fprintf(stderr, ": %s", strerror(errno));
  fputc('\n', stderr);
  va_end(ap);
  _exit(1);
}

static void usage(void) {
  fputs("usage: spawn [--nice N] [--comm NAME] [--setsid|--setsid-pty] [--alloc-mb N]\n"
        "  [--burn-ms N] [--zombie] [--bounding-keep LIST] [--groups G1,G2] [--gid G]\n"
        "  [--egid G] [--uid U] [--euid U] [--caps TEXT|--drop-all-caps] [--ambient LIST]\n"
        "  [--threads N] [--seccomp-filter] [--seccomp-strict] [--ready-fd N]\n"
        "  [-- ARGV0 ARGV...]\n",
        stderr);
  _exit(2);
}

static long num(const char *opt, const char *s) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno) {
    errno = 0;
    die("%s: bad number '%s'", opt, s);
  }
  return v;
}

/* Parse options from v[0..n-1]; returns the index after "--" (or n). */
static int parse(struct opts *o, int n, char **v) {
  memset(o, 0, sizeof *o);
  o->uid = o->euid = o->gid = o->egid = -1;
  o->ready_fd = 1;
  int i = 0;
  for (; i < n; i++) {
    const char *a = v[i];
#define ARG() (i + 1 < n ? v[++i] : (usage(), ""))
    if (!strcmp(a, "--")) return o->dashdash = 1, i + 1;
    else if (!strcmp(a, "--nice")) o->have_nice = 1, o->nice = (int)num(a, ARG());
    else if (!strcmp(a, "--comm")) o->comm = ARG();
    else if (!strcmp(a, "--setsid")) o->setsid = 1;
    else if (!strcmp(a, "--setsid-pty")) o->setsid_pty = 1;
    else if (!strcmp(a, "--alloc-mb")) o->alloc_mb = num(a, ARG());
    else if (!strcmp(a, "--burn-ms")) o->burn_ms = num(a, ARG());
    else if (!strcmp(a, "--zombie")) o->zombie = 1;
    else if (!strcmp(a, "--bounding-keep")) o->bounding_keep = ARG();
    else if (!strcmp(a, "--groups")) o->groups = ARG();
    else if (!strcmp(a, "--uid")) o->uid = num(a, ARG());
    else if (!strcmp(a, "--euid")) o->euid = num(a, ARG());
    else if (!strcmp(a, "--gid")) o->gid = num(a, ARG());
    else if (!strcmp(a, "--egid")) o->egid = num(a, ARG());
    else if (!strcmp(a, "--caps")) o->caps = ARG();
    else if (!strcmp(a, "--drop-all-caps")) o->drop_all_caps = 1;
    else if (!strcmp(a, "--ambient")) o->ambient = ARG();
    else if (!strcmp(a, "--threads")) o->threads = (int)num(a, ARG());
    else if (!strcmp(a, "--seccomp-filter")) o->seccomp_filter = 1;
    else if (!strcmp(a, "--seccomp-strict")) o->seccomp_strict = 1;
    else if (!strcmp(a, "--ready-fd")) o->ready_fd = (int)num(a, ARG());
    else {
      fprintf(stderr, "spawn: unknown option '%s'\n", a);
      usage();
    }
#undef ARG
  }
  return i;
}

/* ---- option transport: NUL-joined options, hex encoded ---- */

static char *encode(int n, char **v) {
  size_t len = 0;
  for (int i = 0; i < n; i++) len += strlen(v[i]) + 1;
  char *out = malloc(2 * len + 1), *p = out;
  if (!out) die("malloc");
  for (int i = 0; i < n; i++) {
    const unsigned char *s = (const unsigned char *)v[i];
    do p += sprintf(p, "%02x", *s);
    while (*s++);
  }
  *p = 0;
  return out;
}

static char **decode(const char *hex, int *n) {
  size_t len = strlen(hex) / 2;
  char *buf = malloc(len + 1);
  char **v = calloc(len + 1, sizeof *v);
  if (!buf || !v) die("malloc");
  for (size_t i = 0; i < len; i++) {
    unsigned x;
    if (sscanf(hex + 2 * i, "%2x", &x) != 1) die("bad " ENV_NAME);
    buf[i] = (char)x;
  }
  *n = 0;
  for (size_t i = 0; i < len; i += strlen(buf + i) + 1) v[(*n)++] = buf + i;
  return v;
}

/* ---- capabilities ---- */

/* Parse a comma-separated list of capability names into bits. */
static uint64_t cap_list(const char *list) {
  uint64_t m = 0;
  char *copy = strdup(list), *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    char name[64];
    while (isspace((unsigned char)*t)) t++;
    if (!*t) continue;
    snprintf(name, sizeof name, "%s%s", strncasecmp(t, "cap_", 4) ? "cap_" : "", t);
    for (char *c = name; *c; c++) *c = (char)tolower((unsigned char)*c);
    cap_value_t cv;
    if (cap_from_name(name, &cv) < 0) die("unknown capability '%s'", t);
    m |= 1ull << cv;
  }
  free(copy);
  return m;
}

static int last_cap(void) {
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
  int n = 40;
  if (f) {
    if (fscanf(f, "%d", &n) != 1) n = 40;
    fclose(f);
  }
  return n;
}

/* ---- misc ---- */

static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char proc_state(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : 0;
}

static void *idle_thread(void *arg) {
  int *tidp = arg;
  *tidp = (int)syscall(SYS_gettid);
  for (;;) pause();
  return NULL;
}

static void apply(struct opts *o) {
  char line[4096];
  size_t len = 0;
  errno = 0;
  len += snprintf(line + len, sizeof line - len, "ready pid=%d", (int)getpid());

  if (o->have_nice) {
    errno = 0;
    if (setpriority(PRIO_PROCESS, 0, o->nice) < 0) die("setpriority %d", o->nice);
  }
  if (o->comm && prctl(PR_SET_NAME, o->comm, 0, 0, 0) < 0) die("PR_SET_NAME");

  if (o->setsid && setsid() < 0) die("setsid");
  if (o->setsid_pty) {
    int m, s;
    char name[256];
    if (openpty(&m, &s, name, NULL, NULL) < 0) die("openpty");
    if (setsid() < 0 && !(errno == EPERM && getsid(0) == getpid())) die("setsid");
    if (ioctl(s, TIOCSCTTY, 0) < 0) die("TIOCSCTTY");
    /* Keep m and s open: the terminal lives as long as we do. */
    len += snprintf(line + len, sizeof line - len, " tty=%s", name);
  }

  if (o->alloc_mb > 0) {
    size_t n = (size_t)o->alloc_mb << 20;
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) die("mmap %ld MiB", o->alloc_mb);
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
  }
  if (o->burn_ms > 0) {
    double end = cpu_ms() + (double)o->burn_ms;
    volatile unsigned long x = 0;
    while (cpu_ms() < end)
      for (int i = 0; i < 10000; i++) x += (unsigned long)i;
  }

  if (o->zombie) {
    pid_t z = fork();
    if (z < 0) die("fork");
    if (z == 0) _exit(0);
    for (int i = 0; proc_state(z) != 'Z'; i++) {
      if (i > 5000) die("child %d did not become a zombie", (int)z);
      usleep(1000);
    }
    len += snprintf(line + len, sizeof line - len, " zombie=%d", (int)z);
  }

  if (o->bounding_keep) {
    uint64_t keep = cap_list(o->bounding_keep);
    for (int c = 0; c <= last_cap(); c++)
      if (!(keep >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) die("PR_CAPBSET_DROP %d", c);
  }

  if (o->caps && o->uid >= 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die("PR_SET_KEEPCAPS");
  if (o->groups) {
    gid_t g[256];
    size_t n = 0;
    char *copy = strdup(o->groups), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && n < 256; t = strtok_r(NULL, ",", &save))
      g[n++] = (gid_t)num("--groups", t);
    if (setgroups(n, g) < 0) die("setgroups");
    free(copy);
  }
  if (o->gid >= 0 || o->egid >= 0) {
    gid_t r = o->gid >= 0 ? (gid_t)o->gid : (gid_t)-1;
    gid_t e = o->egid >= 0 ? (gid_t)o->egid : r;
    if (setresgid(r, e, e) < 0) die("setresgid");
  }
  if (o->uid >= 0 || o->euid >= 0) {
    uid_t r = o->uid >= 0 ? (uid_t)o->uid : (uid_t)-1;
    uid_t e = o->euid >= 0 ? (uid_t)o->euid : r;
    if (setresuid(r, e, e) < 0) die("setresuid");
  }

  if (o->drop_all_caps) {
    cap_t c = cap_init();
    if (!c || cap_set_proc(c) < 0) die("cap_set_proc (drop all)");
    cap_free(c);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) die("PR_CAP_AMBIENT_CLEAR_ALL");
  }
  if (o->caps) {
    cap_t c = cap_from_text(o->caps);
    if (!c) die("cap_from_text '%s'", o->caps);
    if (cap_set_proc(c) < 0) die("cap_set_proc '%s'", o->caps);
    cap_free(c);
  }
  if (o->ambient) {
    uint64_t m = cap_list(o->ambient);
    for (int c = 0; c < 64; c++)
      if (m >> c & 1 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
        die("PR_CAP_AMBIENT_RAISE %d", c);
  }

  if (o->threads > 0) {
    static int tids[64];
    int n = o->threads > 64 ? 64 : o->threads;
    for (int i = 0; i < n; i++) {
      pthread_t t;
      errno = pthread_create(&t, NULL, idle_thread, &tids[i]);
      if (errno) die("pthread_create");
    }
    for (int i = 0; i < n; i++)
      while (!__atomic_load_n(&tids[i], __ATOMIC_SEQ_CST)) usleep(1000);
    len += snprintf(line + len, sizeof line - len, " tids=");
    for (int i = 0; i < n; i++) len += snprintf(line + len, sizeof line - len, "%s%d", i ? "," : "", tids[i]);
  }

  if (o->seccomp_filter) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) die("seccomp_init");
    if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mknod), 0) < 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mknodat), 0) < 0)
      die("seccomp_rule_add");
    int rc = seccomp_load(ctx);
    if (rc < 0) {
      errno = -rc;
      die("seccomp_load");
    }
    seccomp_release(ctx);
  }

  /* Block forever in read() on a pipe nobody writes to (allowed in strict
  ** mode, unlike pause()). Made before the ready line so nothing can fail
  ** after it. */
  int blk[2];
  if (pipe(blk) < 0) die("pipe");

  len += snprintf(line + len, sizeof line - len, "\n");
  if (write(o->ready_fd, line, len) != (ssize_t)len) die("write ready line");
  /* Close the ready fd so a parent reading it sees EOF; keep fds 0-2 valid. */
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    dup2(devnull, o->ready_fd);
    if (devnull != o->ready_fd) close(devnull);
  }

  if (o->seccomp_strict) {
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) < 0) _exit(3);
    for (;;) {
      char c;
      if (read(blk[0], &c, 1) <= 0) syscall(SYS_exit, 4);
    }
  }
  for (;;) pause();
}

int main(int argc, char **argv) {
  struct opts o;
  const char *env = getenv(ENV_NAME);
  if (env) {
    /* Second stage: we are the re-executed copy with the target argv. */
    int n;
    char **v = decode(env, &n);
    unsetenv(ENV_NAME);
    parse(&o, n, v);
    apply(&o);
    return 0;
  }

  int rest = 1 + parse(&o, argc - 1, argv + 1);
  char *self = NULL;
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0) die("readlink /proc/self/exe");
  buf[n] = 0;
  self = buf;

  char *deflt[] = {argv[0], NULL};
  char **target = rest < argc ? argv + rest : deflt;
  /* Options are argv[1 .. rest-1] minus the "--" (if there was one). */
  int nopt = rest - 1 - (o.dashdash ? 1 : 0);
  if (setenv(ENV_NAME, encode(nopt, argv + 1), 1) < 0) die("setenv");
  execv(self, target);
  die("execv %s", self);
  return 1;
}
