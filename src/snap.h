/*
** snap.h: the inside of a snapshot. Not installed: programs use psnap.h.
**
** The files call downwards only:
**   snap.c   the scan: open, the one loop of psnap_next(), close
**   desc.c   the columns: a value from the current row (psnap_column)
**   ns.c     views: which processes, in whose pids; the census; targets
**   lend.c   the names a container lends, read by a helper program
**            (helper/lender.c, built apart and carried as bytes; lendproto.h)
**   names.c  the host's names (NSS, /dev) and terminal lookups
**   cpunow.c pcpu_now: CPU times of two reads, the polling baseline
**   procfs.c readers, parsers, the /proc walker, errors (procfs.h)
** snap.c and desc.c use ns.c and cpunow.c; ns.c uses lend.c and names.c;
** lend.c uses names.c; all use procfs.c. fds.c and sockets.c (psfds.h,
** fdparse.h) stand beside them: procfs.c and the public API (psnap.h).
*/
#ifndef PSNAP_SNAP_H
#define PSNAP_SNAP_H

#include "lendproto.h"
#include "procfs.h"

#include <sys/types.h>

/* The sources read per process (the others are read once per scan). */
#define PSNAP_SRC_PER_PROCESS                                                                                          \
  (PSNAP_SRC__ALL & ~(PSNAP_SRC_BTIME | PSNAP_SRC_TTY | PSNAP_SRC_NAMES | PSNAP_SRC_MEMINFO | PSNAP_SRC_CPUNOW))

/* The per-process buffers, one per file source. */
enum snap_buf {
  B_STAT,
  B_STATUS,
  B_CMDLINE,
  B_ATTR,
  B_CGROUP,
  B_WCHAN,
  B_SYSCALL,
  B_EXE,
  B_CWD,
  B_SMAPS,
  B_IO,
  B_OOM_SCORE,
  B_OOM_ADJ,
  B__COUNT
};

/* The fields of smaps_rollup and io that columns use, in key order. */
enum { SM_PSS, SM_PRIVATE_CLEAN, SM_PRIVATE_DIRTY, SM__COUNT };
enum { IO_RCHAR, IO_WCHAR, IO_READ_BYTES, IO_WRITE_BYTES, IO_SYSCR, IO_SYSCW, IO__COUNT };

/* The namespace links, in PSNAP_SRC_NS_* order. */
enum { NS_PID, NS_MNT, NS_NET, NS_USER, NS_UTS, NS_IPC, NS_CGROUP, NS__COUNT };

/* An id -> name cache for names resolved through NSS on the host. */
struct namecache {
  struct {
    uint32_t id;
    char *name; /* NULL: no such name (print the number) */
  } * e;
  size_t n, cap;
};

/* A parent's pid in the view, and when its /proc entry was opened. */
struct parent {
  int hpid;            /* in the caller's view */
  int vpid;            /* in the view (0: outside it) */
  long long opened_ns; /* CLOCK_BOOTTIME when hpid was known to be this parent */
};

/* One process's (or thread's) CPU time at one instant: a baseline entry (cpunow.c). */
struct cpu_ent {
  int id;                   /* host pid, or host tid in a thread scan */
  unsigned long long start; /* stat (22): with id, names the process or thread */
  unsigned long long ticks; /* utime + stime */
  double t;                 /* CLOCK_BOOTTIME just after the read, seconds */
};

/* The CPU baseline of a scan: the first reads (sample) or the last scan's. */
struct cpunow {
  int on;               /* PSNAP_SRC_CPUNOW asked for */
  double sample;        /* > 0: one-shot, else polling */
  double t0;            /* sample: CLOCK_BOOTTIME before the first reads */
  struct cpu_ent *base; /* sorted by id */
  size_t nbase, capbase;
  struct cpu_ent *seen; /* polling: this scan's reads, in the order read */
  size_t nseen, capseen;
  int merged; /* polling: seen moved into the caller's baseline */
};

struct psnap;

/*
** A view: which processes a snapshot lists and how their ids read. Chosen
** once per snapshot (ns.c): the caller's own PID namespace, or another one.
*/
struct view {
  unsigned need; /* sources the view reads for every row */
  /* Fill s->pids with the host pids to visit, sorted. 0 or -errno. */
  int (*list)(struct psnap *s);
  /* After status is read: set s->pid; 0 keeps the row, -ESRCH skips it. */
  int (*after_status)(struct psnap *s);
  /* With the row read and its directory open (-1 on a stat-only scan):
     ids in the view. 0 keeps the row, -ESRCH skips it, -ENOMEM fails. */
  int (*finish)(struct psnap *s, int pidfd);
  /* Names in the view: NULL when there is none (the number is shown). */
  const char *(*user)(struct psnap *s, uint32_t uid);
  const char *(*group)(struct psnap *s, uint32_t gid);
  /* The table of terminal names other than pts/N. */
  const struct ttyname *(*ttys)(struct psnap *s, size_t *n);
};

/* Names a container lends (lend.c), copied into the snapshot. */
struct lent {
  int ok;                /* 1: the tables below came from the container */
  struct psnap_idtab pw; /* /etc/passwd */
  struct psnap_idtab gr; /* /etc/group */
  struct ttyname *tty;   /* character devices of its /dev */
  size_t ntty;
};

struct psnap {
  struct psnap_cfg cfg;       /* what was asked (pids copied below) */
  struct psnap_target target; /* level 0: the caller's own namespace */
  const struct view *view;
  const struct psnap_desc *cols; /* the registry: psnap_cols, or psnap_thread_cols (cfg.threads) */
  int ncols;
  int (*next_row)(struct psnap *); /* the next process, or the next thread: 1, 0 at the end, -errno */
  unsigned src;                    /* sources to read for every row */
  int procfd;                      /* the caller's /proc: every row comes from it */
  struct psnap_census *census;     /* members of the target namespace */
  int own_census;                  /* census taken by this snapshot (freed with it) */

  long long *pids; /* host pids to visit, sorted */
  size_t npids;
  size_t next; /* index of the next pid to visit */

  double now;         /* CLOCK_BOOTTIME at open, seconds */
  long hz;            /* clock ticks per second */
  long long btime;    /* boot time, Unix seconds (when PSNAP_SRC_BTIME) */
  long long memtotal; /* MemTotal in KiB (when PSNAP_SRC_MEMINFO; 0: unknown) */
  long pagekb;        /* page size in KiB */

  /* The current row */
  int pid;         /* in the view */
  int hpid;        /* in the caller's view */
  int htid;        /* the row's task in the caller's view: the thread, or the process (its leader) */
  int tid;         /* a thread scan: the thread, in the view */
  unsigned loaded; /* sources read for this row */
  unsigned tried;  /* sources this row tried to read (loaded, or failed) */
  int rowfd;       /* the row's /proc/HPID, open until the next row (-1: none): columns read on first use */
  struct psnap_stat st;
  struct psnap_status ss;
  struct psnap_buf b[B__COUNT]; /* contents of the files read */
  uint64_t ns[NS__COUNT];       /* namespace inodes read */
  long long sm[SM__COUNT];      /* smaps_rollup fields (-1: absent) */
  long long io[IO__COUNT];      /* io fields (-1: absent) */
  long long nfds;               /* entries of fd/ */
  double row_t;                 /* CLOCK_BOOTTIME just after stat was read */
  struct cpunow cpu;            /* pcpu_now's baseline */

  /* A thread scan: the current process's directory and its threads */
  int taskfd; /* /proc/HPID, or -1 */
  int *tids;  /* host tids of its task/ directory, sorted */
  size_t ntids, captids, nexttid;

  struct parent *parents; /* parents seen in this scan, sorted by hpid */
  size_t nparents, capparents;

  /* Ids: host ids as /proc shows them, mapped into the target's view */
  struct psnap_idmap uidmap, gidmap; /* identity for the caller's view */
  uint32_t overflowuid, overflowgid;
  struct lent lent; /* names lent by the container (ok 0 on the host) */
  struct namecache users, groups;
  struct ttyname *tty; /* host terminal names, built on first use */
  size_t ntty;
  int have_tty;

  struct psnap_capnames *caps; /* built on first use */
  struct psnap_buf scratch;    /* formatted text of one column */
  unsigned long opened;        /* files opened (tests, benchmarks) */
  int nomem;                   /* an allocation failed while making a value */
  struct psnap_err err;
};

/* The internals below are not the library's API: hidden from a shared
   object that links libpsnap.a, as everything but the entry point is in
   the extension. */
#pragma GCC visibility push(hidden)

/* ns.c */
extern const struct view ns_host_view, ns_listed_view, ns_pidns_view;
int ns_open_view(struct psnap *s, struct psnap_err *err);
int ns_lend(struct psnap *s, struct psnap_err *err);

/* lend.c: the names a container lends, read beneath the root of the
   process whose /proc directory is xfd, by a helper program. */
struct lend_ctl {
  unsigned deadline_ms;          /* how long a query waits for the names */
  int (*interrupted)(void *arg); /* polled while it waits: nonzero ends the wait (cfg.interrupted) */
  void *arg;
};
int lend_names(int xfd, uint64_t key, unsigned what, const struct lend_ctl *ctl, struct lent *out);
void lend_free(struct lent *l);

/* names.c: the host's names (NSS, /dev), and a terminal table's lookup */
const char *names_host_user(struct psnap *s, uint32_t uid);
const char *names_host_group(struct psnap *s, uint32_t gid);
const struct ttyname *names_host_ttys(struct psnap *s, size_t *n);
const char *names_tty(const struct ttyname *t, size_t n, dev_t dev);

/* snap.c: read more sources of the current row, through its directory:
   those of mask it has not tried (not stat, status or parent). 0 or -ENOMEM. */
int snap_load_more(struct psnap *s, unsigned mask);

/* cpunow.c: pcpu_now's baseline, its value, and the polling state */
int cpunow_open(struct psnap *s);
int cpunow_base(struct psnap *s, int id, const struct psnap_stat *st);
void cpunow_wait(struct psnap *s);
int cpunow_row(struct psnap *s);
int cpunow_value(struct psnap *s, double *pct);
int cpunow_end(struct psnap *s);
void cpunow_close(struct psnap *s);
double snap_clock(void);

#pragma GCC visibility pop
void names_free(struct psnap *s);

#endif
