/*
** desc.c: the column registry, the one list of every column.
**
** Each entry names a column as psgo names the descriptor, its SQL type, the
** sources its value needs (a scan reads only the files of the columns a
** query uses), its ps/psgo header and AIX code, and the function that
** produces its value from the current row. The CREATE TABLE statement, the
** file choice in xBestIndex, xColumn and the README's column table are all
** generated from this array.
*/
#include "snap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void set_int(struct psnap_value *v, long long i) {
  v->type = PSNAP_INT;
  v->i = i;
}
static void set_real(struct psnap_value *v, double r) {
  v->type = PSNAP_REAL;
  v->r = r;
}
static void set_text(struct psnap_value *v, const char *s, size_t n) {
  v->type = PSNAP_TEXT;
  v->s = s;
  v->n = n;
}
static void set_str(struct psnap_value *v, const char *s) {
  if (s) set_text(v, s, strlen(s));
}

/* A number as text in the scratch buffer (a name that does not resolve). */
static void set_decimal(struct psnap *s, struct psnap_value *v, uint32_t id) {
  if (snap_scratch(s, 16) < 0) return;
  int n = snprintf(s->scratch.p, 16, "%u", id);
  set_text(v, s->scratch.p, (size_t)n);
}

/* The ids of the current row in the target's view (mapped through uid_map). */
static uint32_t view_uid(struct psnap *s, int i) {
  return s->mapped ? psnap_idmap_in(&s->uidmap, s->ss.uid[i], s->overflowuid) : s->ss.uid[i];
}
static uint32_t view_gid(struct psnap *s, uint32_t host_gid) {
  return s->mapped ? psnap_idmap_in(&s->gidmap, host_gid, s->overflowgid) : host_gid;
}

/* Seconds since the process started, at the snapshot's instant. */
static double elapsed(struct psnap *s) {
  double e = s->now - (double)s->st.start / (double)s->hz;
  return e > 0 ? e : 0;
}
static double cputime(struct psnap *s) { return (double)(s->st.utime + s->st.stime) / (double)s->hz; }

static void get_pid(struct psnap *s, struct psnap_value *v) { set_int(v, s->pid); }
static void get_ppid(struct psnap *s, struct psnap_value *v) { set_int(v, s->st.ppid); }
static void get_pgid(struct psnap *s, struct psnap_value *v) { set_int(v, s->st.pgrp); }
static void get_nice(struct psnap *s, struct psnap_value *v) { set_int(v, s->st.nice); }
static void get_vsz(struct psnap *s, struct psnap_value *v) { set_int(v, (long long)(s->st.vsize / 1024)); }
/* stat (24) counts the same pages as status VmRSS (anon + file + shmem). */
static void get_rss(struct psnap *s, struct psnap_value *v) {
  set_int(v, s->st.rss > 0 ? s->st.rss * s->pagekb : 0);
}
static void get_state(struct psnap *s, struct psnap_value *v) { set_text(v, &s->st.state, 1); }
static void get_comm(struct psnap *s, struct psnap_value *v) { set_str(v, s->st.comm); }
static void get_etime(struct psnap *s, struct psnap_value *v) { set_real(v, elapsed(s)); }
static void get_time(struct psnap *s, struct psnap_value *v) { set_real(v, cputime(s)); }
static void get_pcpu(struct psnap *s, struct psnap_value *v) {
  double e = elapsed(s);
  set_real(v, e > 0 ? 100.0 * cputime(s) / e : 0.0);
}
static void get_stime(struct psnap *s, struct psnap_value *v) {
  if (s->btime > 0) set_real(v, (double)s->btime + (double)s->st.start / (double)s->hz);
}
static void get_tty(struct psnap *s, struct psnap_value *v) { set_str(v, names_tty(s, s->st.tty_nr)); }

/*
** args: the command line with its NUL separators turned into single spaces
** (a trailing NUL dropped); "[comm]" when it is empty, as for kernel
** threads and zombies.
*/
static void get_args(struct psnap *s, struct psnap_value *v) {
  struct psnap_buf *b = &s->b_cmdline;
  size_t n = b->len;
  while (n > 0 && b->p[n - 1] == '\0') n--;
  if (n == 0) {
    size_t c = strlen(s->st.comm);
    if (snap_scratch(s, c + 3) < 0) return;
    s->scratch.p[0] = '[';
    memcpy(s->scratch.p + 1, s->st.comm, c);
    s->scratch.p[c + 1] = ']';
    set_text(v, s->scratch.p, c + 2);
    return;
  }
  for (size_t i = 0; i < n; i++)
    if (b->p[i] == '\0') b->p[i] = ' ';
  set_text(v, b->p, n);
}

static void user_of(struct psnap *s, struct psnap_value *v, uint32_t uid, int host) {
  if (!s->ss.have_ids) return;
  const char *n = host ? names_host_user(s, uid) : names_user(s, uid);
  if (n) set_str(v, n);
  else set_decimal(s, v, uid);
}
static void group_of(struct psnap *s, struct psnap_value *v, uint32_t gid, int host) {
  if (!s->ss.have_ids) return;
  const char *n = host ? names_host_group(s, gid) : names_group(s, gid);
  if (n) set_str(v, n);
  else set_decimal(s, v, gid);
}
static void get_user(struct psnap *s, struct psnap_value *v) { user_of(s, v, view_uid(s, 1), 0); }
static void get_ruser(struct psnap *s, struct psnap_value *v) { user_of(s, v, view_uid(s, 0), 0); }
static void get_group(struct psnap *s, struct psnap_value *v) { group_of(s, v, view_gid(s, s->ss.gid[1]), 0); }
static void get_rgroup(struct psnap *s, struct psnap_value *v) { group_of(s, v, view_gid(s, s->ss.gid[0]), 0); }
static void get_uid(struct psnap *s, struct psnap_value *v) {
  if (s->ss.have_ids) set_int(v, view_uid(s, 1));
}
static void get_huid(struct psnap *s, struct psnap_value *v) {
  if (s->ss.have_ids) set_int(v, s->ss.uid[1]);
}
static void get_huser(struct psnap *s, struct psnap_value *v) { user_of(s, v, s->ss.uid[1], 1); }
static void get_hgroup(struct psnap *s, struct psnap_value *v) { group_of(s, v, s->ss.gid[1], 1); }
static void get_hpid(struct psnap *s, struct psnap_value *v) {
  if (s->hpid > 0) set_int(v, s->hpid);
}

/*
** The supplementary groups, comma-joined: names in the target's view
** (groups), or host gids as decimals (hgroups, psgo's form). '' when none.
*/
static void groups_of(struct psnap *s, struct psnap_value *v, int host) {
  if (!s->ss.groups) return;
  const char *p = s->ss.groups, *end = p + s->ss.groups_len;
  unsigned long long g;
  size_t len = 0;
  if (snap_scratch(s, 64) < 0) return;
  while (psnap_next_uint(&p, end, &g)) {
    char num[16];
    const char *n = NULL;
    if (!host) n = names_group(s, view_gid(s, (uint32_t)g));
    if (!n) {
      snprintf(num, sizeof num, "%u", host ? (uint32_t)g : view_gid(s, (uint32_t)g));
      n = num;
    }
    size_t k = strlen(n);
    if (snap_scratch(s, len + k + 2) < 0) return;
    if (len) s->scratch.p[len++] = ',';
    memcpy(s->scratch.p + len, n, k);
    len += k;
  }
  s->scratch.p[len] = '\0';
  set_text(v, s->scratch.p, len);
}
static void get_groups(struct psnap *s, struct psnap_value *v) { groups_of(s, v, 0); }
static void get_hgroups(struct psnap *s, struct psnap_value *v) { groups_of(s, v, 1); }

/* A capability set from status as psgo's text ("full", "none", names). */
static void caps_of(struct psnap *s, struct psnap_value *v, int which) {
  if (!(s->ss.have_cap & (1u << which))) return;
  if (!s->caps) {
    s->caps = psnap_malloc(sizeof *s->caps);
    if (!s->caps || psnap_capnames_init(s->caps) < 0) {
      psnap_free(s->caps);
      s->caps = NULL;
      return;
    }
  }
  if (snap_scratch(s, 64 * 32) < 0) return;
  size_t n = psnap_caps_format(s->caps, s->ss.cap[which], s->scratch.p, s->scratch.cap);
  set_text(v, s->scratch.p, n);
}
static void get_capamb(struct psnap *s, struct psnap_value *v) { caps_of(s, v, PSNAP_CAPAMB); }
static void get_capbnd(struct psnap *s, struct psnap_value *v) { caps_of(s, v, PSNAP_CAPBND); }
static void get_capeff(struct psnap *s, struct psnap_value *v) { caps_of(s, v, PSNAP_CAPEFF); }
static void get_capinh(struct psnap *s, struct psnap_value *v) { caps_of(s, v, PSNAP_CAPINH); }
static void get_capprm(struct psnap *s, struct psnap_value *v) { caps_of(s, v, PSNAP_CAPPRM); }

static void get_seccomp(struct psnap *s, struct psnap_value *v) {
  static const char *const mode[] = {"disabled", "strict", "filter"};
  if (s->ss.seccomp >= 0) set_str(v, s->ss.seccomp <= 2 ? mode[s->ss.seccomp] : "?");
}

/* attr/current: the LSM label, without the trailing newline or NUL. */
static void get_label(struct psnap *s, struct psnap_value *v) {
  size_t n = s->b_attr.len;
  while (n > 0 && (s->b_attr.p[n - 1] == '\n' || s->b_attr.p[n - 1] == '\0')) n--;
  if (n > 0) set_text(v, s->b_attr.p, n);
}
static void get_pidns(struct psnap *s, struct psnap_value *v) {
  if (s->target > 0) set_int(v, s->target);
}

#define STAT PSNAP_SRC_STAT
#define STATUS PSNAP_SRC_STATUS
#define PG (PSNAP_F_PSGO | PSNAP_F_PROCPS)
#define GO PSNAP_F_PSGO

const struct psnap_desc psnap_cols[PSNAP_COL__COUNT] = {
    [PSNAP_COL_USER] = {.name = "user", .type = "TEXT", .src = STATUS, .flags = PG, .code = "%U", .header = "USER",
                        .from = "status Uid (effective)", .doc = "effective user name, else the uid", .get = get_user},
    [PSNAP_COL_PID] = {.name = "pid", .type = "INTEGER", .src = STAT, .flags = PG, .code = "%p", .header = "PID",
                       .from = "/proc directory", .doc = "process id, as the target namespace sees it", .get = get_pid},
    [PSNAP_COL_PPID] = {.name = "ppid", .type = "INTEGER", .src = STAT, .flags = PG, .code = "%P", .header = "PPID",
                        .from = "stat (4)", .doc = "parent process id (0 for a namespace's init)", .get = get_ppid},
    [PSNAP_COL_PCPU] = {.name = "pcpu", .type = "REAL", .src = STAT, .flags = PG, .code = "%C", .header = "%CPU",
                        .from = "stat (14,15,22)", .doc = "CPU use in percent over the process's lifetime", .get = get_pcpu},
    [PSNAP_COL_ETIME] = {.name = "etime", .type = "REAL", .src = STAT, .flags = PG, .code = "%t", .header = "ELAPSED",
                         .from = "stat (22)", .doc = "seconds since the process started", .get = get_etime},
    [PSNAP_COL_TTY] = {.name = "tty", .type = "TEXT", .src = STAT | PSNAP_SRC_TTY, .flags = PG, .code = "%y",
                       .header = "TTY", .from = "stat (7), /dev", .doc = "controlling terminal (pts/0), NULL when none",
                       .get = get_tty},
    [PSNAP_COL_TIME] = {.name = "time", .type = "REAL", .src = STAT, .flags = PG, .code = "%x", .header = "TIME",
                        .from = "stat (14,15)", .doc = "CPU time used, user + system, in seconds", .get = get_time},
    [PSNAP_COL_ARGS] = {.name = "args", .type = "TEXT", .src = STAT | PSNAP_SRC_CMDLINE, .flags = PG, .code = "%a",
                        .header = "COMMAND", .from = "cmdline",
                        .doc = "arguments joined by spaces; [comm] when there are none", .get = get_args},
    [PSNAP_COL_COMM] = {.name = "comm", .type = "TEXT", .src = STAT, .flags = PG, .code = "%c", .header = "COMMAND",
                        .from = "stat (2)", .doc = "executable name (at most 15 bytes)", .get = get_comm},
    [PSNAP_COL_GROUP] = {.name = "group", .type = "TEXT", .src = STATUS, .flags = PG, .code = "%G", .header = "GROUP",
                         .from = "status Gid (effective)", .doc = "effective group name, else the gid", .get = get_group},
    [PSNAP_COL_GROUPS] = {.name = "groups", .type = "TEXT", .src = STATUS, .flags = GO, .header = "GROUPS",
                          .from = "status Groups", .doc = "supplementary group names joined by ','",
                          .get = get_groups},
    [PSNAP_COL_RGROUP] = {.name = "rgroup", .type = "TEXT", .src = STATUS, .flags = PG, .code = "%g",
                          .header = "RGROUP", .from = "status Gid (real)", .doc = "real group name, else the gid",
                          .get = get_rgroup},
    [PSNAP_COL_RUSER] = {.name = "ruser", .type = "TEXT", .src = STATUS, .flags = PG, .code = "%u", .header = "RUSER",
                         .from = "status Uid (real)", .doc = "real user name, else the uid", .get = get_ruser},
    [PSNAP_COL_NICE] = {.name = "nice", .type = "INTEGER", .src = STAT, .flags = PG, .code = "%n", .header = "NI",
                        .from = "stat (19)", .doc = "nice value, -20 to 19", .get = get_nice},
    [PSNAP_COL_PGID] = {.name = "pgid", .type = "INTEGER", .src = STAT, .flags = PG, .code = "%r", .header = "PGID",
                        .from = "stat (5)", .doc = "process group id", .get = get_pgid},
    [PSNAP_COL_UID] = {.name = "uid", .type = "INTEGER", .src = STATUS, .flags = PG, .header = "UID",
                       .from = "status Uid (effective)", .doc = "effective user id", .get = get_uid},
    [PSNAP_COL_VSZ] = {.name = "vsz", .type = "INTEGER", .src = STAT, .flags = PG, .code = "%z", .header = "VSZ",
                       .from = "stat (23)", .doc = "virtual memory size in KiB", .get = get_vsz},
    [PSNAP_COL_RSS] = {.name = "rss", .type = "INTEGER", .src = STAT, .flags = PG, .header = "RSS",
                       .from = "stat (24)", .doc = "resident set size in KiB (0 for kernel threads)", .get = get_rss},
    [PSNAP_COL_STATE] = {.name = "state", .type = "TEXT", .src = STAT, .flags = PG, .header = "STATE",
                         .from = "stat (3)", .doc = "state: R S D Z T t X I", .get = get_state},
    [PSNAP_COL_STIME] = {.name = "stime", .type = "REAL", .src = STAT | PSNAP_SRC_BTIME, .flags = PG,
                         .header = "STIME", .from = "stat (22), /proc/stat btime",
                         .doc = "start time, Unix epoch seconds", .get = get_stime},
    [PSNAP_COL_CAPAMB] = {.name = "capamb", .type = "TEXT", .src = STATUS, .flags = GO, .header = "AMBIENT CAPS",
                          .from = "status CapAmb", .doc = "ambient capabilities", .get = get_capamb},
    [PSNAP_COL_CAPBND] = {.name = "capbnd", .type = "TEXT", .src = STATUS, .flags = GO, .header = "BOUNDING CAPS",
                          .from = "status CapBnd", .doc = "bounding set", .get = get_capbnd},
    [PSNAP_COL_CAPEFF] = {.name = "capeff", .type = "TEXT", .src = STATUS, .flags = GO, .header = "EFFECTIVE CAPS",
                          .from = "status CapEff", .doc = "effective capabilities", .get = get_capeff},
    [PSNAP_COL_CAPINH] = {.name = "capinh", .type = "TEXT", .src = STATUS, .flags = GO, .header = "INHERITED CAPS",
                          .from = "status CapInh", .doc = "inheritable capabilities", .get = get_capinh},
    [PSNAP_COL_CAPPRM] = {.name = "capprm", .type = "TEXT", .src = STATUS, .flags = GO, .header = "PERMITTED CAPS",
                          .from = "status CapPrm", .doc = "permitted capabilities", .get = get_capprm},
    [PSNAP_COL_SECCOMP] = {.name = "seccomp", .type = "TEXT", .src = STATUS, .flags = GO, .header = "SECCOMP",
                           .from = "status Seccomp", .doc = "seccomp mode: disabled, strict or filter",
                           .get = get_seccomp},
    [PSNAP_COL_LABEL] = {.name = "label", .type = "TEXT", .src = STAT | PSNAP_SRC_ATTR, .flags = PG,
                         .header = "LABEL", .from = "attr/current",
                         .doc = "security label (SELinux, AppArmor); NULL when none", .get = get_label},
    [PSNAP_COL_HPID] = {.name = "hpid", .type = "INTEGER", .src = STAT | PSNAP_SRC_HOST, .flags = GO,
                        .header = "HPID", .from = "host status NSpid", .doc = "pid on the host", .get = get_hpid},
    [PSNAP_COL_HUSER] = {.name = "huser", .type = "TEXT", .src = STATUS, .flags = GO, .header = "HUSER",
                         .from = "status Uid, host names", .doc = "effective user on the host", .get = get_huser},
    [PSNAP_COL_HUID] = {.name = "huid", .type = "INTEGER", .src = STATUS, .flags = GO, .header = "HUID",
                        .from = "status Uid", .doc = "effective uid on the host", .get = get_huid},
    [PSNAP_COL_HGROUP] = {.name = "hgroup", .type = "TEXT", .src = STATUS, .flags = GO, .header = "HGROUP",
                          .from = "status Gid, host names", .doc = "effective group on the host", .get = get_hgroup},
    [PSNAP_COL_HGROUPS] = {.name = "hgroups", .type = "TEXT", .src = STATUS, .flags = GO, .header = "HGROUPS",
                           .from = "status Groups", .doc = "supplementary gids on the host, joined by ','",
                           .get = get_hgroups},
    [PSNAP_COL_PIDNS] = {.name = "pidns", .type = "INTEGER", .src = STAT, .flags = PSNAP_F_HIDDEN, .header = "PIDNS",
                         .from = "argument",
                         .doc = "a pid whose PID namespace to list (NULL: the caller's)", .get = get_pidns},
};

_Static_assert(ARRAY_SIZE(psnap_cols) == PSNAP_COL__COUNT, "one registry entry per column");

/* The sources that the columns of a mask need (bit i = column i). */
unsigned psnap_cols_src(uint64_t mask) {
  unsigned src = PSNAP_SRC_STAT;
  for (int i = 0; i < PSNAP_COL__COUNT; i++)
    if (mask & (1ull << (i < 63 ? i : 63))) src |= psnap_cols[i].src;
  return src;
}
