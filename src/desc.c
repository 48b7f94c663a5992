/*
** desc.c: the column descriptors and the functions that make each column's
** value from the current row. The list of columns is columns.h; this file
** turns each of its lines into a descriptor (psnap_cols[]).
*/
#include "snap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

/* Make room for need bytes in the scratch buffer: 0 or -ENOMEM. */
static int scratch(struct psnap *s, size_t need) {
  if (s->scratch.cap >= need) return 0;
  size_t ncap = s->scratch.cap ? s->scratch.cap : 256;
  while (ncap < need) ncap *= 2;
  char *p = psnap_realloc(s->scratch.p, ncap);
  if (!p) {
    s->nomem = 1;
    return -ENOMEM;
  }
  s->scratch.p = p;
  s->scratch.cap = ncap;
  return 0;
}

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
/* The exact bytes of a _raw column. */
static void set_blob(struct psnap_value *v, const char *s, size_t n) {
  v->type = PSNAP_BLOB;
  v->s = s ? s : "";
  v->n = s ? n : 0;
}
static void set_str(struct psnap_value *v, const char *s) {
  if (s) set_text(v, s, strlen(s));
}

/* A number as text in the scratch buffer (a name that does not resolve). */
static void set_decimal(struct psnap *s, struct psnap_value *v, uint32_t id) {
  if (scratch(s, 16) < 0) return;
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
/*
** tty, as ps prints it: "pts/3", "tty1", "ttyS0"; NULL when the process has
** none, "?" when its name is unknown. Unix98 pseudo-terminals (majors
** 136-143) are named by their number alone, as procps does: no file system
** is asked. Other names come from the view's table of /dev (the caller's
** on the host; the one the container lent).
*/
static void get_tty(struct psnap *s, struct psnap_value *v) {
  if (s->st.tty_nr == 0) return;
  unsigned maj = major((dev_t)(unsigned)s->st.tty_nr), min = minor((dev_t)(unsigned)s->st.tty_nr);
  if (maj >= 136 && maj <= 143) {
    if (scratch(s, 32) < 0) return;
    int n = snprintf(s->scratch.p, 32, "pts/%u", (maj - 136) * 256 + min);
    set_text(v, s->scratch.p, (size_t)n);
    return;
  }
  size_t n;
  const struct ttyname *t = s->view->ttys(s, &n);
  const char *name = names_tty(t, n, makedev(maj, min));
  set_str(v, name ? name : "?");
}

/*
** args: the command line with its NUL separators turned into single spaces
** (a trailing NUL dropped); "[comm]" when it is empty, as for kernel
** threads and zombies. Made in the scratch buffer: cmdline stays as read,
** for args_raw.
*/
static void get_args(struct psnap *s, struct psnap_value *v) {
  const struct psnap_buf *b = &s->b[B_CMDLINE];
  size_t n = b->len;
  while (n > 0 && b->p[n - 1] == '\0') n--;
  if (n == 0) {
    size_t c = strlen(s->st.comm);
    if (scratch(s, c + 3) < 0) return;
    s->scratch.p[0] = '[';
    memcpy(s->scratch.p + 1, s->st.comm, c);
    s->scratch.p[c + 1] = ']';
    set_text(v, s->scratch.p, c + 2);
    return;
  }
  if (scratch(s, n + 1) < 0) return;
  for (size_t i = 0; i < n; i++) s->scratch.p[i] = b->p[i] ? b->p[i] : ' ';
  s->scratch.p[n] = '\0';
  set_text(v, s->scratch.p, n);
}

/* The _raw columns: the bytes of their text twins, exactly as read. */
static void get_comm_raw(struct psnap *s, struct psnap_value *v) { set_blob(v, s->st.comm, strlen(s->st.comm)); }
static void get_args_raw(struct psnap *s, struct psnap_value *v) {
  set_blob(v, s->b[B_CMDLINE].p, s->b[B_CMDLINE].len);
}
static void get_exe_raw(struct psnap *s, struct psnap_value *v) { set_blob(v, s->b[B_EXE].p, s->b[B_EXE].len); }
static void get_cwd_raw(struct psnap *s, struct psnap_value *v) { set_blob(v, s->b[B_CWD].p, s->b[B_CWD].len); }

static void user_of(struct psnap *s, struct psnap_value *v, uint32_t uid, int host) {
  if (!s->ss.have_ids) return;
  const char *n = host ? names_host_user(s, uid) : s->view->user(s, uid);
  if (n)
    set_str(v, n);
  else
    set_decimal(s, v, uid);
}
static void group_of(struct psnap *s, struct psnap_value *v, uint32_t gid, int host) {
  if (!s->ss.have_ids) return;
  const char *n = host ? names_host_group(s, gid) : s->view->group(s, gid);
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

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/*
** The supplementary groups, comma-joined: names in the target's view
** (groups), or host gids as decimals (hgroups, psgo's form). '' when none.
**
** Each group once, in ascending gid (of the view for groups, of the host
** for hgroups). setgroups(2) sorts the list by host gid but keeps its
** repeats, and status shows every one of them: a container may hold one
** gid 65536 times (NGROUPS_MAX), and procps (ps -o supgrp) and psgo
** (groups, hgroups) print them all. We do not: a repeat names no other
** group, and one gid with a long name, repeated, made one value 943 MB.
** The value is then cut so that its entries never take more than
** PSNAP_GROUPS_MAX bytes, whatever the container holds: whole entries,
** then ",+N" (at most 8 bytes more) for the N groups left out (no name a
** container can lend starts with '+': such lines are NIS compat entries,
** never names); no name is looked up past the cut. A caller in a user
** namespace of its own reads its own view's gids, not sorted (every
** unmapped one is the overflow gid), and so can a map of several extents
** make the view's: they are sorted here.
*/
static void groups_of(struct psnap *s, struct psnap_value *v, int host) {
  if (!s->ss.groups) return;
  const char *p = s->ss.groups, *end = p + s->ss.groups_len;
  size_t n = (size_t)psnap_list_count(p, s->ss.groups_len), k = 0, len = 0, i;
  uint32_t *g = psnap_malloc((n ? n : 1) * sizeof *g);
  if (!g || scratch(s, 64) < 0) {
    psnap_free(g);
    s->nomem = 1;
    return;
  }
  unsigned long long x;
  int sorted = 1;
  while (k < n && psnap_next_uint(&p, end, &x)) {
    g[k] = host ? (uint32_t)x : view_gid(s, (uint32_t)x);
    sorted &= k == 0 || g[k - 1] <= g[k];
    k++;
  }
  if (!sorted) qsort(g, k, sizeof *g, cmp_u32);
  n = 0;
  for (i = 0; i < k; i++)
    if (n == 0 || g[n - 1] != g[i]) g[n++] = g[i];
  for (i = 0; i < n; i++) {
    char num[16];
    const char *name = host ? NULL : s->view->group(s, g[i]);
    if (!name) {
      snprintf(num, sizeof num, "%u", g[i]);
      name = num;
    }
    size_t nl = strlen(name);
    if (len + (len > 0) + nl > PSNAP_GROUPS_MAX) break;
    if (scratch(s, len + nl + 2) < 0) break;
    if (len) s->scratch.p[len++] = ',';
    memcpy(s->scratch.p + len, name, nl);
    len += nl;
  }
  psnap_free(g);
  if (s->nomem) return;
  if (i < n) { /* cut: how many were left out */
    char cut[24];
    int cl = snprintf(cut, sizeof cut, "%s+%zu", len ? "," : "", n - i);
    if (scratch(s, len + (size_t)cl + 1) < 0) return;
    memcpy(s->scratch.p + len, cut, (size_t)cl);
    len += (size_t)cl;
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
  if (scratch(s, (size_t)64 * 32) < 0) return;
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
  if (scratch(s, b->len + 1) < 0) return;
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
  if (!psnap_next_uint(&p, b->p + b->len, &nr) || scratch(s, 64) < 0) return;
  /* "nr args... sp pc": kernel threads show all zeros, pc 0x0 included */
  size_t n0 = b->len;
  while (n0 > 0 && (b->p[n0 - 1] == '\n' || b->p[n0 - 1] == ' ')) n0--;
  if (n0 >= 4 && memcmp(b->p + n0 - 4, " 0x0", 4) == 0) return;
  size_t n = psnap_syscall_name((long)nr, s->scratch.p, 64);
  set_text(v, s->scratch.p, n);
}

/*
** Memory. pss and uss come from smaps_rollup; uss is Private_Clean +
** Private_Dirty, as procps 4 (ps -o uss) and psutil sum it. A process
** without memory (a kernel thread, a zombie: the file reads empty) has 0,
** as ps prints. swap (VmSwap) and shared (RssFile + RssShmem: top's SHR)
** come from status, 0 when absent, as rss.
*/
static void get_pss(struct psnap *s, struct psnap_value *v) { set_int(v, s->sm[SM_PSS] > 0 ? s->sm[SM_PSS] : 0); }
static void get_uss(struct psnap *s, struct psnap_value *v) {
  long long c = s->sm[SM_PRIVATE_CLEAN], d = s->sm[SM_PRIVATE_DIRTY];
  set_int(v, (c > 0 ? c : 0) + (d > 0 ? d : 0));
}
static void get_swap(struct psnap *s, struct psnap_value *v) { set_int(v, s->ss.vmswap > 0 ? s->ss.vmswap : 0); }
static void get_shared(struct psnap *s, struct psnap_value *v) {
  set_int(v, (s->ss.rssfile > 0 ? s->ss.rssfile : 0) + (s->ss.rssshmem > 0 ? s->ss.rssshmem : 0));
}
/* pmem: VmRSS over MemTotal (read once per scan), in percent; ps rounds
   it to one decimal, the column does not. */
static void get_pmem(struct psnap *s, struct psnap_value *v) {
  if (s->memtotal > 0) set_real(v, 100.0 * (double)(s->ss.vmrss > 0 ? s->ss.vmrss : 0) / (double)s->memtotal);
}

/* The counters of /proc/PID/io; a missing line leaves the column NULL. */
static void io_of(struct psnap *s, struct psnap_value *v, int k) {
  if (s->io[k] >= 0) set_int(v, s->io[k]);
}
static void get_rchar(struct psnap *s, struct psnap_value *v) { io_of(s, v, IO_RCHAR); }
static void get_wchar(struct psnap *s, struct psnap_value *v) { io_of(s, v, IO_WCHAR); }
static void get_read_bytes(struct psnap *s, struct psnap_value *v) { io_of(s, v, IO_READ_BYTES); }
static void get_write_bytes(struct psnap *s, struct psnap_value *v) { io_of(s, v, IO_WRITE_BYTES); }
static void get_syscr(struct psnap *s, struct psnap_value *v) { io_of(s, v, IO_SYSCR); }
static void get_syscw(struct psnap *s, struct psnap_value *v) { io_of(s, v, IO_SYSCW); }

static void get_nfds(struct psnap *s, struct psnap_value *v) { set_int(v, s->nfds); }
static void long_of(struct psnap_value *v, const struct psnap_buf *b) {
  long long x;
  if (b->p && psnap_parse_long(b->p, b->len, &x)) set_int(v, x);
}
static void get_oom_score(struct psnap *s, struct psnap_value *v) { long_of(v, &s->b[B_OOM_SCORE]); }
static void get_oom_score_adj(struct psnap *s, struct psnap_value *v) { long_of(v, &s->b[B_OOM_ADJ]); }
static void get_cpus_allowed(struct psnap *s, struct psnap_value *v) {
  if (s->ss.cpus && s->ss.cpus_len > 0) set_text(v, s->ss.cpus, s->ss.cpus_len);
}
static void get_psr(struct psnap *s, struct psnap_value *v) {
  if (s->st.processor >= 0) set_int(v, s->st.processor);
}

/* container, pod: the ids an engine wrote into the cgroup path. */
static void container_of(struct psnap *s, struct psnap_value *v, int which) {
  char id[PSNAP_CONTAINER_ID_LEN + 1], pod[PSNAP_POD_UID_LEN + 1];
  const struct psnap_buf *b = &s->b[B_CGROUP];
  int found = b->p ? psnap_parse_container(b->p, b->len, id, pod) : 0;
  const char *t = which == 1 ? id : pod;
  if (!(found & which) || scratch(s, sizeof id) < 0) return;
  size_t n = strlen(t);
  memcpy(s->scratch.p, t, n + 1);
  set_text(v, s->scratch.p, n);
}
static void get_container(struct psnap *s, struct psnap_value *v) { container_of(s, v, 1); }
static void get_pod(struct psnap *s, struct psnap_value *v) { container_of(s, v, 2); }

/* pcpu_now: percent of one CPU over the scan's interval (cpunow.c). */
static void get_pcpu_now(struct psnap *s, struct psnap_value *v) {
  double pct;
  if (cpunow_value(s, &pct)) set_real(v, pct);
}
static void get_sample(struct psnap *s, struct psnap_value *v) {
  if (s->cfg.sample > 0) set_real(v, s->cfg.sample);
}

static void get_pidns(struct psnap *s, struct psnap_value *v) {
  if (s->target.pid > 0) set_int(v, s->target.pid);
}

/* The columns only threads have (ps_threads). */
static void get_tid(struct psnap *s, struct psnap_value *v) { set_int(v, s->tid); }
static void get_htid(struct psnap *s, struct psnap_value *v) { set_int(v, s->htid); }
static void get_priority(struct psnap *s, struct psnap_value *v) { set_int(v, s->st.priority); }
static void get_vcsw(struct psnap *s, struct psnap_value *v) {
  if (s->ss.vcsw >= 0) set_int(v, s->ss.vcsw);
}
static void get_nvcsw(struct psnap *s, struct psnap_value *v) {
  if (s->ss.nvcsw >= 0) set_int(v, s->ss.nvcsw);
}

/*
** A column that the scan does not read for, but psnap_column() on its
** first use in a row: a HIDDEN column past 62 (a _raw one), which
** colUsed's bit 63 cannot tell from the io group's (columns.h).
*/
static int on_first_use(const struct psnap_desc *cols, int i) { return i >= 63 && (cols[i].flags & PSNAP_F_HIDDEN); }

/*
** The value of one column of the current row: 0, or -ENOMEM when memory
** ran out while making it (the value is then NULL). A column read on
** first use reads its files now, once per row (snap_load_more).
*/
int psnap_column(struct psnap *s, int col, struct psnap_value *v) {
  memset(v, 0, sizeof *v);
  v->type = PSNAP_NULL;
  if (col < 0 || col >= s->ncols) return 0;
  const struct psnap_desc *d = &s->cols[col];
  /* per-process sources that failed leave the column NULL */
  unsigned need = d->src & PSNAP_SRC_PER_PROCESS;
  if ((s->loaded & need) != need && on_first_use(s->cols, col) && snap_load_more(s, need & ~s->loaded) == -ENOMEM)
    return -ENOMEM;
  if ((s->loaded & need) != need) return 0;
  s->nomem = 0;
  d->get(s, v);
  if (!s->nomem) return 0;
  v->type = PSNAP_NULL;
  return -ENOMEM;
}

/* The descriptors, one per line of a registry (columns.h). */
#define DESC(n, t, sr, fl, cd, hd, fr, dc, g)                                                                          \
  {                                                                                                                    \
    .name = (n), .type = (t), .src = (sr), .flags = (fl), .code = (cd), .header = (hd), .from = (fr), .doc = (dc),     \
    .get = (g)                                                                                                         \
  }
#define PSNAP_COL_DESC(id, ...) [PSNAP_COL_##id] = DESC(__VA_ARGS__),
#define PSNAP_TCOL_DESC(id, ...) [PSNAP_TCOL_##id] = DESC(__VA_ARGS__),
const struct psnap_desc psnap_cols[PSNAP_COL__COUNT] = {PSNAP_COLUMNS(PSNAP_COL_DESC)};
const struct psnap_desc psnap_thread_cols[PSNAP_TCOL__COUNT] = {PSNAP_THREAD_COLUMNS(PSNAP_TCOL_DESC)};
/* past 63 columns, ps_threads would need the rule ps's registry follows (columns.h) */
_Static_assert(PSNAP_TCOL__COUNT <= 63, "every column of ps_threads has its own colUsed bit");

/*
** The sources that the columns of a mask need (bit i = column i, as
** SQLite's colUsed: bit 63 stands for every column from 63 on, and reads
** the sources of those not read on first use: the io group's).
*/
static unsigned cols_src(const struct psnap_desc *cols, int n, uint64_t mask) {
  unsigned src = PSNAP_SRC_STAT;
  for (int i = 0; i < n; i++)
    if (mask & (1ull << (i < 63 ? i : 63)) && !on_first_use(cols, i)) src |= cols[i].src;
  return src;
}
unsigned psnap_cols_src(uint64_t mask) { return cols_src(psnap_cols, PSNAP_COL__COUNT, mask); }
unsigned psnap_thread_cols_src(uint64_t mask) { return cols_src(psnap_thread_cols, PSNAP_TCOL__COUNT, mask); }
