/*
** snap.h: the inside of a snapshot, shared by snap.c (scanning), ns.c
** (joining a container), names.c (ids, terminals) and desc.c (columns).
** Not installed: programs use psnap.h.
*/
#ifndef PSNAP_SNAP_H
#define PSNAP_SNAP_H

#include "psnap.h"

#include <sys/types.h>

/* How the rows of a snapshot are found. */
enum snap_mode {
  MODE_HOST,      /* the caller's /proc */
  MODE_CONTAINER, /* the target's own /proc, opened inside its mount namespace */
  MODE_FALLBACK   /* the caller's /proc, filtered to the target's PID namespace */
};

/* A process of the target's PID namespace: its host and container pids. */
struct member {
  int hpid;                 /* pid in the caller's view */
  int cpid;                 /* pid in the target namespace's view */
  unsigned long long start; /* stat (22): tells a reused pid from the member */
};

/* An id -> name cache for names resolved through NSS on the host. */
struct namecache {
  struct {
    uint32_t id;
    char *name; /* NULL: no such name (print the number) */
  } * e;
  size_t n, cap;
};

/* The per-process buffers, one per file source. */
enum snap_buf { B_STAT, B_STATUS, B_CMDLINE, B_ATTR, B_CGROUP, B_WCHAN, B_SYSCALL, B_EXE, B_CWD, B__COUNT };

/* The namespace links, in PSNAP_SRC_NS_* order. */
enum { NS_PID, NS_MNT, NS_NET, NS_USER, NS_UTS, NS_IPC, NS_CGROUP, NS__COUNT };

/* A terminal device and its name under /dev. */
struct ttyname {
  dev_t rdev;
  char name[48];
};

struct psnap {
  struct psnap_cfg cfg; /* what was asked (pids copied below) */
  unsigned src;         /* sources to read for every row */
  enum snap_mode mode;
  int procfd;         /* /proc listing the rows */
  int hostfd;         /* the caller's /proc (== procfd on a host scan) */
  int devfd;          /* /dev for terminal names, -1 until needed */
  int hardened;       /* open per-process files with openat2 limits */
  long long target;   /* cfg.target, or 0 */
  uint64_t target_ns; /* PID namespace inode of the target */
  int target_level;   /* its depth below the caller's PID namespace */

  long long *pids; /* pids to visit, sorted (view of the target) */
  size_t npids;
  size_t next; /* index of the next pid to visit */

  struct member *mem;  /* members of the target namespace, sorted by hpid */
  struct member *memc; /* the same, sorted by cpid */
  size_t nmem;
  int have_mem;

  double now;      /* CLOCK_BOOTTIME at open, seconds */
  long hz;         /* clock ticks per second */
  long long btime; /* boot time, Unix seconds (when PSNAP_SRC_BTIME) */
  long pagekb;     /* page size in KiB */

  /* The current row */
  int pid;         /* in the target's view */
  int hpid;        /* in the caller's view, 0 when unknown */
  unsigned loaded; /* sources read for this row */
  struct psnap_stat st;
  struct psnap_status ss;
  struct psnap_buf b[B__COUNT]; /* contents of the files read */
  uint64_t ns[NS__COUNT];       /* namespace inodes read */

  /* Ids: host ids as /proc shows them, mapped into the target's view */
  int mapped; /* uid/gid maps apply */
  struct psnap_idmap uidmap, gidmap;
  uint32_t overflowuid, overflowgid;
  int files; /* names come from pw/gr (container files), not NSS */
  struct psnap_idtab pw, gr;
  struct namecache users, groups;

  struct ttyname *tty; /* terminal names, built on first use */
  size_t ntty;
  int have_tty;

  struct psnap_capnames *caps; /* built on first use */
  struct psnap_buf scratch;    /* formatted text of one column */
  unsigned long opened;        /* files opened (tests, benchmarks) */
  int nomem;                   /* an allocation failed while making a value */
  struct psnap_err err;
};

/* snap.c */
void snap_err(struct psnap_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int snap_openat(struct psnap *s, int dirfd, const char *name, int flags);
int snap_scratch(struct psnap *s, size_t need);

/* ns.c */
int ns_open_target(struct psnap *s, struct psnap_err *err);
int ns_members(struct psnap *s);
int ns_host_pid(struct psnap *s, int cpid, const unsigned long long *start);
int ns_view_pid(struct psnap *s, int hpid);
int ns_still_member(struct psnap *s, int cpid, int hpid);

/* names.c */
const char *names_user(struct psnap *s, uint32_t uid);
const char *names_group(struct psnap *s, uint32_t gid);
const char *names_host_user(struct psnap *s, uint32_t uid);
const char *names_host_group(struct psnap *s, uint32_t gid);
const char *names_tty(struct psnap *s, int tty_nr);
void names_free(struct psnap *s);

#endif
