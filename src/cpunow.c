/*
** cpunow.c: pcpu_now, the CPU use of a process over a recent interval, as
** top shows it (pcpu is the average over the whole life, as ps shows it).
**
** Two reads of utime + stime (stat 14, 15), each timed by CLOCK_BOOTTIME
** just after it: percent of one CPU over the interval between them, so two
** busy threads read about 200. CLOCK_BOOTTIME, not CLOCK_MONOTONIC: start
** times (stat 22) count on it, and a process born during the interval is
** measured from its start. A process is the same across the reads when
** its pid and its start time are. A thread scan (ps_threads) measures each
** thread the same way, named by its host tid and start time; the caller
** keeps its polling baseline apart from the processes'.
**
**   one-shot (cfg.sample > 0): psnap_open() reads every listed process's
**     stat, waits once for the whole scan, and the rows' own reads are the
**     second. A process that exits in between is skipped (its row is never
**     made); one born in between reports its CPU since its start.
**   polling (cfg.sample == 0): the first reads are those of the previous
**     scan that read pcpu_now (cfg.hist, kept by the caller); NULL for a
**     process that scan did not see. When the scan ends, its reads become
**     the baseline, and entries of processes that are gone are dropped.
*/
#include "snap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The polling baseline a caller keeps between scans. */
struct psnap_cpuhist {
  struct cpu_ent *e; /* sorted by id */
  size_t n;
};

struct psnap_cpuhist *psnap_cpuhist_new(void) {
  return psnap_calloc(sizeof(struct psnap_cpuhist));
}

void psnap_cpuhist_free(struct psnap_cpuhist *h) {
  if (!h) return;
  psnap_free(h->e);
  psnap_free(h);
}

/* CLOCK_BOOTTIME in seconds: the clock of stat's start times. */
double snap_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The entry of id in a list sorted by id, or NULL. */
static const struct cpu_ent *find(const struct cpu_ent *e, size_t n, int id) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (e[mid].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && e[lo].id == id ? &e[lo] : NULL;
}

static int by_id(const void *a, const void *b) {
  const struct cpu_ent *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Sleep for secs, through signals (an absolute deadline: no drift). */
static void sleep_for(double secs) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  long long ns = until.tv_nsec + (long long)(secs * 1e9);
  until.tv_sec += (time_t)(ns / 1000000000);
  until.tv_nsec = (long)(ns % 1000000000);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR) {
  }
}

/*
** The baseline of a scan, at psnap_open(): a copy of the caller's polling
** state; or, one-shot, the instant before the first reads, which snap.c
** then makes (cpunow_base() for each) before cpunow_wait(). 0 or -ENOMEM.
*/
int cpunow_open(struct psnap *s) {
  struct cpunow *c = &s->cpu;
  c->on = 1;
  c->sample = s->cfg.sample;
  if (c->sample > 0) {
    c->t0 = snap_clock();
    return 0;
  }
  const struct psnap_cpuhist *h = s->cfg.hist;
  if (!h || h->n == 0) return 0;
  /* a copy: another scan of the connection may replace h->e meanwhile */
  c->base = psnap_malloc(h->n * sizeof *c->base);
  if (!c->base) return -ENOMEM;
  memcpy(c->base, h->e, h->n * sizeof *c->base);
  c->nbase = h->n;
  return 0;
}

/* One-shot: the first read of a process or thread (its stat, just read). 0 or -ENOMEM. */
int cpunow_base(struct psnap *s, int id, const struct psnap_stat *st) {
  struct cpunow *c = &s->cpu;
  if (c->nbase == c->capbase) {
    size_t ncap = c->capbase ? c->capbase * 2 : 256;
    struct cpu_ent *n = psnap_realloc(c->base, ncap * sizeof *n);
    if (!n) return -ENOMEM;
    c->base = n;
    c->capbase = ncap;
  }
  struct cpu_ent *e = &c->base[c->nbase++];
  e->id = id;
  e->start = st->start;
  e->ticks = st->utime + st->stime;
  e->t = snap_clock();
  return 0;
}

/* One-shot, after the first reads: the one wait of the scan. */
void cpunow_wait(struct psnap *s) {
  struct cpunow *c = &s->cpu;
  if (c->nbase) qsort(c->base, c->nbase, sizeof *c->base, by_id);
  sleep_for(c->sample);
}

/*
** pcpu_now of the current row: 1 with *pct set, 0 for NULL (no first
** read of this process, or no time between the reads).
*/
int cpunow_value(struct psnap *s, double *pct) {
  unsigned long long ticks = s->st.utime + s->st.stime;
  double hz = (double)s->hz;
  const struct cpu_ent *b = find(s->cpu.base, s->cpu.nbase, s->htid);
  if (b && b->start == s->st.start) {
    double dt = s->row_t - b->t;
    if (dt <= 0 || ticks < b->ticks) return 0;
    *pct = 100.0 * (double)(ticks - b->ticks) / hz / dt;
    return 1;
  }
  /* one-shot: a process born during the interval, from its start */
  double born = (double)s->st.start / hz;
  if (s->cpu.sample > 0 && born >= s->cpu.t0 - 1.0 / hz && s->row_t > born) {
    *pct = 100.0 * (double)ticks / hz / (s->row_t - born);
    return 1;
  }
  return 0;
}

/* Polling: note the current row's read for the next baseline. 0 or -ENOMEM. */
int cpunow_row(struct psnap *s) {
  struct cpunow *c = &s->cpu;
  if (c->sample > 0 || !s->cfg.hist) return 0;
  if (c->nseen == c->capseen) {
    size_t ncap = c->capseen ? c->capseen * 2 : 64;
    struct cpu_ent *n = psnap_realloc(c->seen, ncap * sizeof *n);
    if (!n) return -ENOMEM;
    c->seen = n;
    c->capseen = ncap;
  }
  struct cpu_ent *e = &c->seen[c->nseen++];
  e->id = s->htid; /* the row's host task: the process, or the thread */
  e->start = s->st.start;
  e->ticks = s->st.utime + s->st.stime;
  e->t = s->row_t;
  return 0;
}

/*
** Polling, at the end of the scan: the reads of this scan become the
** baseline; the previous entries of processes it did not read stay while
** their /proc directory exists. 0 or -ENOMEM (the baseline is unchanged).
*/
int cpunow_end(struct psnap *s) {
  struct cpunow *c = &s->cpu;
  struct psnap_cpuhist *h = s->cfg.hist;
  if (c->sample > 0 || !h || c->merged) return 0;
  c->merged = 1;
  /* a process scan reads in pid order; a thread scan in tid order per process */
  if (c->nseen) qsort(c->seen, c->nseen, sizeof *c->seen, by_id);
  size_t total = c->nseen + h->n;
  struct cpu_ent *n = psnap_malloc((total ? total : 1) * sizeof *n);
  if (!n) return -ENOMEM;
  size_t k = 0, i = 0, j = 0;
  char name[16];
  while (i < c->nseen || j < h->n) {
    if (j >= h->n || (i < c->nseen && c->seen[i].id <= h->e[j].id)) {
      if (j < h->n && h->e[j].id == c->seen[i].id) j++; /* replaced */
      n[k++] = c->seen[i++];
      continue;
    }
    /* /proc/TID answers for a thread too, though readdir lists only processes */
    snprintf(name, sizeof name, "%d", h->e[j].id);
    if (faccessat(s->procfd, name, F_OK, 0) == 0) n[k++] = h->e[j]; /* not read by this scan, alive */
    j++;
  }
  psnap_free(h->e);
  h->e = n;
  h->n = k;
  return 0;
}

/* Free the scan's baseline; a polling scan left early still hands over its reads. */
void cpunow_close(struct psnap *s) {
  if (s->cpu.on) cpunow_end(s); /* out of memory here keeps the old baseline */
  psnap_free(s->cpu.base);
  psnap_free(s->cpu.seen);
  memset(&s->cpu, 0, sizeof s->cpu);
}
