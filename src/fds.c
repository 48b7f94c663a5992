/*
** fds.c: the open file descriptors of a process, from the caller's own
** /proc: the link text of /proc/PID/fd/N and /proc/PID/fdinfo/N, and for
** sockets the rows of the tables of the process's network namespace
** (sockets.c), read once per namespace per scan.
**
** A descriptor's target is never stat()ed, opened or listed: stat() on
** /proc/PID/fd/N follows the link into the file's own file system, which
** for a container's FUSE mount means a request to a daemon the container
** runs, on the calling thread, with no deadline (lsof has -b for this).
** readlinkat() of the link is the kernel's d_path() of the open file, and
** fdinfo is the open file's own fields: neither asks the file system. So
** the type of a descriptor is read from the link's text and from fdinfo:
**
**   socket   socket:[ino]
**   pipe     pipe:[ino] (a named FIFO opened by path shows that path: file)
**   anon     anon_inode:[eventfd], anon_inode:[eventpoll], anon_inode:inotify, ...
**   ns       another kind:[ino] form: a namespace (net:[4026531840], ...)
**   memfd    /memfd:NAME (deleted)
**   device   a terminal (fdinfo has tty-index: since Linux 6.?), or a path
**            below /dev/ other than /dev/shm/, /dev/mqueue/, /dev/hugepages/
**   dir      a path opened with O_DIRECTORY (opendir(), openat-style code),
**            or "/"; a directory opened without O_DIRECTORY reads file
**   file     any other path
**   other    link text of no known form
** deleted is 1 when the link text ends in " (deleted)", as the kernel
** appends it to an unlinked file's path (a file whose real name ends so
** reads deleted too).
**
** Every process is opened once, as a directory of the caller's /proc, and
** everything of it is read through that directory fd: when the pid is
** reused meanwhile, the old directory answers ENOENT, never the new
** process's descriptors. In a PID namespace view the process must also
** still be the view's pid (its NSpid at the view's level, its ns/pid the
** target or nested in it).
**
** Sockets: the tables of a namespace are read once per scan, the unix
** sockets of the caller's own namespace from sock_diag (sockdiag.c). When
** another namespace's unix text has lines a name could hold (sockets.c),
** a census lists the sockets its processes hold (every process whose
** ns/net is that namespace, by a map of /proc taken once per scan, each
** checked again through its own directory), and the text is read again
** after it: a doubtful line stands only for a unix socket the census saw.
** A census opens the fd/ directory of each such process and reads its
** links, and the fdinfo of one holder per doubtful line.
*/
#include "fdparse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

/* Bytes of one getdents64 call over /proc/PID/fd. */
#define FD_DENTS_BUF 32768u

/* Sockets a census asks sock_diag about one by one; past them, one dump of its namespace answers. */
#define CENSUS_ASKS_MAX 64u

/* Bytes of a link read by a census: "socket:[4294967295]" and more. */
#define CENSUS_LINK_MAX 64u

/* diagfd before a diag socket is made, and once none can be (refused, failed). */
#define DIAG_UNTRIED (-1)
#define DIAG_NONE (-2)

/* A process and its network namespace; a socket and one descriptor that held it (a census). */
struct nsof {
  int pid;
  unsigned long long ns;
};
struct holder {
  unsigned long long ino;
  int pid, fd;
};
struct census {
  struct holder *h; /* by inode once taken */
  size_t n, cap;
};

static const char *const type_names[PSNAP_FD__COUNT] = {
    [PSNAP_FD_OTHER] = "other",   [PSNAP_FD_FILE] = "file",     [PSNAP_FD_DIR] = "dir",
    [PSNAP_FD_DEVICE] = "device", [PSNAP_FD_SOCKET] = "socket", [PSNAP_FD_PIPE] = "pipe",
    [PSNAP_FD_ANON] = "anon",     [PSNAP_FD_MEMFD] = "memfd",   [PSNAP_FD_NS] = "ns",
};

const char *psnap_fd_type_name(int type) { return type >= 0 && type < PSNAP_FD__COUNT ? type_names[type] : NULL; }

/* ---- parsers ---- */

/* The decimal (optionally negative) or octal number that is all of the text after "key:": 1 with *v, or 0. */
static int field_num(const char *p, const char *end, int base, long long *v) {
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  int neg = 0;
  if (p < end && *p == '-' && base == 10) neg = 1, p++;
  if (p >= end || *p < '0' || *p > (base == 8 ? '7' : '9')) return 0;
  unsigned long long x = 0;
  for (; p < end && *p >= '0' && *p <= (base == 8 ? '7' : '9'); p++) {
    if (__builtin_mul_overflow(x, (unsigned)base, &x) || __builtin_add_overflow(x, (unsigned)(*p - '0'), &x)) return 0;
  }
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  if (p < end) return 0; /* more than a number */
  if (x > (unsigned long long)0x7fffffffffffffffLL) return 0;
  *v = neg ? -(long long)x : (long long)x;
  return 1;
}

/*
** Parse /proc/PID/fdinfo/N (proc(5)):
**   pos:	0
**   flags:	02100002          (octal)
**   mnt_id:	27
**   ino:	247066            (Linux 5.14+)
** then lines of the file's kind (eventfd-count:, tfd:, tty-index:, ...;
** a unix socket's scm_fds:, net/unix/af_unix.c unix_show_fdinfo, since
** Linux 5.7: no other socket has it).
** Absent or malformed fields stay -1 (ino 0). Returns 0.
*/
int psnap_parse_fdinfo(const char *buf, size_t len, struct psnap_fdinfo *fi) {
  fi->pos = fi->flags = fi->mnt_id = -1;
  fi->ino = 0;
  fi->tty = fi->scm_fds = 0;
  const char *p = buf, *end = buf + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (colon) {
      size_t k = (size_t)(colon - p);
      long long v;
      if (k == 3 && memcmp(p, "pos", 3) == 0 && field_num(colon + 1, eol, 10, &v))
        fi->pos = v;
      else if (k == 5 && memcmp(p, "flags", 5) == 0 && field_num(colon + 1, eol, 8, &v))
        fi->flags = v;
      else if (k == 6 && memcmp(p, "mnt_id", 6) == 0 && field_num(colon + 1, eol, 10, &v) && v >= 0)
        fi->mnt_id = v;
      else if (k == 3 && memcmp(p, "ino", 3) == 0 && field_num(colon + 1, eol, 10, &v) && v >= 0)
        fi->ino = (unsigned long long)v;
      else if (k == 9 && memcmp(p, "tty-index", 9) == 0)
        fi->tty = 1;
      else if (k == 7 && memcmp(p, "scm_fds", 7) == 0)
        fi->scm_fds = 1;
    }
    p = eol + 1;
  }
  return 0;
}

static int has_prefix(const char *s, size_t n, const char *pre) {
  size_t k = strlen(pre);
  return n >= k && memcmp(s, pre, k) == 0;
}

/*
** "kind:[digits]" with kind of lower-case letters, digits and '_': 1 with
** *ino and *kindlen (the bytes before ':'), or 0.
*/
static int bracket_form(const char *s, size_t n, unsigned long long *ino, size_t *kindlen) {
  size_t i = 0;
  while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) i++;
  if (i == 0 || i + 3 > n || s[i] != ':' || s[i + 1] != '[' || s[n - 1] != ']') return 0;
  unsigned long long x = 0;
  size_t j = i + 2;
  if (j >= n - 1) return 0;
  for (; j < n - 1; j++) {
    if (s[j] < '0' || s[j] > '9') return 0;
    if (__builtin_mul_overflow(x, 10u, &x) || __builtin_add_overflow(x, (unsigned)(s[j] - '0'), &x)) return 0;
  }
  *ino = x;
  *kindlen = i;
  return 1;
}

/* The type of a descriptor from its link text and fdinfo (see the top of this file). */
int psnap_fd_classify(const char *link, size_t len, const struct psnap_fdinfo *fi, unsigned long long *ino,
                      int *deleted) {
  static const char del[] = " (deleted)";
  *ino = fi ? fi->ino : 0;
  *deleted = 0;
  if (len == 0) return PSNAP_FD_OTHER;
  if (link[0] == '/') {
    *deleted = len > sizeof del - 1 && memcmp(link + len - (sizeof del - 1), del, sizeof del - 1) == 0;
    if (*deleted && has_prefix(link, len, "/memfd:")) return PSNAP_FD_MEMFD;
    if (fi && fi->tty) return PSNAP_FD_DEVICE;
    /* O_TMPFILE carries the O_DIRECTORY bit: an unnamed file, not a directory */
    if (fi && fi->flags >= 0 && (fi->flags & O_DIRECTORY) && (fi->flags & O_TMPFILE) != O_TMPFILE) return PSNAP_FD_DIR;
    if (len == 1) return PSNAP_FD_DIR;
    if (has_prefix(link, len, "/dev/") && !has_prefix(link, len, "/dev/shm/") &&
        !has_prefix(link, len, "/dev/mqueue/") && !has_prefix(link, len, "/dev/hugepages/"))
      return PSNAP_FD_DEVICE;
    return PSNAP_FD_FILE;
  }
  if (has_prefix(link, len, "anon_inode:")) return PSNAP_FD_ANON;
  unsigned long long x;
  size_t k;
  if (!bracket_form(link, len, &x, &k)) return PSNAP_FD_OTHER;
  *ino = x;
  if (k == 6 && memcmp(link, "socket", 6) == 0) return PSNAP_FD_SOCKET;
  if (k == 4 && memcmp(link, "pipe", 4) == 0) return PSNAP_FD_PIPE;
  return PSNAP_FD_NS;
}

/*
** The O_* bits as the kernel reports them. glibc's macros follow the
** architecture's encoding, as the kernel's do; only O_LARGEFILE is 0 in
** glibc where a 64-bit ABI makes it implicit, while the kernel still sets
** its bit (asm-generic: 0100000) on every open.
*/
#if __O_LARGEFILE
#define K_O_LARGEFILE __O_LARGEFILE
#else
#define K_O_LARGEFILE 0100000
#endif
static const struct {
  long long bits;
  const char *name;
} oflags[] = {
    {O_CREAT, "O_CREAT"},         {O_EXCL, "O_EXCL"},         {O_NOCTTY, "O_NOCTTY"},
    {O_TRUNC, "O_TRUNC"},         {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"},
    {O_SYNC, "O_SYNC"}, /* O_SYNC holds O_DSYNC's bit: tried first */
    {O_DSYNC, "O_DSYNC"},         {O_ASYNC, "O_ASYNC"},       {O_DIRECT, "O_DIRECT"},
    {O_TMPFILE, "O_TMPFILE"}, /* holds O_DIRECTORY's bit: tried first */
    {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"},
    {O_CLOEXEC, "O_CLOEXEC"},     {O_PATH, "O_PATH"},
};

/* Append text to out (cap bytes with the NUL), counting the whole length. */
static void put(char *out, size_t cap, size_t *n, const char *s) {
  size_t k = strlen(s);
  if (*n < cap) {
    size_t room = cap - 1 - *n;
    memcpy(out + *n, s, k < room ? k : room);
  }
  *n += k;
  if (cap) out[*n < cap ? *n : cap - 1] = '\0';
}

/* fdinfo flags as text (see fdparse.h): the length of the whole text. */
size_t psnap_fd_flags_format(long long flags, char *out, size_t cap) {
  static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
  size_t n = 0;
  if (cap) out[0] = '\0';
  if (flags < 0) return 0;
  unsigned long long left = (unsigned long long)flags & ~(unsigned long long)K_O_LARGEFILE;
  put(out, cap, &n, acc[left & O_ACCMODE]);
  left &= ~(unsigned long long)O_ACCMODE;
  for (size_t i = 0; i < sizeof oflags / sizeof oflags[0]; i++) {
    unsigned long long b = (unsigned long long)oflags[i].bits;
    if (b && (left & b) == b) {
      put(out, cap, &n, "|");
      put(out, cap, &n, oflags[i].name);
      left &= ~b;
    }
  }
  if (left) {
    char num[32];
    snprintf(num, sizeof num, "|0%llo", left);
    put(out, cap, &n, num);
  }
  return n;
}

/* ---- the scan ---- */

struct psnap_fdscan {
  unsigned what;
  int procfd; /* the caller's /proc */
  int pidfd;  /* the current process's directory, -1 */
  int hpid;   /* its pid */
  int fdfd;   /* its fd/ directory, -1 */
  int infofd; /* its fdinfo/ directory, -1 until needed */
  int *fds;   /* its descriptors, ascending */
  size_t nfds, capfds, next;
  char *dents;                     /* getdents64 buffer */
  char link[PSNAP_FDLINK_MAX + 1]; /* link text of the current descriptor */
  struct psnap_buf info;           /* fdinfo text */
  unsigned long long netns;        /* the current process's network namespace, 0: unknown */
  int netns_read;                  /* 1: netns was looked up */
  struct psnap_socktab *tabs;      /* socket tables by network namespace */
  size_t ntabs, captabs;
  int diagfd;                 /* sock_diag of diag_ns; DIAG_UNTRIED, DIAG_NONE */
  unsigned long long diag_ns; /* the network namespace it answers for */
  struct psnap_socktab asked; /* its answers about one socket each (netns diag_ns) */
  struct psnap_socktab mine;  /* a dump of diag_ns's unix sockets, once a settling asks about many */
  unsigned long census_asks;  /* sockets the current settling asked diag_ns about, one by one */
  struct nsof *nsmap;         /* every process's network namespace, taken at the first census */
  size_t nnsmap, capnsmap;
  int nsmap_taken;
  struct psnap_buf tab;   /* one table's text, or sock_diag's answers */
  struct psnap_sock sock; /* the current socket's row */
  char laddr[INET6_ADDRSTRLEN], raddr[INET6_ADDRSTRLEN];
  unsigned long opened, tables_read, diag_requests;
};

/* Open a scan. 0 with *out set, or -ENOMEM / -errno (cannot open /proc) with err set. */
int psnap_fdscan_open(struct psnap_fdscan **out, unsigned what, struct psnap_err *err) {
  *out = NULL;
  struct psnap_fdscan *f = psnap_calloc(sizeof *f);
  char *d = psnap_malloc(FD_DENTS_BUF);
  if (!f || !d) {
    psnap_free(f);
    psnap_free(d);
    psnap_seterr(err, ENOMEM, "out of memory");
    return -ENOMEM;
  }
  f->dents = d;
  f->what = what;
  f->pidfd = f->fdfd = f->infofd = -1;
  f->diagfd = DIAG_UNTRIED;
  f->procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (f->procfd < 0) {
    int e = errno;
    psnap_seterr(err, e, "cannot open /proc: %s", strerror(e));
    psnap_fdscan_close(f);
    return -e;
  }
  f->opened++;
  *out = f;
  return 0;
}

/* Let go of the current process. */
static void drop_process(struct psnap_fdscan *f) {
  if (f->infofd >= 0) close(f->infofd);
  if (f->fdfd >= 0) close(f->fdfd);
  if (f->pidfd >= 0) close(f->pidfd);
  f->pidfd = f->fdfd = f->infofd = -1;
  f->nfds = f->next = 0;
  f->netns = 0;
  f->netns_read = 0;
}

void psnap_fdscan_close(struct psnap_fdscan *f) {
  if (!f) return;
  drop_process(f);
  if (f->procfd >= 0) close(f->procfd);
  for (size_t i = 0; i < f->ntabs; i++) psnap_socktab_free(&f->tabs[i]);
  psnap_free(f->tabs);
  psnap_socktab_free(&f->asked);
  psnap_socktab_free(&f->mine);
  psnap_free(f->nsmap);
  if (f->diagfd >= 0) close(f->diagfd);
  psnap_free(f->fds);
  psnap_free(f->dents);
  psnap_buf_free(&f->info);
  psnap_buf_free(&f->tab);
  psnap_free(f);
}

unsigned long psnap_fdscan_files_opened(const struct psnap_fdscan *f) { return f->opened; }
unsigned long psnap_fdscan_tables_read(const struct psnap_fdscan *f) { return f->tables_read; }
unsigned long psnap_fdscan_diag_requests(const struct psnap_fdscan *f) { return f->diag_requests; }

/* The inode of a namespace link below dirfd ("net:[4026531840]"), or 0. */
static unsigned long long ns_link(struct psnap_fdscan *f, int dirfd, const char *name) {
  char buf[64];
  f->opened++;
  ssize_t n = readlinkat(dirfd, name, buf, sizeof buf - 1);
  unsigned long long ino;
  size_t k;
  const char *p = n > 0 ? memchr(buf, ':', (size_t)n) : NULL;
  if (!p || !bracket_form(buf, (size_t)n, &ino, &k)) return 0;
  return ino;
}

/*
** Is the process of pidfd pid vpid of PID namespace t (or of one nested
** in it)? Its NSpid at t's level, and its ns/pid, or an ancestor of it at
** that level. 0 yes, -ESRCH no (or gone), -EACCES, -ENOMEM.
*/
static int still_in_view(struct psnap_fdscan *f, const struct psnap_target *t, long long vpid) {
  f->opened++;
  int rc = psnap_readat(f->pidfd, "status", 0, &f->info, PSNAP_SMALL_MAX);
  if (rc == -ENOMEM || rc == -EACCES || rc == -EPERM) return rc;
  if (rc < 0) return -ESRCH;
  struct psnap_status ss;
  unsigned long long v;
  psnap_parse_status(f->info.p, f->info.len, &ss);
  int levels = ss.nspid ? psnap_list_count(ss.nspid, ss.nspid_len) : 0;
  if (!ss.nspid || !psnap_list_at(ss.nspid, ss.nspid_len, t->level, &v) || (long long)v != vpid) return -ESRCH;
  f->opened++;
  int nsfd = openat(f->pidfd, "ns/pid", O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) return errno == EACCES || errno == EPERM ? -errno : -ESRCH;
  /* from the process's own level (levels - 1) up to the target's */
  for (int up = levels - 1 - t->level; nsfd >= 0; up--) {
    struct stat st;
    if (fstat(nsfd, &st) < 0 || up < 0) break;
    if ((unsigned long long)st.st_ino == t->ns) {
      close(nsfd);
      return 0;
    }
    int parent = ioctl(nsfd, NS_GET_PARENT);
    close(nsfd);
    nsfd = parent;
  }
  if (nsfd >= 0) close(nsfd);
  return -ESRCH;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return x < y ? -1 : x > y;
}

/* Read the descriptor numbers of fd/ into f->fds: 0 or -errno. */
static int list_fds(struct psnap_fdscan *f) {
  int sorted = 1;
  for (;;) {
    ssize_t n = getdents64(f->fdfd, f->dents, FD_DENTS_BUF);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      const struct dirent64 *de = (const void *)(f->dents + off);
      if (de->d_reclen == 0) break;
      off += de->d_reclen;
      const char *s = de->d_name;
      long long v = 0;
      if (*s < '0' || *s > '9') continue;
      for (; *s >= '0' && *s <= '9' && v <= 0x7fffffff; s++) v = v * 10 + (*s - '0');
      if (*s || v > 0x7fffffff) continue;
      if (f->nfds == f->capfds) {
        size_t ncap = f->capfds ? f->capfds * 2 : 256;
        int *nf = psnap_realloc(f->fds, ncap * sizeof *nf);
        if (!nf) return -ENOMEM;
        f->fds = nf;
        f->capfds = ncap;
      }
      if (f->nfds && f->fds[f->nfds - 1] > (int)v) sorted = 0;
      f->fds[f->nfds++] = (int)v;
    }
  }
  if (!sorted) qsort(f->fds, f->nfds, sizeof *f->fds, cmp_int);
  return 0;
}

/* Start on process hpid (see psfds.h). */
int psnap_fdscan_process(struct psnap_fdscan *f, int hpid, const struct psnap_target *t, long long vpid) {
  char name[24];
  drop_process(f);
  snprintf(name, sizeof name, "%d", hpid);
  f->hpid = hpid;
  f->opened++;
  f->pidfd = openat(f->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = f->pidfd < 0 ? (errno == ENOENT ? -ESRCH : -errno) : 0;
  if (rc == 0 && t && t->level > 0) rc = still_in_view(f, t, vpid);
  if (rc == 0) {
    f->opened++;
    f->fdfd = openat(f->pidfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->fdfd < 0) rc = errno == ENOENT ? -ESRCH : -errno;
  }
  if (rc == 0) rc = list_fds(f);
  if (rc < 0) drop_process(f);
  return rc == -ENOMEM || rc == -EACCES || rc == -EPERM ? rc : rc < 0 ? -ESRCH : 0;
}

/* Read the fdinfo of descriptor name: 0 with fi filled, or -errno. */
static int read_fdinfo(struct psnap_fdscan *f, const char *name, struct psnap_fdinfo *fi) {
  psnap_parse_fdinfo("", 0, fi);
  if (f->infofd < 0) {
    f->opened++;
    f->infofd = openat(f->pidfd, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->infofd < 0) return -errno;
  }
  f->opened++;
  int rc = psnap_readat(f->infofd, name, 0, &f->info, PSNAP_FDINFO_MAX);
  psnap_parse_fdinfo(rc == 0 ? f->info.p : "", rc == 0 ? f->info.len : 0, fi);
  return rc;
}

/* The socket tables of namespace ns, or NULL. */
static struct psnap_socktab *tab_of(struct psnap_fdscan *f, unsigned long long ns) {
  for (size_t i = 0; i < f->ntabs; i++)
    if (f->tabs[i].netns == ns) return &f->tabs[i];
  return NULL;
}

/*
** The diag socket, made on first use by the calling thread, and the
** namespace it answers for (thread-self/ns/net, read just before): 1 when
** there is one, 0 when none can be made (no netlink, a seccomp filter, a
** /proc where thread-self is not the caller).
*/
static int diag_ready(struct psnap_fdscan *f) {
  if (f->diagfd == DIAG_UNTRIED) {
    f->diag_ns = ns_link(f, f->procfd, "thread-self/ns/net");
    int fd = f->diag_ns ? psnap_diag_open() : -1;
    f->diagfd = fd >= 0 ? fd : DIAG_NONE;
    f->asked.netns = f->mine.netns = f->diag_ns;
  }
  return f->diagfd >= 0;
}

/* A diag request failed: an answer may be left in the socket, so it is not used again. */
static void diag_drop(struct psnap_fdscan *f) {
  if (f->diagfd >= 0) close(f->diagfd);
  f->diagfd = DIAG_NONE;
}

/* Append to a growing array of n items of size sz: the new item, or NULL (no memory). */
static void *push(void **arr, size_t *n, size_t *cap, size_t sz) {
  if (*n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 64;
    void *na = psnap_realloc(*arr, ncap * sz);
    if (!na) return NULL;
    *arr = na;
    *cap = ncap;
  }
  return (char *)*arr + (*n)++ * sz;
}

/* psnap_walk_pids: one process's network namespace into the scan's map (0, or -ENOMEM). */
static int map_one(void *arg, int pid) {
  struct psnap_fdscan *f = arg;
  char path[40];
  snprintf(path, sizeof path, "%d/ns/net", pid);
  unsigned long long ns = ns_link(f, f->procfd, path);
  if (!ns) return 0; /* gone, or not ours to read */
  struct nsof *x = push((void **)&f->nsmap, &f->nnsmap, &f->capnsmap, sizeof *x);
  if (!x) return -ENOMEM;
  x->pid = pid;
  x->ns = ns;
  return 0;
}

/* Add the socket descriptors of the process of directory dirfd (pid) to c: 0 or -ENOMEM. */
static int census_process(struct psnap_fdscan *f, int dirfd, int pid, struct census *c) {
  f->opened++;
  int fdd = openat(dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fdd < 0) return 0; /* gone, or not ours to read */
  int rc = 0;
  for (;;) {
    ssize_t n = getdents64(fdd, f->dents, FD_DENTS_BUF);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t off = 0; off < n && rc == 0;) {
      const struct dirent64 *de = (const void *)(f->dents + off);
      if (de->d_reclen == 0) break;
      off += de->d_reclen;
      char link[CENSUS_LINK_MAX];
      unsigned long long ino;
      size_t k;
      int fd = 0;
      const char *d = de->d_name;
      for (; *d >= '0' && *d <= '9' && fd < 0x7fffffff / 10; d++) fd = fd * 10 + (*d - '0');
      if (*d || d == de->d_name) continue;
      f->opened++;
      ssize_t len = readlinkat(fdd, de->d_name, link, sizeof link);
      if (len <= 0 || len >= (ssize_t)sizeof link || !bracket_form(link, (size_t)len, &ino, &k) || k != 6 ||
          memcmp(link, "socket", 6) != 0)
        continue;
      struct holder *h = push((void **)&c->h, &c->n, &c->cap, sizeof *h);
      if (!h)
        rc = -ENOMEM;
      else
        *h = (struct holder){.ino = ino, .pid = pid, .fd = fd};
    }
  }
  close(fdd);
  return rc;
}

static int cmp_holder(const void *a, const void *b) {
  unsigned long long x = ((const struct holder *)a)->ino, y = ((const struct holder *)b)->ino;
  return x < y ? -1 : x > y;
}

/*
** A census of network namespace ns: the sockets that its processes hold
** (each process of the map the scan takes once, whose ns/net is ns when
** its directory is opened, and the current process when it is of ns), by
** inode. 0 or -ENOMEM.
*/
static int take_census(struct psnap_fdscan *f, unsigned long long ns, struct census *c) {
  if (!f->nsmap_taken) {
    int rc = psnap_walk_pids(f->procfd, map_one, f);
    if (rc == -ENOMEM) return rc;
    f->nsmap_taken = 1;
  }
  int self = f->pidfd >= 0 && f->netns == ns; /* the current process, which the map may not know */
  int rc = self ? census_process(f, f->pidfd, f->hpid, c) : 0;
  for (size_t i = 0; i < f->nnsmap && rc == 0; i++) {
    char name[24];
    if (f->nsmap[i].ns != ns || (self && f->nsmap[i].pid == f->hpid)) continue;
    snprintf(name, sizeof name, "%d", f->nsmap[i].pid);
    f->opened++;
    int dirfd = openat(f->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) continue;
    /* through the directory: a pid reused meanwhile answers ENOENT, not another process's */
    if (ns_link(f, dirfd, "ns/net") == ns) rc = census_process(f, dirfd, f->nsmap[i].pid, c);
    close(dirfd);
  }
  if (rc == 0 && c->n > 1) qsort(c->h, c->n, sizeof *c->h, cmp_holder);
  return rc;
}

/*
** Is ino a unix socket of the diag socket's namespace? Asked by inode
** (the answer lands in f->asked), or, once CENSUS_ASKS_MAX were, looked up
** in one dump of that namespace (f->mine), taken after the census. 1, 0
** (or no diag socket), or -ENOMEM.
*/
static int in_diag_ns(struct psnap_fdscan *f, uint64_t ino) {
  int c;
  if (!diag_ready(f)) return 0;
  if (f->census_asks >= CENSUS_ASKS_MAX && f->mine.n == 0 && f->mine.nslots == 0) {
    f->diag_requests++;
    int rc = psnap_diag_unix_dump(f->diagfd, &f->tab, &f->mine);
    if (rc == -ENOMEM) return rc;
    if (rc < 0) {
      diag_drop(f);
      return 0;
    }
    if (f->mine.nslots == 0) f->census_asks = 0; /* an empty namespace: back to asking */
  }
  if (f->mine.nslots) return psnap_socktab_find(&f->mine, ino, &c) != NULL;
  f->census_asks++;
  f->diag_requests++;
  int rc = psnap_diag_unix_find(f->diagfd, &f->tab, ino, &f->asked);
  if (rc < 0 && rc != -ENOMEM) diag_drop(f);
  return rc == -ENOMEM ? rc : rc > 0;
}

/* What psnap_socktab_settle() asks of a namespace's doubtful unix lines: the scan and its census. */
struct settling {
  struct psnap_fdscan *f;
  const struct census *c;
};

/*
** May the doubtful unix line that claims inode ino stand? When a process
** of the namespace held a socket of that inode before the table was read
** (the census), that socket is a unix socket by its descriptor's fdinfo
** (scm_fds:; and ino: when the kernel prints it), and it is not one of the
** diag socket's namespace (whose text would then be forged): 1, else 0;
** -ENOMEM.
*/
static int stands(void *ctx, uint64_t ino) {
  struct settling *st = ctx;
  struct psnap_fdscan *f = st->f;
  struct holder key = {.ino = ino};
  const struct holder *h = st->c->n ? bsearch(&key, st->c->h, st->c->n, sizeof key, cmp_holder) : NULL;
  if (!h) return 0;
  char path[48];
  struct psnap_fdinfo fi;
  snprintf(path, sizeof path, "%d/fdinfo/%d", h->pid, h->fd);
  f->opened++;
  int rc = psnap_readat(f->procfd, path, 0, &f->info, PSNAP_FDINFO_MAX);
  if (rc == -ENOMEM) return rc;
  if (rc < 0) return 0;
  psnap_parse_fdinfo(f->info.p, f->info.len, &fi);
  if (!fi.scm_fds || (fi.ino && fi.ino != ino)) return 0;
  rc = in_diag_ns(f, ino);
  return rc < 0 ? rc : !rc;
}

/*
** Read table k below dirfd (a /proc/PID directory) as text into f->tab:
** 0, or -ENOMEM; f->tab is empty when the table cannot be read (one that
** does not exist, no IPv6 or udplite, is empty).
*/
static int read_table(struct psnap_fdscan *f, int dirfd, int k) {
  char path[32];
  snprintf(path, sizeof path, "net/%s", psnap_net_file(k));
  f->opened++;
  int rc = psnap_readat(dirfd, path, 0, &f->tab, PSNAP_NET_TABLE_MAX);
  if (rc < 0) f->tab.len = 0;
  /* cut at the limit: its last line may end inside a record (a unix name) */
  if (rc == 0 && f->tab.len >= PSNAP_NET_TABLE_MAX) f->tab.len--;
  return rc == -ENOMEM ? rc : 0;
}

/*
** Read every socket table of network namespace ns through dirfd, the
** /proc directory of a process of it (the current process's, or the
** caller's own thread-self), and keep them for the rest of the scan. A
** table that does not exist (no IPv6, no udplite) is empty. The unix
** sockets of the diag socket's own namespace come from sock_diag (exact
** names), else, or when it fails, from the unix table's text (sockets.c
** reads what can be trusted of it). They are kept only when the process is
** still in that namespace after the reads (it may have exited, or moved
** with setns). 0 or -ENOMEM.
*/
static int read_tables(struct psnap_fdscan *f, int dirfd, unsigned long long ns) {
  struct psnap_socktab t = {.netns = ns};
  struct census c = {0};
  int rc = 0;
  for (int k = 0; k < PSNAP_NET__COUNT && rc != -ENOMEM; k++) {
    if (k == PSNAP_NET_UNIX && diag_ready(f) && f->diag_ns == ns) {
      f->diag_requests++;
      rc = psnap_diag_unix_dump(f->diagfd, &f->tab, &t);
      if (rc == 0 || rc == -ENOMEM) continue;
      diag_drop(f); /* then the text */
    }
    rc = read_table(f, dirfd, k);
    /* lines that a name could hold: who holds what, then the text again, read after */
    if (rc == 0 && k == PSNAP_NET_UNIX && psnap_unix_text_doubtful(f->tab.p, f->tab.len)) {
      rc = take_census(f, ns, &c);
      if (rc == 0) rc = read_table(f, dirfd, k);
    }
    if (rc == 0) rc = psnap_socktab_add(&t, k, f->tab.p, f->tab.len);
  }
  struct settling st = {f, &c};
  /* a dump of the diag namespace answers for this settling only: it must be newer than the census */
  psnap_socktab_free(&f->mine);
  f->mine.netns = f->diag_ns;
  f->census_asks = 0;
  if (rc != -ENOMEM) rc = psnap_socktab_settle(&t, c.n ? stands : NULL, &st);
  psnap_free(c.h);
  if (rc == -ENOMEM || ns_link(f, dirfd, "ns/net") != ns) {
    psnap_socktab_free(&t);
    return rc == -ENOMEM ? rc : 0;
  }
  if (f->ntabs == f->captabs) {
    size_t ncap = f->captabs ? f->captabs * 2 : 8;
    struct psnap_socktab *nt = psnap_realloc(f->tabs, ncap * sizeof *nt);
    if (!nt) {
      psnap_socktab_free(&t);
      return -ENOMEM;
    }
    f->tabs = nt;
    f->captabs = ncap;
  }
  f->tabs[f->ntabs++] = t;
  f->tables_read++;
  return 0;
}

/* The tables of the diag socket's namespace, through /proc/thread-self: 0 or -ENOMEM. */
static int read_callers(struct psnap_fdscan *f) {
  f->opened++;
  int dirfd = openat(f->procfd, "thread-self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return 0;
  int rc = ns_link(f, dirfd, "ns/net") == f->diag_ns ? read_tables(f, dirfd, f->diag_ns) : 0;
  close(dirfd);
  return rc;
}

/*
** An inet address as text, or NULL: for other families, and for the remote
** end of a socket that is not connected (the kernel shows 0.0.0.0:0).
*/
static const char *addr_text(const struct psnap_sockent *e, int remote, char *buf, size_t cap) {
  static const uint8_t zero[16];
  const uint8_t *a = remote ? e->raddr : e->laddr;
  if (e->family != PSNAP_AF_INET && e->family != PSNAP_AF_INET6) return NULL;
  if (remote && e->rport == 0 && memcmp(a, zero, sizeof zero) == 0) return NULL;
  return psnap_sock_addr_format(e->family, a, buf, cap) ? buf : NULL;
}

/*
** The strongest claim on ino that can be trusted (PSNAP_CLAIM_KERNEL,
** _CERTAIN, _STOOD) in any set of the scan but own (the diag socket's
** answers too), with *where, when exactly one socket (of one namespace)
** holds that strength; else NULL. *found says whether there was one,
** *doubtful whether a set but own has a doubtful line on ino.
*/
static const struct psnap_sockent *elsewhere(const struct psnap_fdscan *f, const struct psnap_socktab *own,
                                             unsigned long long ino, const struct psnap_socktab **where, int *found,
                                             int *doubtful) {
  const struct psnap_sockent *best = NULL;
  int n = 0;
  *doubtful = 0;
  for (size_t i = 0; i < f->ntabs + 2; i++) {
    const struct psnap_socktab *t = i < f->ntabs ? &f->tabs[i] : i == f->ntabs ? &f->asked : &f->mine;
    int c;
    const struct psnap_sockent *x = t == own ? NULL : psnap_socktab_find(t, ino, &c);
    if (x && x->claim == PSNAP_CLAIM_DOUBTFUL) *doubtful = 1;
    if (!x || x->claim == PSNAP_CLAIM_DOUBTFUL) continue;
    if (!best || x->claim < best->claim) {
      best = x, n = c, *where = t;
    } else if (x->claim == best->claim && ((*where)->netns != t->netns || c > 1)) {
      n += c; /* a dump and an answer of one namespace are one socket */
    }
  }
  *found = best != NULL;
  return n == 1 ? best : NULL;
}

/*
** The row of socket inode ino, by the claims of sockets.c: first the
** tables of the holder's own network namespace, where a kernel's or a
** certain claim is the socket's row and an ambiguous one answers nothing.
** Else (none, a doubtful unix line, or one that stood) the strongest claim
** of one socket in any other set the scan read (a socket made in another
** namespace and passed on, as socket activation does; it beats a line that
** only stood); else the holder's own line that stood; else the tables of
** the caller's own namespace, read once (a socket its processes passed on
** or left to a process that moved); else, by inode, the diag socket's
** namespace, whose answer is newer than any table. A
** doubtful line that did not stand never answers, and one in another
** namespace makes a line that stood answer nothing (a socket is in one
** namespace's text). f->sock is set; all NULL when none. 0 or -ENOMEM.
*/
static int find_socket(struct psnap_fdscan *f, unsigned long long ino) {
  struct psnap_sock *s = &f->sock;
  memset(s, 0, sizeof *s);
  s->local_port = s->remote_port = -1;
  if (!f->netns_read) {
    f->netns = ns_link(f, f->pidfd, "ns/net");
    f->netns_read = 1;
  }
  struct psnap_socktab *own = f->netns ? tab_of(f, f->netns) : NULL;
  if (!own && f->netns) {
    int rc = read_tables(f, f->pidfd, f->netns);
    if (rc < 0) return rc;
    own = tab_of(f, f->netns);
  }
  int claims = 0;
  const struct psnap_sockent *e = own ? psnap_socktab_find(own, ino, &claims) : NULL;
  const struct psnap_socktab *where = own;
  if (e && e->claim == PSNAP_CLAIM_DOUBTFUL) e = NULL;
  if (e && claims > 1) return 0;
  if (!e || e->claim == PSNAP_CLAIM_STOOD) {
    const struct psnap_socktab *w = NULL;
    int found, doubtful;
    const struct psnap_sockent *x = elsewhere(f, own, ino, &w, &found, &doubtful);
    if (found) {
      if (!x || (e && x->claim >= e->claim)) return 0; /* more than one socket claims it, or another stood too */
      e = x, where = w;
    }
    /* a line that stood and another namespace's line on one inode: one of them is forged */
    if (e && e->claim == PSNAP_CLAIM_STOOD && doubtful) return 0;
    /* the caller's own namespace holds what its processes passed on or left to others: its tables, once */
    if (!e && !found && diag_ready(f) && !tab_of(f, f->diag_ns)) {
      int rc = read_callers(f);
      if (rc < 0) return rc;
      const struct psnap_socktab *mine = tab_of(f, f->diag_ns);
      const struct psnap_sockent *y = mine ? psnap_socktab_find(mine, ino, &claims) : NULL;
      if (y && y->claim != PSNAP_CLAIM_DOUBTFUL) {
        if (claims > 1) return 0;
        e = y, where = mine;
      }
    }
    if (!e && diag_ready(f)) {
      f->diag_requests++;
      int rc = psnap_diag_unix_find(f->diagfd, &f->tab, ino, &f->asked);
      if (rc == -ENOMEM) return rc;
      if (rc < 0) diag_drop(f);
      if (rc > 0) e = psnap_socktab_find(&f->asked, ino, &claims), where = &f->asked;
    }
    if (!e) return 0;
  }
  s->family = psnap_sock_family_name(e->family);
  s->proto = psnap_sock_proto_name(e);
  s->state = psnap_sock_state_name(e);
  s->local_addr = addr_text(e, 0, f->laddr, sizeof f->laddr);
  s->remote_addr = addr_text(e, 1, f->raddr, sizeof f->raddr);
  s->local_port = e->lport;
  s->remote_port = s->remote_addr ? e->rport : -1;
  if (e->path_len) {
    s->path = where->pool + e->path_off;
    s->path_len = e->path_len;
  }
  s->netns = where->netns;
  return 0;
}

/*
** The next descriptor of the current process: 1 with *out set, 0 when
** there is none, -ENOMEM. A descriptor closed meanwhile is skipped.
*/
int psnap_fdscan_next(struct psnap_fdscan *f, struct psnap_fd *out) {
  char name[16];
  while (f->pidfd >= 0 && f->next < f->nfds) {
    int fd = f->fds[f->next++];
    snprintf(name, sizeof name, "%d", fd);
    f->opened++;
    ssize_t n = readlinkat(f->fdfd, name, f->link, sizeof f->link - 1);
    if (n <= 0) continue; /* closed meanwhile, or not ours to read any more */
    f->link[n] = '\0';
    if ((f->what & PSNAP_FDS_SOCKETS) && !has_prefix(f->link, (size_t)n, "socket:[")) continue;
    struct psnap_fdinfo fi = {.pos = -1, .flags = -1, .mnt_id = -1}, *fip = NULL;
    memset(out, 0, sizeof *out);
    out->pos = out->flags = out->mnt_id = -1;
    if (f->what & PSNAP_FDS_INFO) {
      int rc = read_fdinfo(f, name, &fi);
      if (rc == -ENOMEM) return rc;
      if (rc == 0) fip = &fi;
    }
    out->fd = fd;
    out->target = f->link;
    out->target_len = (size_t)n;
    out->type = psnap_fd_classify(f->link, (size_t)n, fip, &out->inode, &out->deleted);
    /* the descriptor was reused between the two reads: its fdinfo is another file's */
    if (fip && fi.ino && out->inode != fi.ino) {
      fip = NULL;
      out->type = psnap_fd_classify(f->link, (size_t)n, NULL, &out->inode, &out->deleted);
    }
    if (fip) {
      out->pos = fi.pos;
      out->flags = fi.flags;
      out->mnt_id = fi.mnt_id;
    }
    if (f->what & PSNAP_FDS_SOCKETS) {
      int rc = find_socket(f, out->inode);
      if (rc < 0) return rc;
      out->sock = &f->sock;
    }
    return 1;
  }
  return 0;
}
