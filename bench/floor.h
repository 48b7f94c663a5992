/* The /proc reading floor (floor.c), shared with qtime.c. */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

#define FLOOR_MAXITEMS 8 /* files one mode reads */
#define FLOOR_ITEMLEN 40 /* longest file name below /proc/PID, with its NUL */

/* How one item of a mode is read. */
enum floor_kind {
  FLOOR_FILE,  /* PID/name, read to the end, for every process */
  FLOOR_DIR,   /* PID/name/, its entries counted (getdents64), for every process */
  FLOOR_ONCE,  /* /proc/name, read once per pass */
  FLOOR_TASKS, /* PID/task/, and then PID/task/TID/name for every thread */
};

struct floor_item {
  enum floor_kind kind;
  char name[FLOOR_ITEMLEN];
};

struct floor_mode {
  const char *proc; /* "/proc" or another procfs mount (a container's) */
  long pid;         /* 0: every process */
  int piddir;       /* dir: open PID/ first, read the items relative to it */
  int nitems;
  struct floor_item item[FLOOR_MAXITEMS]; /* in reading order */
};

struct floor_result {
  long procs;      /* processes read (threads, for a FLOOR_TASKS mode) */
  long long bytes; /* bytes read (and entries counted), so nothing is optimized away */
};

int floor_parse(const char *mode, const char *proc, struct floor_mode *m);
int floor_scan(const struct floor_mode *m, struct floor_result *r); /* 0 or -errno */
double floor_now_ms(void);
double floor_median(double *v, int n); /* sorts v */

#endif
