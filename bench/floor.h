/* The /proc reading floor (floor.c), shared with qtime.c. */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

enum { FLOOR_STAT = 1, FLOOR_STATUS = 2, FLOOR_CMDLINE = 4, FLOOR_BTIME = 8 };

struct floor_mode {
  const char *proc; /* "/proc" or another procfs mount (a container's) */
  unsigned files;   /* FLOOR_* */
  long pid;         /* 0: every process */
};

struct floor_result {
  long procs;      /* processes read */
  long long bytes; /* bytes read, so nothing is optimized away */
};

int floor_parse(const char *mode, const char *proc, struct floor_mode *m);
int floor_scan(const struct floor_mode *m, struct floor_result *r); /* 0 or -errno */
double floor_now_ms(void);
double floor_median(double *v, int n); /* sorts v */

#endif
