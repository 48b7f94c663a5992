/*
** procfs.c: the one file reader and the parsers of /proc and /etc text.
**
** Everything here is pure: a parser takes bytes and fills a struct, so the
** unit tests and the fuzzers feed it recorded, truncated and hostile
** contents. Nothing here asserts on kernel data; every copy is clamped.
*/
#include "procfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fill an error: the code and a printf-style message. */
void psnap_seterr(struct psnap_err *e, int code, const char *fmt, ...) {
  if (!e) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
  va_end(ap);
  e->code = code ? code : EIO;
  /* Messages are lower case: strerror()'s "Permission denied" ends ours
     as "permission denied". */
  char *last = strrchr(e->msg, ':');
  if (last && last[1] == ' ' && last[2] >= 'A' && last[2] <= 'Z' && last[3] >= 'a' && last[3] <= 'z')
    last[2] = (char)(last[2] - 'A' + 'a');
}

/*
** Call fn for every process directory of a /proc (its numeric entries), in
** directory order, until fn returns non-zero: the one walker of /proc, and
** of a process's task/ (its threads, numeric entries too).
** Returns 0, fn's value, or -errno.
*/
int psnap_walk_pids(int procfd, int (*fn)(void *arg, int pid), void *arg) {
  int fd = dup(procfd);
  if (fd < 0) return -errno;
  lseek(fd, 0, SEEK_SET);
  DIR *d = fdopendir(fd);
  if (!d) {
    int rc = -errno;
    close(fd);
    return rc;
  }
  int rc = 0;
  struct dirent *de;
  while (rc == 0 && (de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    if (*n < '1' || *n > '9') continue;
    long long v = 0;
    for (; *n >= '0' && *n <= '9' && v <= INT_MAX; n++) v = v * 10 + (*n - '0');
    if (*n == '\0' && v <= INT_MAX) rc = fn(arg, (int)v);
  }
  closedir(d);
  return rc;
}

/* Release a buffer's memory. */
void psnap_buf_free(struct psnap_buf *b) {
  psnap_free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

/*
** Read an open fd to EOF into b, growing it as needed, retrying EINTR, and
** NUL-terminate it. /proc files report st_size 0, so the only way to know
** their size is to read. At most max bytes are kept (the rest is not
** read). With short_is_eof, a read that returns less than asked ends the
** file: true of the /proc files we read (seq_file single_open files such
** as stat and status hand over their whole text in one read, cmdline and
** attr/current fill the buffer until the end), and it saves a read() per
** file. Returns 0 on success, -errno on failure.
*/
static int read_all(int fd, struct psnap_buf *b, size_t max, int short_is_eof) {
  b->len = 0;
  for (;;) {
    if (b->cap - b->len < 2) {
      size_t ncap = b->cap ? b->cap * 2 : 4096;
      char *np = psnap_realloc(b->p, ncap);
      if (!np) return -ENOMEM;
      b->p = np;
      b->cap = ncap;
    }
    size_t want = b->cap - b->len - 1;
    if (b->len + want > max) want = max - b->len;
    if (want == 0) break;
    ssize_t r = read(fd, b->p + b->len, want);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (r == 0) break;
    b->len += (size_t)r;
    if (short_is_eof && (size_t)r < want) break;
  }
  b->p[b->len] = '\0';
  return 0;
}

/* Read any fd (pipe, file) to EOF into b: 0 or -errno. Does not close fd. */
int psnap_readfd(int fd, struct psnap_buf *b, size_t max) { return read_all(fd, b, max, 0); }

/* Read a /proc file into b, taking a short read as its end: 0 or -errno. */
int psnap_readproc(int fd, struct psnap_buf *b, size_t max) { return read_all(fd, b, max, 1); }

/* Open dirfd/name read-only and read it whole into b: 0 or -errno. */
int psnap_readat(int dirfd, const char *name, int oflags, struct psnap_buf *b, size_t max) {
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | oflags);
  if (fd < 0) return -errno;
  int rc = psnap_readfd(fd, b, max);
  close(fd);
  return rc;
}

/*
** A bounded tokenizer for space-separated numeric fields. Each call
** consumes leading spaces and one signed decimal; 1 when a number was
** read, 0 at the end or at a character that starts no number.
*/
static int next_ll(const char **p, const char *end, long long *v) {
  const char *s = *p;
  while (s < end && *s == ' ') s++;
  if (s >= end) return 0;
  int neg = 0;
  if (*s == '-' || *s == '+') {
    neg = *s == '-';
    s++;
  }
  if (s >= end || *s < '0' || *s > '9') return 0;
  unsigned long long x = 0;
  for (; s < end && *s >= '0' && *s <= '9'; s++) x = x * 10 + (unsigned)(*s - '0'); /* wraps: harmless */
  /* Negate in unsigned arithmetic: -(long long)x is undefined for 2^63.
     The kernel's unsigned 64-bit fields keep their bits either way. */
  *v = (long long)(neg ? 0ull - x : x);
  *p = s;
  return 1;
}

/*
** Parse /proc/PID/stat. comm (2) is whatever lies between the first '('
** and the *last* ')': a process may name itself ") (" or ":-) 1 2 (x)",
** so no other delimiter is safe. Fields after comm are space separated.
** Returns 0, or -EINVAL when the text is too short to hold up to (24).
*/
int psnap_parse_stat(const char *buf, size_t len, struct psnap_stat *st) {
  memset(st, 0, sizeof *st);
  const char *end = buf + len;
  const char *open = memchr(buf, '(', len);
  if (!open) return -EINVAL;
  const char *close = NULL;
  for (const char *q = end; q > open + 1;) {
    q--;
    if (*q == ')') {
      close = q;
      break;
    }
  }
  if (!close) return -EINVAL;
  const char *p = buf;
  long long v;
  /* (1) pid */
  if (!next_ll(&p, open, &v)) return -EINVAL;
  st->pid = (int)v;
  /* (2) comm */
  size_t n = (size_t)(close - open - 1);
  if (n >= sizeof st->comm) n = sizeof st->comm - 1;
  memcpy(st->comm, open + 1, n);
  st->comm[n] = '\0';
  p = close + 1;
  /* (3) state */
  while (p < end && *p == ' ') p++;
  if (p >= end) return -EINVAL;
  st->state = *p++;
  long long f[40];
  /* (4) .. (24): numbers; (3)'s slot and below unused */
  for (int i = 4; i <= 24; i++) {
    if (!next_ll(&p, end, &f[i])) {
      /* (5)..: a field that is not a number means a malformed file */
      return -EINVAL;
    }
  }
  /* (25) .. (39): present since Linux 2.2; a shorter file leaves psr unknown */
  int upto = 24;
  while (upto < 39 && next_ll(&p, end, &f[upto + 1])) upto++;
  st->ppid = (int)f[4];                  /* (4) ppid */
  st->pgrp = (int)f[5];                  /* (5) pgrp */
  st->session = (int)f[6];               /* (6) session */
  st->tty_nr = (int)f[7];                /* (7) tty_nr */
  st->utime = (unsigned long long)f[14]; /* (14) utime */
  st->stime = (unsigned long long)f[15]; /* (15) stime */
  st->priority = (long)f[18];            /* (18) priority */
  st->nice = (long)f[19];                /* (19) nice */
  st->num_threads = (long)f[20];         /* (20) num_threads */
  st->start = (unsigned long long)f[22]; /* (22) starttime */
  st->vsize = (unsigned long long)f[23]; /* (23) vsize */
  st->rss = f[24];                       /* (24) rss, pages */
  /* (38) exit_signal: -1 for every thread but a group's leader (clone(2)
     with CLONE_THREAD), a signal number (0 to 64) for a process */
  st->exit_signal = upto >= 38 && f[38] >= -1 && f[38] <= INT_MAX ? (int)f[38] : 0;
  /* (39) processor: the CPU the process last ran on */
  st->processor = upto >= 39 && f[39] >= 0 && f[39] <= INT_MAX ? (int)f[39] : -1;
  return 0;
}

/*
** Parse "Key: value" lines: smaps_rollup ("Pss:   12 kB"), io ("rchar: 5"),
** meminfo. A key matches only at the start of a line and only when ':'
** follows it; the first line of each key wins. Values saturate at
** LLONG_MAX. Returns the number of keys found; the others are -1.
*/
int psnap_parse_fields(const char *buf, size_t len, const char *const *keys, int n, long long *out) {
  int found = 0;
  for (int i = 0; i < n; i++) out[i] = -1;
  const char *p = buf, *end = buf + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    const char *colon = memchr(p, ':', (size_t)(le - p));
    if (colon) {
      size_t k = (size_t)(colon - p);
      for (int i = 0; i < n; i++) {
        if (out[i] >= 0 || strlen(keys[i]) != k || memcmp(p, keys[i], k) != 0) continue;
        const char *q = colon + 1;
        unsigned long long v;
        if (psnap_next_uint(&q, le, &v)) {
          out[i] = v > (unsigned long long)LLONG_MAX ? LLONG_MAX : (long long)v;
          found++;
        }
        break;
      }
    }
    p = le + 1;
  }
  return found;
}

/* One signed decimal, alone on its line (oom_score_adj reads "-1000\n"). */
int psnap_parse_long(const char *buf, size_t len, long long *v) {
  const char *p = buf, *end = buf + len;
  while (end > p && (end[-1] == '\n' || end[-1] == '\0')) end--;
  if (!next_ll(&p, end, v)) return 0;
  return p == end;
}

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/* A container id in one path component (its .scope cut): 1 and id, or 0. */
static int component_id(const char *c, size_t n, char *id) {
  static const char *const prefix[] = {"libpod-", "docker-", "cri-containerd-", "crio-", ""};
  for (size_t k = 0; k < sizeof prefix / sizeof prefix[0]; k++) {
    size_t pl = strlen(prefix[k]);
    if (n != pl + PSNAP_CONTAINER_ID_LEN || memcmp(c, prefix[k], pl) != 0) continue;
    size_t i = pl;
    while (i < n && is_hex(c[i])) i++;
    if (i != n) continue;
    memcpy(id, c + pl, PSNAP_CONTAINER_ID_LEN);
    id[PSNAP_CONTAINER_ID_LEN] = '\0';
    return 1;
  }
  return 0;
}

/* A pod UID in one path component (its .slice cut): "pod<uid>" at the start
   or after '-', the UID 32 hex digits in 8-4-4-4-12 groups, '-' or '_'. */
static int component_pod(const char *c, size_t n, char *pod) {
  if (n < 3 + PSNAP_POD_UID_LEN) return 0;
  size_t p = n - 3 - PSNAP_POD_UID_LEN; /* the UID ends the component */
  if (memcmp(c + p, "pod", 3) != 0 || (p > 0 && c[p - 1] != '-')) return 0;
  const char *u = c + p + 3;
  for (size_t i = 0; i < PSNAP_POD_UID_LEN; i++) {
    int sep = i == 8 || i == 13 || i == 18 || i == 23;
    if (sep ? (u[i] != '-' && u[i] != '_') : !is_hex(u[i])) return 0;
  }
  for (size_t i = 0; i < PSNAP_POD_UID_LEN; i++) pod[i] = u[i] == '_' ? '-' : u[i];
  pod[PSNAP_POD_UID_LEN] = '\0';
  return 1;
}

/* Container id and pod UID from a cgroup file (see procfs.h). */
int psnap_parse_container(const char *buf, size_t len, char id[PSNAP_CONTAINER_ID_LEN + 1],
                          char pod[PSNAP_POD_UID_LEN + 1]) {
  int found = 0;
  id[0] = pod[0] = '\0';
  const char *p = buf, *end = buf + len;
  while (p < end && !(found & 1)) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    /* "hierarchy:controllers:path" */
    const char *c1 = memchr(p, ':', (size_t)(le - p));
    const char *path = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
    int line = 0;
    char lid[PSNAP_CONTAINER_ID_LEN + 1], lpod[PSNAP_POD_UID_LEN + 1];
    for (const char *c = path ? path + 1 : le; c < le;) {
      const char *slash = memchr(c, '/', (size_t)(le - c));
      const char *ce = slash ? slash : le;
      size_t n = (size_t)(ce - c);
      /* the outermost wins: a container may make cgroups below its own
         (a delegated subtree), never above it */
      if (!(line & 1) && n > 6 && memcmp(ce - 6, ".scope", 6) == 0 && component_id(c, n - 6, lid)) line |= 1;
      if (!(line & 1) && component_id(c, n, lid)) line |= 1;
      if (!(line & 2) && n > 6 && memcmp(ce - 6, ".slice", 6) == 0 && component_pod(c, n - 6, lpod)) line |= 2;
      if (!(line & 2) && component_pod(c, n, lpod)) line |= 2;
      c = ce + 1;
    }
    if (line & 1) {
      memcpy(id, lid, sizeof lid);
      found |= 1;
      /* the pod of the line with the id, else none */
      if (line & 2) memcpy(pod, lpod, sizeof lpod);
      found = (found & 1) | (line & 2);
    } else if ((line & 2) && !(found & 2)) {
      memcpy(pod, lpod, sizeof lpod);
      found |= 2;
    }
    p = le + 1;
  }
  if (!(found & 2)) pod[0] = '\0';
  return found;
}

/* Next unsigned decimal in a list separated by spaces, tabs or commas. */
int psnap_next_uint(const char **p, const char *end, unsigned long long *v) {
  const char *s = *p;
  while (s < end && (*s == ' ' || *s == '\t' || *s == ',')) s++;
  if (s >= end || *s < '0' || *s > '9') return 0;
  unsigned long long x = 0;
  for (; s < end && *s >= '0' && *s <= '9'; s++) {
    unsigned d = (unsigned)(*s - '0');
    /* saturate: a wrapped 2^64 + 7 must not read as 7 */
    x = x > (ULLONG_MAX - d) / 10 ? ULLONG_MAX : x * 10 + d;
  }
  *v = x;
  *p = s;
  return 1;
}

/* The entry at index k of a separated list of numbers: 1 found, 0 not. */
int psnap_list_at(const char *p, size_t n, int k, unsigned long long *v) {
  const char *end = p + n;
  for (int i = 0; psnap_next_uint(&p, end, v); i++)
    if (i == k) return 1;
  return 0;
}

/* The number of entries of a separated list of numbers. */
int psnap_list_count(const char *p, size_t n) {
  const char *end = p + n;
  unsigned long long v;
  int k = 0;
  while (psnap_next_uint(&p, end, &v)) k++;
  return k;
}

/* Parse up to n unsigned decimals; returns how many were found. */
static int uints(const char *p, const char *end, unsigned *out, int n) {
  int i = 0;
  unsigned long long v;
  while (i < n && psnap_next_uint(&p, end, &v)) out[i++] = (unsigned)v;
  return i;
}

/* Parse a hexadecimal 64-bit mask ("000001ffffffffff"). */
static int hex64(const char *p, const char *end, uint64_t *out) {
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  uint64_t x = 0;
  int digits = 0;
  for (; p < end; p++, digits++) {
    int d;
    if (*p >= '0' && *p <= '9')
      d = *p - '0';
    else if (*p >= 'a' && *p <= 'f')
      d = *p - 'a' + 10;
    else if (*p >= 'A' && *p <= 'F')
      d = *p - 'A' + 10;
    else
      break;
    x = (x << 4) | (uint64_t)d;
  }
  *out = x;
  return digits > 0;
}

/*
** Parse /proc/PID/status: "Key:\tvalue" lines. Only the keys the columns
** use are looked at; Groups and NSpid are kept as pointers into buf (they
** can be long: up to 65536 groups), to be walked with psnap_next_uint().
** Returns 0; a file without Uid/Gid lines leaves have_ids 0.
*/
int psnap_parse_status(const char *buf, size_t len, struct psnap_status *st) {
  static const char *const capkey[5] = {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"};
  memset(st, 0, sizeof *st);
  st->seccomp = st->nonewprivs = st->seccomp_filters = st->ppid = -1;
  st->vmrss = st->vmswap = st->rssfile = st->rssshmem = -1;
  st->vcsw = st->nvcsw = -1;
  const char *p = buf, *end = buf + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    size_t n = (size_t)(le - p);
    if (n > 4 && p[0] == 'U' && memcmp(p, "Uid:", 4) == 0) {
      if (uints(p + 4, le, st->uid, 4) == 4) st->have_ids |= 1;
    } else if (n > 4 && p[0] == 'G' && memcmp(p, "Gid:", 4) == 0) {
      if (uints(p + 4, le, st->gid, 4) == 4) st->have_ids |= 2;
    } else if (n >= 7 && p[0] == 'G' && memcmp(p, "Groups:", 7) == 0) {
      st->groups = p + 7;
      st->groups_len = n - 7;
    } else if (n >= 6 && p[0] == 'N' && memcmp(p, "NSpid:", 6) == 0) {
      st->nspid = p + 6;
      st->nspid_len = n - 6;
    } else if (n >= 7 && p[0] == 'N' && memcmp(p, "NSpgid:", 7) == 0) {
      st->nspgid = p + 7;
      st->nspgid_len = n - 7;
    } else if (n >= 6 && p[0] == 'N' && memcmp(p, "NSsid:", 6) == 0) {
      st->nssid = p + 6;
      st->nssid_len = n - 6;
    } else if (n > 5 && p[0] == 'P' && memcmp(p, "PPid:", 5) == 0) {
      unsigned v;
      if (uints(p + 5, le, &v, 1) == 1 && v <= INT_MAX) st->ppid = (int)v;
    } else if (n > 7 && p[0] == 'C' && p[1] == 'a' && p[2] == 'p') {
      for (int i = 0; i < 5; i++)
        if (memcmp(p, capkey[i], 7) == 0 && hex64(p + 7, le, &st->cap[i])) st->have_cap |= 1u << i;
    } else if (n > 8 && p[0] == 'S' && memcmp(p, "Seccomp:", 8) == 0) {
      unsigned v;
      if (uints(p + 8, le, &v, 1) == 1) st->seccomp = (int)v;
    } else if (n > 16 && p[0] == 'S' && memcmp(p, "Seccomp_filters:", 16) == 0) {
      unsigned v;
      if (uints(p + 16, le, &v, 1) == 1) st->seccomp_filters = (int)v;
    } else if (n > 6 && p[0] == 'V' && memcmp(p, "VmRSS:", 6) == 0) {
      unsigned v;
      if (uints(p + 6, le, &v, 1) == 1) st->vmrss = v;
    } else if (n > 7 && p[0] == 'V' && memcmp(p, "VmSwap:", 7) == 0) {
      unsigned v;
      if (uints(p + 7, le, &v, 1) == 1) st->vmswap = v;
    } else if (n > 8 && p[0] == 'R' && memcmp(p, "RssFile:", 8) == 0) {
      unsigned v;
      if (uints(p + 8, le, &v, 1) == 1) st->rssfile = v;
    } else if (n > 9 && p[0] == 'R' && memcmp(p, "RssShmem:", 9) == 0) {
      unsigned v;
      if (uints(p + 9, le, &v, 1) == 1) st->rssshmem = v;
    } else if (n >= 18 && p[0] == 'C' && memcmp(p, "Cpus_allowed_list:", 18) == 0) {
      const char *c = p + 18, *ce = le;
      while (c < ce && (*c == ' ' || *c == '\t')) c++;
      st->cpus = c;
      st->cpus_len = (size_t)(ce - c);
    } else if (n > 11 && p[0] == 'N' && memcmp(p, "NoNewPrivs:", 11) == 0) {
      unsigned v;
      if (uints(p + 11, le, &v, 1) == 1) st->nonewprivs = (int)v;
    } else if (n > 24 && p[0] == 'v' && memcmp(p, "voluntary_ctxt_switches:", 24) == 0) {
      const char *q = p + 24;
      unsigned long long v; /* unsigned long in the kernel: 64 bits wide */
      if (psnap_next_uint(&q, le, &v)) st->vcsw = v > LLONG_MAX ? LLONG_MAX : (long long)v;
    } else if (n > 27 && p[0] == 'n' && memcmp(p, "nonvoluntary_ctxt_switches:", 27) == 0) {
      const char *q = p + 27;
      unsigned long long v;
      if (psnap_next_uint(&q, le, &v)) st->nvcsw = v > LLONG_MAX ? LLONG_MAX : (long long)v;
    }
    p = le + 1;
  }
  st->have_ids = st->have_ids == 3;
  return 0;
}

/*
** Parse a uid_map/gid_map: lines of "inside outside count". Malformed
** lines are skipped; more than 340 extents (the kernel's limit) are cut.
*/
int psnap_parse_idmap(const char *buf, size_t len, struct psnap_idmap *m) {
  m->n = 0;
  const char *p = buf, *end = buf + len;
  while (p < end && m->n < sizeof m->e / sizeof m->e[0]) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    unsigned v[3];
    if (uints(p, le, v, 3) == 3) {
      m->e[m->n].inside = v[0];
      m->e[m->n].outside = v[1];
      m->e[m->n].count = v[2];
      m->n++;
    }
    p = le + 1;
  }
  return 0;
}

/* Map an outside (host) id into the namespace, as the kernel's from_kuid(). */
uint32_t psnap_idmap_in(const struct psnap_idmap *m, uint32_t outside, uint32_t overflow) {
  for (unsigned i = 0; i < m->n; i++) {
    uint64_t lo = m->e[i].outside;
    if (outside >= lo && (uint64_t)outside < lo + m->e[i].count) return m->e[i].inside + (outside - m->e[i].outside);
  }
  return overflow;
}

static int idtab_cmp(const void *a, const void *b) {
  const struct psnap_idtab_ent *x = a, *y = b;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line;
}

/*
** One line of an /etc/passwd or /etc/group file, p to le (its '\n' or the
** end): the name, its length in *nlen and the id, or NULL when the line is
** no entry. A name is what precedes the first ':', 1 to PSNAP_NAME_MAX
** bytes, not "+..." or "-..." (NIS compat lines) nor "#..."; the id is the
** decimal third field, at most UINT32_MAX; a line with a NUL byte is no
** entry (as a C string it would read cut short).
*/
static const char *idtab_line(const char *p, const char *le, uint32_t *id, size_t *nlen) {
  const char *c1 = memchr(p, ':', (size_t)(le - p));
  if (!c1 || c1 == p || (size_t)(c1 - p) > PSNAP_NAME_MAX || *p == '+' || *p == '-' || *p == '#') return NULL;
  const char *c2 = memchr(c1 + 1, ':', (size_t)(le - c1 - 1));
  if (!c2 || memchr(p, '\0', (size_t)(le - p))) return NULL;
  const char *q = c2 + 1;
  unsigned long long v;
  if (!psnap_next_uint(&q, le, &v) || (q != le && *q != ':') || v > UINT32_MAX) return NULL;
  *id = (uint32_t)v;
  *nlen = (size_t)(c1 - p);
  return p;
}

/*
** Parse an /etc/passwd or /etc/group file ("name:x:id:..."; the id is the
** third field in both) into a table sorted by id. The file comes from a
** container and may be hostile: lines of any length, no final newline,
** NUL bytes, ids that overflow, names of any length. Lines that are no
** entry (idtab_line) are skipped: a name longer than PSNAP_NAME_MAX bytes
** names nothing, so that no value of any row is longer than that
** whatever the file. The table keeps its names only, not the file: two
** passes over the text, one to count, one to copy, into two allocations
** of just that size (the names, each NUL-terminated, in line order; the
** entries). Returns 0 or -ENOMEM (and an empty table).
*/
int psnap_idtab_parse(struct psnap_idtab *t, const char *buf, size_t len) {
  memset(t, 0, sizeof *t);
  size_t n = 0, bytes = 0;
  for (int pass = 0; pass < 2; pass++) {
    const char *p = buf, *end = buf + len;
    uint32_t line = 0;
    char *out = t->text;
    while (p < end) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      const char *le = nl ? nl : end;
      uint32_t id;
      size_t k;
      line++;
      if (idtab_line(p, le, &id, &k)) {
        if (pass == 0) {
          n++;
          bytes += k + 1;
        } else {
          memcpy(out, p, k);
          out[k] = '\0';
          t->e[t->n].id = id;
          t->e[t->n].line = line;
          t->e[t->n].name = out;
          t->n++;
          out += k + 1;
        }
      }
      p = le + 1;
    }
    if (pass == 1 || n == 0) break;
    t->text = psnap_malloc(bytes);
    t->e = t->text ? psnap_malloc(n * sizeof *t->e) : NULL;
    if (!t->e) {
      psnap_idtab_free(t);
      return -ENOMEM;
    }
  }
  if (t->n) qsort(t->e, t->n, sizeof *t->e, idtab_cmp);
  return 0;
}

/* The name of the first entry with this id, or NULL. */
const char *psnap_idtab_find(const struct psnap_idtab *t, uint32_t id) {
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->e[mid].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < t->n && t->e[lo].id == id ? t->e[lo].name : NULL;
}

void psnap_idtab_free(struct psnap_idtab *t) {
  psnap_free(t->e);
  psnap_free(t->text);
  memset(t, 0, sizeof *t);
}
