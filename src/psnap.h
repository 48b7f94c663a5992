/*
** psnap: process snapshots read from /proc, with no SQLite in them.
**
** A snapshot lists the processes of one PID namespace (the caller's, or the
** one of a target process) from the caller's own /proc, reads for each
** process only the /proc files that the requested columns need, each at
** most once, and hands back one typed value per column. A container only
** lends names (/etc/passwd, /etc/group, terminal names), read beneath its
** root by a helper process under a deadline.
**
**   struct psnap_cfg cfg = { .src = psnap_cols_src(mask) };
**   struct psnap *s;
**   struct psnap_err err;
**   if (psnap_open(&s, &cfg, &err) < 0) ... err.msg ...
**   while ((rc = psnap_next(s)) > 0) {
**     struct psnap_value v;
**     psnap_column(s, PSNAP_COL_PID, &v);
**   }
**   psnap_close(s);
**
** With cfg.threads a snapshot has one row per thread of the listed
** processes (their /proc/PID/task/TID), and psnap_column() takes the
** columns of psnap_thread_cols[] (PSNAP_TCOL_*): the ps_threads table.
**
** Every function returns 0 (or a count) on success and -errno on failure;
** none prints, exits or aborts. Text values stay valid until the next call
** of psnap_next() or psnap_column() on the same snapshot. Text is the bytes
** /proc gave, UTF-8 or not; the SQLite layer makes it UTF-8 (ext/values.c).
** The _raw columns (comm_raw, args_raw, exe_raw, cwd_raw: BLOBs, past
** column 62, which psnap_cols_src() cannot name alone) read their files on
** first use, through the row's directory, which a scan opens when it
** reads more than stat (a scan of PSNAP_SRC_STAT alone opens none: there
** args_raw, exe_raw and cwd_raw read NULL).
*/
#ifndef PSNAP_H
#define PSNAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "columns.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The sources a snapshot can read. Per-process files are read once per
** process; per-scan sources once per snapshot. */
enum psnap_src {
  PSNAP_SRC_STAT = 1u << 0,       /* /proc/PID/stat */
  PSNAP_SRC_STATUS = 1u << 1,     /* /proc/PID/status */
  PSNAP_SRC_CMDLINE = 1u << 2,    /* /proc/PID/cmdline */
  PSNAP_SRC_ATTR = 1u << 3,       /* /proc/PID/attr/current */
  PSNAP_SRC_NAMES = 1u << 4,      /* per scan: user and group names */
  PSNAP_SRC_BTIME = 1u << 5,      /* per scan: /proc/stat btime */
  PSNAP_SRC_TTY = 1u << 6,        /* per scan: terminal names from /dev */
  PSNAP_SRC_CGROUP = 1u << 7,     /* /proc/PID/cgroup */
  PSNAP_SRC_EXE = 1u << 8,        /* /proc/PID/exe (link) */
  PSNAP_SRC_CWD = 1u << 9,        /* /proc/PID/cwd (link) */
  PSNAP_SRC_WCHAN = 1u << 10,     /* /proc/PID/wchan */
  PSNAP_SRC_SYSCALL = 1u << 11,   /* /proc/PID/syscall */
  PSNAP_SRC_NS_PID = 1u << 12,    /* /proc/PID/ns/pid (link) */
  PSNAP_SRC_NS_MNT = 1u << 13,    /* /proc/PID/ns/mnt */
  PSNAP_SRC_NS_NET = 1u << 14,    /* /proc/PID/ns/net */
  PSNAP_SRC_NS_USER = 1u << 15,   /* /proc/PID/ns/user */
  PSNAP_SRC_NS_UTS = 1u << 16,    /* /proc/PID/ns/uts */
  PSNAP_SRC_NS_IPC = 1u << 17,    /* /proc/PID/ns/ipc */
  PSNAP_SRC_NS_CGROUP = 1u << 18, /* /proc/PID/ns/cgroup */
  PSNAP_SRC_PARENT = 1u << 19,    /* per process: the parent's pid in the view */
  PSNAP_SRC_SMAPS = 1u << 20,     /* /proc/PID/smaps_rollup (ptrace read; walks page tables) */
  PSNAP_SRC_IO = 1u << 21,        /* /proc/PID/io (ptrace read) */
  PSNAP_SRC_FD = 1u << 22,        /* /proc/PID/fd (its entries, counted; ptrace read) */
  PSNAP_SRC_OOM_SCORE = 1u << 23, /* /proc/PID/oom_score */
  PSNAP_SRC_OOM_ADJ = 1u << 24,   /* /proc/PID/oom_score_adj */
  PSNAP_SRC_MEMINFO = 1u << 25,   /* per scan: /proc/meminfo MemTotal */
  PSNAP_SRC_CPUNOW = 1u << 26,    /* per scan: CPU times against a baseline (sample, or the last scan's) */
  PSNAP_SRC__ALL = (1u << 27) - 1
};
/* The sources a thread scan can read: a thread's own files below
   /proc/PID/task/TID (others are ignored), and the per-scan CPUNOW. */
#define PSNAP_SRC_THREAD (PSNAP_SRC_STAT | PSNAP_SRC_STATUS | PSNAP_SRC_WCHAN | PSNAP_SRC_SYSCALL | PSNAP_SRC_CPUNOW)

/* Sizes and limits a caller may need. */
#define PSNAP_SMALL_MAX (1u << 20)    /* most bytes kept of a small /proc file */
#define PSNAP_CMDLINE_MAX (64u << 20) /* most bytes kept of a command line */
#define PSNAP_ETC_MAX (16u << 20)     /* most bytes of a lent /etc/passwd or /etc/group (and of one host NSS group) */
#define PSNAP_IDMAP_MAX 65536u        /* most bytes of a uid_map or gid_map (340 extents) */
#define PSNAP_DEADLINE_MS 2000u       /* default deadline for a container's names */
#define PSNAP_LEND_RETRY 10           /* deadlines a namespace whose helper missed one lends nothing */
#define PSNAP_LEND_STUCK 4            /* most helpers of a program stuck at once (then no namespace lends) */
#define PSNAP_MAX_PIDNS_LEVEL 32      /* the kernel's nesting limit of PID namespaces */
#define PSNAP_SAMPLE_MIN 0.01         /* shortest pcpu_now sample, seconds (one tick at 100 Hz) */
#define PSNAP_SAMPLE_MAX 60.0         /* longest pcpu_now sample, seconds */

/* Most bytes of a user or group name a container lends: a line of its
   /etc/passwd or /etc/group whose name is longer is no entry, and its id
   reads as the number. LOGIN_NAME_MAX is 256 with the NUL; procps's ps
   prints any name of 33 bytes or more as the number. */
#define PSNAP_NAME_MAX 256u
/* Most bytes of a groups or hgroups value before its cut: whole entries,
   then ",+N" for the N groups left out (desc.c, groups_of). 64 KiB is also
   the longest status line psgo reads (bufio.Scanner's token limit). */
#define PSNAP_GROUPS_MAX 65536u

/* The columns, in table order: derived from the registry (columns.h), as
   psnap_cols[] in desc.c is. */
#define PSNAP_COL_ENUM(id, ...) PSNAP_COL_##id,
enum psnap_col { PSNAP_COLUMNS(PSNAP_COL_ENUM) PSNAP_COL__COUNT };
/* The columns of a thread scan (cfg.threads): psnap_thread_cols[]. */
#define PSNAP_TCOL_ENUM(id, ...) PSNAP_TCOL_##id,
enum psnap_tcol { PSNAP_THREAD_COLUMNS(PSNAP_TCOL_ENUM) PSNAP_TCOL__COUNT };

enum psnap_vtype { PSNAP_NULL, PSNAP_INT, PSNAP_REAL, PSNAP_TEXT, PSNAP_BLOB };

/* One column value. s points into the snapshot (see the header); TEXT is
   the bytes /proc gave, which need not be UTF-8; BLOB (the _raw columns)
   n bytes exactly. */
struct psnap_value {
  enum psnap_vtype type;
  long long i;
  double r;
  const char *s;
  size_t n;
};

struct psnap;

/* Column descriptor flags. */
enum {
  PSNAP_F_HIDDEN = 1u << 0, /* HIDDEN column in the CREATE TABLE */
  PSNAP_F_PSGO = 1u << 1,   /* psgo has a descriptor of this name */
  PSNAP_F_PROCPS = 1u << 2  /* procps ps -o knows this name */
};

/* One entry of the column registry. */
struct psnap_desc {
  const char *name;   /* column name (psgo descriptor name) */
  const char *type;   /* declared SQL type */
  unsigned src;       /* PSNAP_SRC_* bits the value needs */
  unsigned flags;     /* PSNAP_F_* */
  const char *code;   /* AIX format code (%C ...) or NULL */
  const char *header; /* ps/psgo header */
  const char *from;   /* where the value comes from, for users */
  const char *doc;    /* one line of documentation */
  void (*get)(struct psnap *, struct psnap_value *);
};

extern const struct psnap_desc psnap_cols[PSNAP_COL__COUNT];
extern const struct psnap_desc psnap_thread_cols[PSNAP_TCOL__COUNT];

/* The sources needed for a set of columns (bit i = column i), of a
   process scan or of a thread scan. */
unsigned psnap_cols_src(uint64_t mask);
unsigned psnap_thread_cols_src(uint64_t mask);

/* An error: errno-style code plus a message naming what failed. */
struct psnap_err {
  int code;      /* positive errno value, 0 when no error */
  char msg[256]; /* lower case, without the table prefix */
};

/*
** A pidns argument, checked and resolved once: the PID namespace that a
** pid names, and how deep it lies below the caller's.
*/
struct psnap_target {
  long long pid; /* as given, in the caller's view */
  uint64_t ns;   /* inode of its PID namespace */
  int level;     /* 0: the caller's own PID namespace; n: n levels below */
};
int psnap_target_resolve(long long pid, struct psnap_target *t, struct psnap_err *err);

/*
** A census: one walk of the caller's /proc that notes each process's PID
** namespace. The snapshots of one statement share it, so a join over N
** containers walks /proc once, not N times.
*/
struct psnap_census;
int psnap_census_take(struct psnap_census **out, struct psnap_err *err);
void psnap_census_free(struct psnap_census *c);

/*
** CPU use now (pcpu_now), polling: the CPU time and the instant at which a
** scan last read each process (pid and start time), kept by the caller
** from one scan to the next (the SQLite extension keeps one per
** connection). A scan with PSNAP_SRC_CPUNOW and no sample reports the use
** since then and replaces the baseline of the processes it read; entries
** of processes that are gone are dropped.
*/
struct psnap_cpuhist;
struct psnap_cpuhist *psnap_cpuhist_new(void); /* NULL: out of memory */
void psnap_cpuhist_free(struct psnap_cpuhist *h);

/* What to snapshot. */
struct psnap_cfg {
  unsigned src;                      /* PSNAP_SRC_* bits to read */
  const struct psnap_target *target; /* NULL: the caller's view; else that namespace's */
  struct psnap_census *census;       /* NULL: taken by the snapshot when it needs one */
  const long long *pids;             /* NULL: every process; else only these (the view's pids) */
  size_t npids;
  unsigned deadline_ms;       /* for a container's names; 0: PSNAP_DEADLINE_MS */
  double sample;              /* PSNAP_SRC_CPUNOW: seconds between two reads (0: polling) */
  struct psnap_cpuhist *hist; /* PSNAP_SRC_CPUNOW without sample: the baseline (NULL: none) */
  int threads;                /* 1: one row per thread (psnap_thread_cols); PSNAP_SRC_THREAD only */
  /* Polled every 50 ms while a query waits for a container's names:
     nonzero ends the wait and psnap_open() fails with -EINTR. NULL: never. */
  int (*interrupted)(void *arg);
  void *interrupt_arg;
};

int psnap_open(struct psnap **out, const struct psnap_cfg *cfg, struct psnap_err *err);
int psnap_next(struct psnap *s);                                   /* 1: a row, 0: done, <0: -errno (see err) */
int psnap_column(struct psnap *s, int col, struct psnap_value *v); /* 0 or -ENOMEM */
long long psnap_rowid(const struct psnap *s);
const struct psnap_err *psnap_error(const struct psnap *s);
void psnap_close(struct psnap *s);

/* A PID namespace visible to the caller (ps_namespaces). */
struct psnap_nsinfo {
  uint64_t ns_pid;  /* inode of the PID namespace */
  int pid;          /* host pid of its init (innermost NSpid 1), 0 if not seen */
  int nprocs;       /* processes in it (not counting nested namespaces) */
  uint64_t ns_user; /* inode of the init's user namespace, 0 if unknown */
  char comm[64];    /* the init's comm */
  char *cgroup;     /* the init's cgroup path, or NULL */
};
int psnap_namespaces(struct psnap_nsinfo **out, size_t *n, struct psnap_err *err);
void psnap_namespaces_free(struct psnap_nsinfo *v, size_t n);

/*
** A container's names are read by a helper program, and one is kept for
** the next lending (it exits by itself after 10 s without one). This ends
** it now and closes the descriptors the program holds for it; the next
** lending starts another. The SQLite extension calls it when the
** program's last connection with the tables closes.
*/
void psnap_lend_release(void);

/* Counters for tests and benchmarks: files opened by this snapshot. */
unsigned long psnap_files_opened(const struct psnap *s);

/* Replace the library's allocator (default: the C library's): call once,
   before any snapshot exists. NULLs restore the C library's. */
void psnap_set_allocator(void *(*m)(size_t), void *(*r)(void *, size_t), void (*f)(void *));

#ifdef __cplusplus
}
#endif
#endif
