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

/* The ids of the current row in the view (mapped through the target's
   uid_map; the identity map in the caller's own view). */
static uint32_t view_uid(struct psnap *s, int i) { return psnap_idmap_in(&s->uidmap, s->ss.uid[i], s->overflowuid); }
static uint32_t view_gid(struct psnap *s, uint32_t host_gid) {
  return psnap_idmap_in(&s->gidmap, host_gid, s->overflowgid);
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
/* VmRSS, as ps and psgo print it. stat (24) is not the same: it reads the
   per-CPU cached counters, which lag VmRSS by up to a few hundred KiB. */
static void get_rss(struct psnap *s, struct psnap_value *v) { set_int(v, s->ss.vmrss > 0 ? s->ss.vmrss : 0); }
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
  struct psnap_buf *b = &s->b[B_CMDLINE];
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
  if (n)
    set_str(v, n);
  else
    set_decimal(s, v, uid);
}
static void group_of(struct psnap *s, struct psnap_value *v, uint32_t gid, int host) {
  if (!s->ss.have_ids) return;
  const char *n = host ? names_host_group(s, gid) : names_group(s, gid);
  if (n)
    set_str(v, n);
  else
    set_decimal(s, v, gid);
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
static void get_hpid(struct psnap *s, struct psnap_value *v) { set_int(v, s->hpid); }

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
      s->nomem = 1;
      return;
    }
  }
  if (snap_scratch(s, (size_t)64 * 32) < 0) return;
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

/* A one-line file as text, without the trailing newline or NUL; NULL if empty. */
static void set_line(struct psnap_value *v, const struct psnap_buf *b) {
  size_t n = b->len;
  while (n > 0 && (b->p[n - 1] == '\n' || b->p[n - 1] == '\0')) n--;
  if (n > 0) set_text(v, b->p, n);
}

/* attr/current: the LSM label. */
static void get_label(struct psnap *s, struct psnap_value *v) { set_line(v, &s->b[B_ATTR]); }
static void get_ns(struct psnap *s, struct psnap_value *v, int k) { set_int(v, (long long)s->ns[k]); }
static void get_ns_pid(struct psnap *s, struct psnap_value *v) { get_ns(s, v, NS_PID); }
static void get_ns_mnt(struct psnap *s, struct psnap_value *v) { get_ns(s, v, NS_MNT); }
static void get_ns_net(struct psnap *s, struct psnap_value *v) { get_ns(s, v, NS_NET); }
static void get_ns_user(struct psnap *s, struct psnap_value *v) { get_ns(s, v, NS_USER); }
static void get_ns_uts(struct psnap *s, struct psnap_value *v) { get_ns(s, v, NS_UTS); }
static void get_ns_ipc(struct psnap *s, struct psnap_value *v) { get_ns(s, v, NS_IPC); }
static void get_ns_cgroup(struct psnap *s, struct psnap_value *v) { get_ns(s, v, NS_CGROUP); }
static void get_nlwp(struct psnap *s, struct psnap_value *v) { set_int(v, s->st.num_threads); }
static void get_exe(struct psnap *s, struct psnap_value *v) { set_text(v, s->b[B_EXE].p, s->b[B_EXE].len); }
static void get_cwd(struct psnap *s, struct psnap_value *v) { set_text(v, s->b[B_CWD].p, s->b[B_CWD].len); }
static void get_nopriv(struct psnap *s, struct psnap_value *v) {
  if (s->ss.nonewprivs >= 0) set_int(v, s->ss.nonewprivs);
}
static void get_seccomp_filters(struct psnap *s, struct psnap_value *v) {
  if (s->ss.seccomp_filters >= 0) set_int(v, s->ss.seccomp_filters);
}

/* wchan: the kernel function the process sleeps in; "0" (running) is NULL. */
static void get_wchan(struct psnap *s, struct psnap_value *v) {
  const struct psnap_buf *b = &s->b[B_WCHAN];
  if (b->len == 1 && b->p[0] == '0') return;
  set_line(v, b);
}

/*
** cgroup, as procps prints it: the lines of /proc/PID/cgroup whose path is
** not just "/", joined by ','; NULL when none is left (the root cgroup).
*/
static void get_cgroup(struct psnap *s, struct psnap_value *v) {
  const struct psnap_buf *b = &s->b[B_CGROUP];
  if (snap_scratch(s, b->len + 1) < 0) return;
  size_t len = 0;
  const char *p = b->p, *end = b->p + b->len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    size_t n = (size_t)(le - p);
    if (n > 0 && !(n >= 2 && le[-1] == '/' && le[-2] == ':')) {
      if (len) s->scratch.p[len++] = ',';
      memcpy(s->scratch.p + len, p, n);
      len += n;
    }
    p = le + 1;
  }
  if (len) set_text(v, s->scratch.p, len);
}

/*
** syscall: the system call the process is blocked in, by name; 'running'
** when it runs; NULL when it is blocked outside a system call (-1).
*/
static void get_syscall(struct psnap *s, struct psnap_value *v) {
  const struct psnap_buf *b = &s->b[B_SYSCALL];
  if (b->len >= 7 && memcmp(b->p, "running", 7) == 0) {
    set_str(v, "running");
    return;
  }
  const char *p = b->p;
  unsigned long long nr;
  if (!psnap_next_uint(&p, b->p + b->len, &nr) || snap_scratch(s, 64) < 0) return;
  /* "nr args... sp pc": kernel threads show all zeros, pc 0x0 included */
  size_t n0 = b->len;
  while (n0 > 0 && (b->p[n0 - 1] == '\n' || b->p[n0 - 1] == ' ')) n0--;
  if (n0 >= 4 && memcmp(b->p + n0 - 4, " 0x0", 4) == 0) return;
  size_t n = psnap_syscall_name((long)nr, s->scratch.p, 64);
  set_text(v, s->scratch.p, n);
}

static void get_pidns(struct psnap *s, struct psnap_value *v) {
  if (s->target.pid > 0) set_int(v, s->target.pid);
}

#define STAT PSNAP_SRC_STAT
#define STATUS PSNAP_SRC_STATUS
#define PG (PSNAP_F_PSGO | PSNAP_F_PROCPS)
#define GO PSNAP_F_PSGO

const struct psnap_desc psnap_cols[PSNAP_COL__COUNT] = {
    [PSNAP_COL_USER] = {.name = "user",
                        .type = "TEXT",
                        .src = STATUS | PSNAP_SRC_NAMES,
                        .flags = PG,
                        .code = "%U",
                        .header = "USER",
                        .from = "status Uid (effective)",
                        .doc = "effective user name, else the uid",
                        .get = get_user},
    [PSNAP_COL_PID] = {.name = "pid",
                       .type = "INTEGER",
                       .src = STAT,
                       .flags = PG,
                       .code = "%p",
                       .header = "PID",
                       .from = "/proc directory",
                       .doc = "process id, as the target namespace sees it",
                       .get = get_pid},
    [PSNAP_COL_PPID] = {.name = "ppid",
                        .type = "INTEGER",
                        .src = STAT | PSNAP_SRC_PARENT,
                        .flags = PG,
                        .code = "%P",
                        .header = "PPID",
                        .from = "stat (4); in a namespace the parent's NSpid",
                        .doc = "parent process id (0 for a namespace's init)",
                        .get = get_ppid},
    [PSNAP_COL_PCPU] = {.name = "pcpu",
                        .type = "REAL",
                        .src = STAT,
                        .flags = PG,
                        .code = "%C",
                        .header = "%CPU",
                        .from = "stat (14,15,22)",
                        .doc = "CPU use in percent over the process's lifetime",
                        .get = get_pcpu},
    [PSNAP_COL_ETIME] = {.name = "etime",
                         .type = "REAL",
                         .src = STAT,
                         .flags = PG,
                         .code = "%t",
                         .header = "ELAPSED",
                         .from = "stat (22)",
                         .doc = "seconds since the process started",
                         .get = get_etime},
    [PSNAP_COL_TTY] = {.name = "tty",
                       .type = "TEXT",
                       .src = STAT | PSNAP_SRC_TTY,
                       .flags = PG,
                       .code = "%y",
                       .header = "TTY",
                       .from = "stat (7), /dev",
                       .doc = "controlling terminal (pts/0), NULL when none",
                       .get = get_tty},
    [PSNAP_COL_TIME] = {.name = "time",
                        .type = "REAL",
                        .src = STAT,
                        .flags = PG,
                        .code = "%x",
                        .header = "TIME",
                        .from = "stat (14,15)",
                        .doc = "CPU time used, user + system, in seconds",
                        .get = get_time},
    [PSNAP_COL_ARGS] = {.name = "args",
                        .type = "TEXT",
                        .src = STAT | PSNAP_SRC_CMDLINE,
                        .flags = PG,
                        .code = "%a",
                        .header = "COMMAND",
                        .from = "cmdline",
                        .doc = "arguments joined by spaces; [comm] when there are none",
                        .get = get_args},
    [PSNAP_COL_COMM] = {.name = "comm",
                        .type = "TEXT",
                        .src = STAT,
                        .flags = PG,
                        .code = "%c",
                        .header = "COMMAND",
                        .from = "stat (2)",
                        .doc = "executable name (at most 15 bytes)",
                        .get = get_comm},
    [PSNAP_COL_GROUP] = {.name = "group",
                         .type = "TEXT",
                         .src = STATUS | PSNAP_SRC_NAMES,
                         .flags = PG,
                         .code = "%G",
                         .header = "GROUP",
                         .from = "status Gid (effective)",
                         .doc = "effective group name, else the gid",
                         .get = get_group},
    [PSNAP_COL_GROUPS] = {.name = "groups",
                          .type = "TEXT",
                          .src = STATUS | PSNAP_SRC_NAMES,
                          .flags = GO,
                          .header = "GROUPS",
                          .from = "status Groups",
                          .doc = "supplementary group names joined by ','",
                          .get = get_groups},
    [PSNAP_COL_RGROUP] = {.name = "rgroup",
                          .type = "TEXT",
                          .src = STATUS | PSNAP_SRC_NAMES,
                          .flags = PG,
                          .code = "%g",
                          .header = "RGROUP",
                          .from = "status Gid (real)",
                          .doc = "real group name, else the gid",
                          .get = get_rgroup},
    [PSNAP_COL_RUSER] = {.name = "ruser",
                         .type = "TEXT",
                         .src = STATUS | PSNAP_SRC_NAMES,
                         .flags = PG,
                         .code = "%u",
                         .header = "RUSER",
                         .from = "status Uid (real)",
                         .doc = "real user name, else the uid",
                         .get = get_ruser},
    [PSNAP_COL_NICE] = {.name = "nice",
                        .type = "INTEGER",
                        .src = STAT,
                        .flags = PG,
                        .code = "%n",
                        .header = "NI",
                        .from = "stat (19)",
                        .doc = "nice value, -20 to 19",
                        .get = get_nice},
    [PSNAP_COL_PGID] = {.name = "pgid",
                        .type = "INTEGER",
                        .src = STAT,
                        .flags = PG,
                        .code = "%r",
                        .header = "PGID",
                        .from = "stat (5)",
                        .doc = "process group id",
                        .get = get_pgid},
    [PSNAP_COL_UID] = {.name = "uid",
                       .type = "INTEGER",
                       .src = STATUS,
                       .flags = PG,
                       .header = "UID",
                       .from = "status Uid (effective)",
                       .doc = "effective user id",
                       .get = get_uid},
    [PSNAP_COL_VSZ] = {.name = "vsz",
                       .type = "INTEGER",
                       .src = STAT,
                       .flags = PG,
                       .code = "%z",
                       .header = "VSZ",
                       .from = "stat (23)",
                       .doc = "virtual memory size in KiB",
                       .get = get_vsz},
    [PSNAP_COL_RSS] = {.name = "rss",
                       .type = "INTEGER",
                       .src = STATUS,
                       .flags = PG,
                       .header = "RSS",
                       .from = "status VmRSS",
                       .doc = "resident set size in KiB (0 for kernel threads)",
                       .get = get_rss},
    [PSNAP_COL_STATE] = {.name = "state",
                         .type = "TEXT",
                         .src = STAT,
                         .flags = PG,
                         .header = "STATE",
                         .from = "stat (3)",
                         .doc = "state: R S D Z T t X I",
                         .get = get_state},
    [PSNAP_COL_STIME] = {.name = "stime",
                         .type = "REAL",
                         .src = STAT | PSNAP_SRC_BTIME,
                         .flags = PG,
                         .header = "STIME",
                         .from = "stat (22), /proc/stat btime",
                         .doc = "start time, Unix epoch seconds",
                         .get = get_stime},
    [PSNAP_COL_CAPAMB] = {.name = "capamb",
                          .type = "TEXT",
                          .src = STATUS,
                          .flags = GO,
                          .header = "AMBIENT CAPS",
                          .from = "status CapAmb",
                          .doc = "ambient capabilities",
                          .get = get_capamb},
    [PSNAP_COL_CAPBND] = {.name = "capbnd",
                          .type = "TEXT",
                          .src = STATUS,
                          .flags = GO,
                          .header = "BOUNDING CAPS",
                          .from = "status CapBnd",
                          .doc = "bounding set",
                          .get = get_capbnd},
    [PSNAP_COL_CAPEFF] = {.name = "capeff",
                          .type = "TEXT",
                          .src = STATUS,
                          .flags = GO,
                          .header = "EFFECTIVE CAPS",
                          .from = "status CapEff",
                          .doc = "effective capabilities",
                          .get = get_capeff},
    [PSNAP_COL_CAPINH] = {.name = "capinh",
                          .type = "TEXT",
                          .src = STATUS,
                          .flags = GO,
                          .header = "INHERITED CAPS",
                          .from = "status CapInh",
                          .doc = "inheritable capabilities",
                          .get = get_capinh},
    [PSNAP_COL_CAPPRM] = {.name = "capprm",
                          .type = "TEXT",
                          .src = STATUS,
                          .flags = GO,
                          .header = "PERMITTED CAPS",
                          .from = "status CapPrm",
                          .doc = "permitted capabilities",
                          .get = get_capprm},
    [PSNAP_COL_SECCOMP] = {.name = "seccomp",
                           .type = "TEXT",
                           .src = STATUS,
                           .flags = GO,
                           .header = "SECCOMP",
                           .from = "status Seccomp",
                           .doc = "seccomp mode: disabled, strict or filter",
                           .get = get_seccomp},
    [PSNAP_COL_LABEL] = {.name = "label",
                         .type = "TEXT",
                         .src = STAT | PSNAP_SRC_ATTR,
                         .flags = PG,
                         .header = "LABEL",
                         .from = "attr/current",
                         .doc = "security label (SELinux, AppArmor); NULL when none",
                         .get = get_label},
    [PSNAP_COL_HPID] = {.name = "hpid",
                        .type = "INTEGER",
                        .src = STAT,
                        .flags = GO,
                        .header = "HPID",
                        .from = "the caller's /proc",
                        .doc = "pid on the host",
                        .get = get_hpid},
    [PSNAP_COL_HUSER] = {.name = "huser",
                         .type = "TEXT",
                         .src = STATUS,
                         .flags = GO,
                         .header = "HUSER",
                         .from = "status Uid, host names",
                         .doc = "effective user on the host",
                         .get = get_huser},
    [PSNAP_COL_HUID] = {.name = "huid",
                        .type = "INTEGER",
                        .src = STATUS,
                        .flags = GO,
                        .header = "HUID",
                        .from = "status Uid",
                        .doc = "effective uid on the host",
                        .get = get_huid},
    [PSNAP_COL_HGROUP] = {.name = "hgroup",
                          .type = "TEXT",
                          .src = STATUS,
                          .flags = GO,
                          .header = "HGROUP",
                          .from = "status Gid, host names",
                          .doc = "effective group on the host",
                          .get = get_hgroup},
    [PSNAP_COL_HGROUPS] = {.name = "hgroups",
                           .type = "TEXT",
                           .src = STATUS,
                           .flags = GO,
                           .header = "HGROUPS",
                           .from = "status Groups",
                           .doc = "supplementary gids on the host, joined by ','",
                           .get = get_hgroups},
    [PSNAP_COL_NS_PID] = {.name = "ns_pid",
                          .type = "INTEGER",
                          .src = PSNAP_SRC_NS_PID,
                          .flags = 0,
                          .header = "PIDNS",
                          .from = "ns/pid",
                          .doc = "inode of the PID namespace (procps pidns)",
                          .get = get_ns_pid},
    [PSNAP_COL_NS_MNT] = {.name = "ns_mnt",
                          .type = "INTEGER",
                          .src = PSNAP_SRC_NS_MNT,
                          .header = "MNTNS",
                          .from = "ns/mnt",
                          .doc = "inode of the mount namespace",
                          .get = get_ns_mnt},
    [PSNAP_COL_NS_NET] = {.name = "ns_net",
                          .type = "INTEGER",
                          .src = PSNAP_SRC_NS_NET,
                          .header = "NETNS",
                          .from = "ns/net",
                          .doc = "inode of the network namespace",
                          .get = get_ns_net},
    [PSNAP_COL_NS_USER] = {.name = "ns_user",
                           .type = "INTEGER",
                           .src = PSNAP_SRC_NS_USER,
                           .header = "USERNS",
                           .from = "ns/user",
                           .doc = "inode of the user namespace",
                           .get = get_ns_user},
    [PSNAP_COL_NS_UTS] = {.name = "ns_uts",
                          .type = "INTEGER",
                          .src = PSNAP_SRC_NS_UTS,
                          .header = "UTSNS",
                          .from = "ns/uts",
                          .doc = "inode of the UTS namespace",
                          .get = get_ns_uts},
    [PSNAP_COL_NS_IPC] = {.name = "ns_ipc",
                          .type = "INTEGER",
                          .src = PSNAP_SRC_NS_IPC,
                          .header = "IPCNS",
                          .from = "ns/ipc",
                          .doc = "inode of the IPC namespace",
                          .get = get_ns_ipc},
    [PSNAP_COL_NS_CGROUP] = {.name = "ns_cgroup",
                             .type = "INTEGER",
                             .src = PSNAP_SRC_NS_CGROUP,
                             .header = "CGROUPNS",
                             .from = "ns/cgroup",
                             .doc = "inode of the cgroup namespace",
                             .get = get_ns_cgroup},
    [PSNAP_COL_CGROUP] = {.name = "cgroup",
                          .type = "TEXT",
                          .src = PSNAP_SRC_CGROUP,
                          .flags = PSNAP_F_PROCPS,
                          .header = "CGROUP",
                          .from = "cgroup",
                          .doc = "cgroups other than the root, joined by ',' (as procps)",
                          .get = get_cgroup},
    [PSNAP_COL_NLWP] = {.name = "nlwp",
                        .type = "INTEGER",
                        .src = STAT,
                        .flags = PSNAP_F_PROCPS,
                        .header = "NLWP",
                        .from = "stat (20)",
                        .doc = "number of threads",
                        .get = get_nlwp},
    [PSNAP_COL_EXE] = {.name = "exe",
                       .type = "TEXT",
                       .src = PSNAP_SRC_EXE,
                       .flags = PSNAP_F_PROCPS,
                       .header = "EXE",
                       .from = "exe",
                       .doc = "path of the executable",
                       .get = get_exe},
    [PSNAP_COL_CWD] = {.name = "cwd",
                       .type = "TEXT",
                       .src = PSNAP_SRC_CWD,
                       .header = "CWD",
                       .from = "cwd",
                       .doc = "current working directory",
                       .get = get_cwd},
    [PSNAP_COL_WCHAN] = {.name = "wchan",
                         .type = "TEXT",
                         .src = PSNAP_SRC_WCHAN,
                         .flags = PSNAP_F_PROCPS,
                         .header = "WCHAN",
                         .from = "wchan",
                         .doc = "kernel function the process sleeps in; NULL when running",
                         .get = get_wchan},
    [PSNAP_COL_NOPRIV] = {.name = "nopriv",
                          .type = "INTEGER",
                          .src = STATUS,
                          .header = "NOPRIV",
                          .from = "status NoNewPrivs",
                          .doc = "1 when no_new_privs is set",
                          .get = get_nopriv},
    [PSNAP_COL_SECCOMP_FILTERS] = {.name = "seccomp_filters",
                                   .type = "INTEGER",
                                   .src = STATUS,
                                   .header = "FILTERS",
                                   .from = "status Seccomp_filters",
                                   .doc = "number of seccomp filters",
                                   .get = get_seccomp_filters},
    [PSNAP_COL_SYSCALL] = {.name = "syscall",
                           .type = "TEXT",
                           .src = PSNAP_SRC_SYSCALL,
                           .header = "SYSCALL",
                           .from = "syscall, libseccomp names",
                           .doc = "system call the process is blocked in; 'running' when running",
                           .get = get_syscall},
    [PSNAP_COL_PIDNS] = {.name = "pidns",
                         .type = "INTEGER",
                         .src = STAT,
                         .flags = PSNAP_F_HIDDEN,
                         .header = "PIDNS",
                         .from = "argument",
                         .doc = "a pid whose PID namespace to list (NULL: the caller's)",
                         .get = get_pidns},
};

_Static_assert(ARRAY_SIZE(psnap_cols) == PSNAP_COL__COUNT, "one registry entry per column");

/* The sources that the columns of a mask need (bit i = column i). */
unsigned psnap_cols_src(uint64_t mask) {
  unsigned src = PSNAP_SRC_STAT;
  for (int i = 0; i < PSNAP_COL__COUNT; i++) /* colUsed bit 63 stands for every column from 63 on */
    // cppcheck-suppress knownConditionTrueFalse
    if (mask & (1ull << (i < 63 ? i : 63))) src |= psnap_cols[i].src;
  return src;
}
