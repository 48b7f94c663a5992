/*
** procfs.h: the library's parsers and internals, for its own files, the
** unit tests and the fuzzers. Not installed: programs use psnap.h.
**
** The parsers are pure: they take bytes (recorded, truncated, hostile) and
** fill a struct; none asserts on kernel data.
*/
#ifndef PSNAP_PROCFS_H
#define PSNAP_PROCFS_H

#include "psnap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fill an error: the code (0: EIO) and a printf-style message, lower case. */
void psnap_seterr(struct psnap_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Call fn(arg, pid) for every process directory of a /proc (its numeric
   entries), until fn returns non-zero: 0, fn's value, or -errno. */
int psnap_walk_pids(int procfd, int (*fn)(void *arg, int pid), void *arg);

/* The library's allocator (psnap_set_allocator() in psnap.h replaces it). */
void *psnap_malloc(size_t n);
void *psnap_realloc(void *p, size_t n);
void *psnap_calloc(size_t n);
void psnap_free(void *p);
char *psnap_strdup(const char *s);

/* ---- parsers (pure; unit tested and fuzzed on recorded contents) ---- */

/* A growable byte buffer; always NUL-terminated after a successful read. */
struct psnap_buf {
  char *p;
  size_t len;
  size_t cap;
};
void psnap_buf_free(struct psnap_buf *b);
/* Read all of dirfd/name into b (replacing its contents): 0 or -errno. */
int psnap_readat(int dirfd, const char *name, int oflags, struct psnap_buf *b, size_t max);
/* Read all of an open fd into b: 0 or -errno. Does not close fd. */
int psnap_readfd(int fd, struct psnap_buf *b, size_t max);
/* The same for a /proc file, whose first short read is its end. */
int psnap_readproc(int fd, struct psnap_buf *b, size_t max);

struct psnap_stat {
  int pid;                  /* (1) */
  char comm[64];            /* (2) between the first '(' and the last ')' */
  char state;               /* (3) */
  int ppid;                 /* (4) */
  int pgrp;                 /* (5) */
  int session;              /* (6) */
  int tty_nr;               /* (7) */
  unsigned long long utime; /* (14) clock ticks */
  unsigned long long stime; /* (15) clock ticks */
  long priority;            /* (18) */
  long nice;                /* (19) */
  long num_threads;         /* (20) */
  unsigned long long start; /* (22) clock ticks after boot */
  unsigned long long vsize; /* (23) bytes */
  long long rss;            /* (24) pages */
  int exit_signal;          /* (38) -1 for a thread that is not its group's leader; 0 when absent */
  int processor;            /* (39) CPU last run on; -1 when the file stops before it */
};
int psnap_parse_stat(const char *buf, size_t len, struct psnap_stat *st);

struct psnap_status {
  unsigned uid[4]; /* real, effective, saved, filesystem */
  unsigned gid[4];
  int have_ids;
  const char *groups; /* the text after "Groups:" (space separated), or NULL */
  size_t groups_len;
  int ppid;          /* PPid, -1 when absent */
  const char *nspid; /* the text after "NSpid:" (tab separated), or NULL */
  size_t nspid_len;
  const char *nspgid; /* NSpgid, NSsid: the same levels as NSpid */
  size_t nspgid_len;
  const char *nssid;
  size_t nssid_len;
  uint64_t cap[5];     /* CapInh, CapPrm, CapEff, CapBnd, CapAmb */
  unsigned have_cap;   /* bit i: cap[i] present */
  int seccomp;         /* -1 when absent */
  int nonewprivs;      /* NoNewPrivs, -1 when absent */
  long long vmrss;     /* VmRSS in KiB, -1 when absent (kernel threads, zombies) */
  int seccomp_filters; /* Seccomp_filters, -1 when absent */
  long long vmswap;    /* VmSwap in KiB, -1 when absent */
  long long rssfile;   /* RssFile in KiB, -1 when absent */
  long long rssshmem;  /* RssShmem in KiB, -1 when absent */
  const char *cpus;    /* the text after "Cpus_allowed_list:", or NULL */
  size_t cpus_len;
  long long vcsw;  /* voluntary_ctxt_switches, -1 when absent */
  long long nvcsw; /* nonvoluntary_ctxt_switches, -1 when absent */
};
enum { PSNAP_CAPINH, PSNAP_CAPPRM, PSNAP_CAPEFF, PSNAP_CAPBND, PSNAP_CAPAMB };
int psnap_parse_status(const char *buf, size_t len, struct psnap_status *st);

/*
** "Key: value" files (smaps_rollup, io, meminfo): out[i] is the unsigned
** decimal after keys[i] (a line starting "keys[i]:"), saturated at
** LLONG_MAX; -1 when no line has that key. Returns how many were found.
*/
int psnap_parse_fields(const char *buf, size_t len, const char *const *keys, int n, long long *out);

/* One signed decimal (oom_score, oom_score_adj), after optional spaces and
   before an optional newline: 1 with *v set, 0 when the text is not one. */
int psnap_parse_long(const char *buf, size_t len, long long *v);

/*
** The container id and the Kubernetes pod UID that engines write into the
** cgroup paths of /proc/PID/cgroup (v1 and v2): a path component that is
** 64 hex digits, bare or after libpod-, docker-, cri-containerd- or crio-,
** with or without systemd's .scope (libpod-conmon-, crio-conmon- are the
** engines' monitors, not containers); a component "pod<uid>" or "...-pod<uid
** with _ for ->.slice". The outermost id of the first line that has one
** wins: a container may create cgroups below its own, never above.
** id gets 64 hex digits and a NUL, pod 36 characters (with '-') and a NUL.
** Returns 1 when an id was found, 2 when a pod, 3 both, 0 neither.
*/
#define PSNAP_CONTAINER_ID_LEN 64
#define PSNAP_POD_UID_LEN 36
int psnap_parse_container(const char *buf, size_t len, char id[PSNAP_CONTAINER_ID_LEN + 1],
                          char pod[PSNAP_POD_UID_LEN + 1]);

/* Next unsigned decimal from a separated list, advancing *p; 1 found, 0 end. */
int psnap_next_uint(const char **p, const char *end, unsigned long long *v);
/* The entry at index k of such a list ("NSpid:" levels): 1 found, 0 not. */
int psnap_list_at(const char *p, size_t n, int k, unsigned long long *v);
/* The number of entries of such a list. */
int psnap_list_count(const char *p, size_t n);

/* A uid_map or gid_map: up to 340 extents (the kernel's limit). */
struct psnap_idmap {
  unsigned n;
  struct {
    uint32_t inside, outside, count;
  } e[340];
};
int psnap_parse_idmap(const char *buf, size_t len, struct psnap_idmap *m);
/* Map a host (outside) id into the namespace; unmapped ids give overflow. */
uint32_t psnap_idmap_in(const struct psnap_idmap *m, uint32_t outside, uint32_t overflow);

/* An id -> name table parsed from an /etc/passwd or /etc/group file: its
   entries' names only, each at most PSNAP_NAME_MAX bytes. */
struct psnap_idtab {
  struct psnap_idtab_ent {
    uint32_t id;
    uint32_t line; /* order in the file: the first entry wins */
    const char *name;
  } * e;
  size_t n;
  char *text; /* the names, NUL-terminated, in line order (NULL when n is 0) */
};
int psnap_idtab_parse(struct psnap_idtab *t, const char *buf, size_t len);
const char *psnap_idtab_find(const struct psnap_idtab *t, uint32_t id);
void psnap_idtab_free(struct psnap_idtab *t);

/* Capability names (libcap), upper case without CAP_, sorted by name. */
struct psnap_capnames {
  int last_cap;            /* /proc/sys/kernel/cap_last_cap */
  int n;                   /* names known: 0..n-1 */
  unsigned char order[64]; /* capability numbers in name order */
  char name[64][32];
};
int psnap_capnames_init(struct psnap_capnames *cn);
/* Format a mask: "full", "none", or sorted names joined by ','. */
size_t psnap_caps_format(const struct psnap_capnames *cn, uint64_t mask, char *out, size_t cap);

/*
** UTF-8 (utf8.c): the Unicode standard's well-formed sequences (no overlong
** forms, no surrogates, nothing above U+10FFFF), and repair by U+FFFD, one
** per maximal subpart of an ill-formed sequence (as Python's
** bytes.decode('utf-8', 'replace') and WHATWG's decoder do).
**   psnap_utf8_next: the sequence at p (n > 0): its length 1..4 with *cp
**     set when well-formed, else minus its maximal subpart's length (-1..-3)
**   psnap_utf8_valid: the length of the longest well-formed prefix (n: all)
**   psnap_utf8_repaired_len, psnap_utf8_repair: the repaired text's length,
**     and the text itself written into out (that many bytes, no NUL)
*/
int psnap_utf8_next(const unsigned char *p, size_t n, unsigned *cp);
size_t psnap_utf8_valid(const char *s, size_t n);
size_t psnap_utf8_repaired_len(const char *s, size_t n);
size_t psnap_utf8_repair(const char *s, size_t n, char *out);

/* The name of a system call of the native architecture (libseccomp). */
size_t psnap_syscall_name(long nr, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
