/*
** fuzz_desc.c: the column getters of desc.c that turn a file's raw text
** into a value, called through the public registry (psnap_cols[].get) on
** a struct psnap (snap.h) whose per-row buffers hold the input, as
** psnap_readfd() leaves them (NUL-terminated, no spare capacity):
**
**   args     cmdline: NULs to spaces, trailing NULs dropped, else "[comm]"
**            (comm: "" and a 63-byte one, the longest stat can give), in
**            the scratch buffer: cmdline itself unchanged
**   args_raw, comm_raw, exe_raw, cwd_raw: the bytes exactly, as a BLOB
**   cgroup   cgroup: non-empty lines not ending in ":/", joined by ','
**   wchan    wchan: "0" is NULL, else the text without trailing '\n'/NUL
**   label    attr/current: the text without trailing '\n'/NUL
**   syscall  syscall: "running", NULL for "-1 ..." or a pc of 0x0, else the
**            name (libseccomp) or the decimal of the leading number
**   exe, cwd the link text as is
**   oom_score, oom_score_adj: the one signed decimal (psnap_parse_long), else NULL
**   hgroups  from the input parsed as status: each gid once, ascending,
**            cut past PSNAP_GROUPS_MAX bytes with ",+N"
**   seccomp, nopriv, seccomp_filters, rss, swap, shared,
**            cpus_allowed, cap*, and ps_threads' voluntary_switches and
**            involuntary_switches: from the input parsed as status
**            (psnap_parse_status)
**
** Each getter gets its own copy and is checked against a reference written
** from the comments in desc.c. Then the getters run again with each
** allocation (the scratch buffer) failing in turn: no crash, no leak.
** The getters that resolve names (NSS, /dev) are left out.
*/
#include <errno.h>

#include "fuzz_common.h"
#include "snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct psnap_capnames capnames;

/* A buffer as psnap_readfd() leaves it: the bytes, a NUL, cap = len + 1. */
static void fill(struct psnap_buf *b, const char *d, size_t n) {
  b->p = malloc(n + 1);
  CHECK(b->p);
  memcpy(b->p, d, n);
  b->p[n] = '\0';
  b->len = n;
  b->cap = n + 1;
}

static void run(struct psnap *s, int col, struct psnap_value *v) {
  memset(v, 0, sizeof *v);
  v->type = PSNAP_NULL;
  psnap_cols[col].get(s, v);
  if (v->type == PSNAP_TEXT) CHECK(v->s != NULL || v->n == 0);
}

static int is_text(const struct psnap_value *v, const char *want, size_t n) {
  return v->type == PSNAP_TEXT && v->n == n && memcmp(v->s, want, n) == 0;
}

/* set_line's reference: trailing '\n' and NUL dropped; NULL when empty. */
static void check_line(const struct psnap_value *v, const char *d, size_t n) {
  while (n > 0 && (d[n - 1] == '\n' || d[n - 1] == '\0')) n--;
  if (n == 0)
    CHECK(v->type == PSNAP_NULL);
  else
    CHECK(is_text(v, d, n));
}

static void check_all(struct psnap *s, const char *d, size_t size, const struct psnap_status *ss, int strict) {
  struct psnap_value v;
  static char want[1 << 16];

  /* args, with both comms */
  static const char *const comms[2] = {"", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"};
  for (int c = 0; c < 2; c++) {
    fill(&s->b[B_CMDLINE], d, size);
    snprintf(s->st.comm, sizeof s->st.comm, "%s", comms[c]);
    run(s, PSNAP_COL_ARGS, &v);
    size_t n = size;
    while (n > 0 && d[n - 1] == '\0') n--;
    if (strict && n == 0) {
      size_t cl = strlen(comms[c]);
      CHECK(v.type == PSNAP_TEXT && v.n == cl + 2 && v.s[0] == '[' && v.s[cl + 1] == ']');
      CHECK(memcmp(v.s + 1, comms[c], cl) == 0);
    } else if (strict && n > 0) { /* in the scratch buffer: NULL when it cannot grow */
      CHECK(v.type == PSNAP_TEXT && v.s != s->b[B_CMDLINE].p && v.n == n);
      for (size_t i = 0; i < n; i++) CHECK(v.s[i] == (d[i] == '\0' ? ' ' : d[i]));
    }
    /* args_raw: cmdline exactly, args or no args before it */
    run(s, PSNAP_COL_ARGS_RAW, &v);
    CHECK(v.type == PSNAP_BLOB && v.n == size && (size == 0 || memcmp(v.s, d, size) == 0));
    psnap_buf_free(&s->b[B_CMDLINE]);
    /* comm_raw: stat's comm exactly */
    run(s, PSNAP_COL_COMM_RAW, &v);
    CHECK(v.type == PSNAP_BLOB && v.n == strlen(comms[c]) && memcmp(v.s, comms[c], v.n) == 0);
  }

  /* cgroup */
  fill(&s->b[B_CGROUP], d, size);
  run(s, PSNAP_COL_CGROUP, &v);
  if (strict) {
    size_t wl = 0;
    const char *p = d, *end = d + size;
    while (p < end) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      const char *le = nl ? nl : end;
      size_t n = (size_t)(le - p);
      int root = n >= 2 && p[n - 2] == ':' && p[n - 1] == '/';
      if (n > 0 && !root) {
        if (wl) want[wl++] = ',';
        CHECK(wl + n <= sizeof want);
        memcpy(want + wl, p, n);
        wl += n;
      }
      p = le + 1;
    }
    if (wl == 0)
      CHECK(v.type == PSNAP_NULL);
    else
      CHECK(is_text(&v, want, wl) && wl <= size);
  }
  psnap_buf_free(&s->b[B_CGROUP]);

  /* wchan and label */
  fill(&s->b[B_WCHAN], d, size);
  run(s, PSNAP_COL_WCHAN, &v);
  if (size == 1 && d[0] == '0')
    CHECK(v.type == PSNAP_NULL);
  else
    check_line(&v, d, size);
  psnap_buf_free(&s->b[B_WCHAN]);
  fill(&s->b[B_ATTR], d, size);
  run(s, PSNAP_COL_LABEL, &v);
  check_line(&v, d, size);
  psnap_buf_free(&s->b[B_ATTR]);

  /* syscall */
  fill(&s->b[B_SYSCALL], d, size);
  run(s, PSNAP_COL_SYSCALL, &v);
  if (size >= 7 && memcmp(d, "running", 7) == 0) {
    CHECK(is_text(&v, "running", 7));
  } else {
    const char *p = d, *end = d + size;
    while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) p++;
    size_t t = size;
    while (t > 0 && (d[t - 1] == '\n' || d[t - 1] == ' ')) t--;
    if (p == end || *p < '0' || *p > '9' || (t >= 4 && memcmp(d + t - 4, " 0x0", 4) == 0)) {
      CHECK(v.type == PSNAP_NULL);
    } else if (strict || v.type != PSNAP_NULL) {
      unsigned long long nr = 0;
      for (; p < end && *p >= '0' && *p <= '9'; p++) nr = fuzz_digit(nr, *p);
      CHECK(v.type == PSNAP_TEXT && v.n > 0 && v.n < 64 && strlen(v.s) == v.n);
      char num[32];
      snprintf(num, sizeof num, "%ld", (long)nr);
      if (strcmp(v.s, num) != 0) /* a name: lower case, digits, '_' */
        for (size_t i = 0; i < v.n; i++)
          CHECK((v.s[i] >= 'a' && v.s[i] <= 'z') || (v.s[i] >= '0' && v.s[i] <= '9') || v.s[i] == '_');
    }
  }
  psnap_buf_free(&s->b[B_SYSCALL]);

  /* exe, cwd: the link text as is */
  fill(&s->b[B_EXE], d, size);
  run(s, PSNAP_COL_EXE, &v);
  CHECK(v.type == PSNAP_TEXT && v.s == s->b[B_EXE].p && v.n == size);
  run(s, PSNAP_COL_EXE_RAW, &v);
  CHECK(v.type == PSNAP_BLOB && v.n == size && (size == 0 || memcmp(v.s, d, size) == 0));
  psnap_buf_free(&s->b[B_EXE]);
  fill(&s->b[B_CWD], d, size);
  run(s, PSNAP_COL_CWD, &v);
  CHECK(v.type == PSNAP_TEXT && v.s == s->b[B_CWD].p && v.n == size);
  run(s, PSNAP_COL_CWD_RAW, &v);
  CHECK(v.type == PSNAP_BLOB && v.n == size && (size == 0 || memcmp(v.s, d, size) == 0));
  psnap_buf_free(&s->b[B_CWD]);

  /* oom_score, oom_score_adj */
  static const int oomcol[2] = {PSNAP_COL_OOM_SCORE, PSNAP_COL_OOM_SCORE_ADJ};
  static const int oombuf[2] = {B_OOM_SCORE, B_OOM_ADJ};
  for (int i = 0; i < 2; i++) {
    fill(&s->b[oombuf[i]], d, size);
    run(s, oomcol[i], &v);
    long long x;
    if (psnap_parse_long(d, size, &x))
      CHECK(v.type == PSNAP_INT && v.i == x);
    else
      CHECK(v.type == PSNAP_NULL);
    psnap_buf_free(&s->b[oombuf[i]]);
  }

  /* from status */
  s->ss = *ss;
  run(s, PSNAP_COL_SWAP, &v);
  CHECK(v.type == PSNAP_INT && v.i == (ss->vmswap > 0 ? ss->vmswap : 0));
  run(s, PSNAP_COL_SHARED, &v);
  CHECK(v.type == PSNAP_INT && v.i == (ss->rssfile > 0 ? ss->rssfile : 0) + (ss->rssshmem > 0 ? ss->rssshmem : 0));
  /* ps_threads' context switches: the count, NULL without the line */
  const long long csw[2] = {ss->vcsw, ss->nvcsw};
  const int cswcol[2] = {PSNAP_TCOL_VOLUNTARY_SWITCHES, PSNAP_TCOL_INVOLUNTARY_SWITCHES};
  for (int i = 0; i < 2; i++) {
    memset(&v, 0, sizeof v);
    psnap_thread_cols[cswcol[i]].get(s, &v);
    CHECK(csw[i] < 0 ? v.type == PSNAP_NULL : v.type == PSNAP_INT && v.i == csw[i]);
  }
  run(s, PSNAP_COL_CPUS_ALLOWED, &v);
  if (ss->cpus && ss->cpus_len > 0)
    CHECK(is_text(&v, ss->cpus, ss->cpus_len) && v.s >= d && v.s + v.n <= d + size);
  else
    CHECK(v.type == PSNAP_NULL);
  run(s, PSNAP_COL_HGROUPS, &v);
  if (!ss->groups) {
    CHECK(v.type == PSNAP_NULL);
  } else if (strict) {
    /* each gid once, ascending; whole entries up to PSNAP_GROUPS_MAX
       bytes, then ",+N" for the N left out */
    static char gw[PSNAP_GROUPS_MAX + 32];
    uint32_t *gs = malloc((ss->groups_len + 1) * sizeof *gs);
    CHECK(gs);
    size_t ng = 0, wl = 0, i;
    const char *p = ss->groups, *end = p + ss->groups_len;
    for (;;) {
      while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) p++;
      if (p >= end || *p < '0' || *p > '9') break;
      unsigned long long g = 0;
      for (; p < end && *p >= '0' && *p <= '9'; p++) g = fuzz_digit(g, *p);
      size_t at = 0; /* insertion into the sorted distinct gids */
      while (at < ng && gs[at] < (uint32_t)g) at++;
      if (at < ng && gs[at] == (uint32_t)g) continue;
      memmove(gs + at + 1, gs + at, (ng - at) * sizeof *gs);
      gs[at] = (uint32_t)g;
      ng++;
    }
    for (i = 0; i < ng; i++) {
      char num[16];
      int k = snprintf(num, sizeof num, "%u", gs[i]);
      if (wl + (wl > 0) + (size_t)k > PSNAP_GROUPS_MAX) break;
      wl += (size_t)snprintf(gw + wl, sizeof gw - wl, "%s%s", wl ? "," : "", num);
    }
    if (i < ng) wl += (size_t)snprintf(gw + wl, sizeof gw - wl, ",+%zu", ng - i);
    free(gs);
    CHECK(is_text(&v, gw, wl) && v.s[v.n] == '\0');
  }
  run(s, PSNAP_COL_SECCOMP, &v);
  static const char *const mode[] = {"disabled", "strict", "filter"};
  if (ss->seccomp < 0)
    CHECK(v.type == PSNAP_NULL);
  else {
    const char *m = ss->seccomp <= 2 ? mode[ss->seccomp] : "?";
    CHECK(is_text(&v, m, strlen(m)));
  }
  run(s, PSNAP_COL_NOPRIV, &v);
  CHECK(ss->nonewprivs < 0 ? v.type == PSNAP_NULL : v.type == PSNAP_INT && v.i == ss->nonewprivs);
  run(s, PSNAP_COL_SECCOMP_FILTERS, &v);
  CHECK(ss->seccomp_filters < 0 ? v.type == PSNAP_NULL : v.type == PSNAP_INT && v.i == ss->seccomp_filters);
  run(s, PSNAP_COL_RSS, &v);
  CHECK(v.type == PSNAP_INT && v.i == (ss->vmrss > 0 ? ss->vmrss : 0));
  static const int capcol[5] = {PSNAP_COL_CAPINH, PSNAP_COL_CAPPRM, PSNAP_COL_CAPEFF, PSNAP_COL_CAPBND,
                                PSNAP_COL_CAPAMB};
  for (int i = 0; i < 5; i++) {
    run(s, capcol[i], &v);
    if (!(ss->have_cap >> i & 1)) {
      CHECK(v.type == PSNAP_NULL);
    } else if (strict) {
      size_t wl = psnap_caps_format(&capnames, ss->cap[i], want, sizeof want);
      CHECK(is_text(&v, want, wl) && v.s[v.n] == '\0');
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) {
    CHECK(psnap_capnames_init(&capnames) == 0);
    ready = 1;
  }
  const char *d = (const char *)data;
  struct psnap_status ss;
  CHECK(psnap_parse_status(d, size, &ss) == 0);

  unsigned total = 0;
  for (unsigned fail_at = 0; fail_at == 0 || fail_at <= total; fail_at++) {
    static struct psnap s; /* large (maps, tables): not on the stack */
    memset(&s, 0, sizeof s);
    s.caps = &capnames; /* built once above, as caps_of() would */
    fuzz_alloc_reset(fail_at);
    check_all(&s, d, size, &ss, fail_at == 0);
    if (fail_at == 0)
      total = fuzz_alloc_count;
    else
      CHECK(fuzz_alloc_failed == 1);
    psnap_set_allocator(NULL, NULL, NULL);
    psnap_buf_free(&s.scratch);
    s.caps = NULL;
  }
  return 0;
}
