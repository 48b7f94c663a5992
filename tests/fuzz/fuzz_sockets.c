/*
** fuzz_sockets.c: the parsers of src/sockets.c and src/fds.c on arbitrary
** bytes: a /proc/PID/net/ table (psnap_socktab_add, psnap_socktab_find,
** the names and address text), the same bytes as fdinfo
** (psnap_parse_fdinfo) and as an fd's link text (psnap_fd_classify), and a
** flags value (psnap_fd_flags_format). The table is parsed once normally,
** then with each of its allocations failing in turn.
**
** Input: byte 0 picks the table (modulo the number of kinds), bytes 1-8 are
** a flags value, byte 9 an output size for its text; the rest is the text.
**
** Invariants: psnap_socktab_add gives 0 (-ENOMEM only when an allocation
** failed); a reference parser written from the format comments in
** sockets.c (one line at a time, the first line and a last line without
** '\n' never rows) accepts the same lines with the same fields; an inode
** one accepted line claims is found with one claim and those fields, an
** inode two claim is ambiguous (2), others are not found; unix paths are
** the line's bytes after the inode and one space; names come from the
** documented lists; flags text has the length returned, is cut to the
** buffer, and starts with the access mode.
*/
#include <errno.h>

#include "fdparse.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the reference: tokens separated by runs of ' ' ---- */

#define MAXTOK 16
struct line {
  const char *w[MAXTOK];
  size_t n[MAXTOK];
  int count;
  const char *end_of[MAXTOK]; /* where each word ends */
};

static void split(const char *p, size_t len, struct line *l) {
  const char *end = p + len;
  l->count = 0;
  while (l->count < MAXTOK) {
    while (p < end && *p == ' ') p++;
    if (p >= end) break;
    l->w[l->count] = p;
    while (p < end && *p != ' ') p++;
    l->n[l->count] = (size_t)(p - l->w[l->count]);
    l->end_of[l->count] = p;
    l->count++;
  }
}

static int rhex(const char *w, size_t n, uint64_t *v) {
  if (n == 0 || n > 16) return 0;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    char c = w[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return 0;
    x = x * 16 + (uint64_t)d;
  }
  *v = x;
  return 1;
}

static int rdec(const char *w, size_t n, uint64_t *v) {
  if (n == 0 || n > 20) return 0;
  unsigned __int128 x = 0;
  for (size_t i = 0; i < n; i++) {
    if (w[i] < '0' || w[i] > '9') return 0;
    x = x * 10 + (unsigned)(w[i] - '0');
  }
  if (x > UINT64_MAX) return 0;
  *v = (uint64_t)x;
  return 1;
}

static int v6kind(int k) {
  return k == PSNAP_NET_TCP6 || k == PSNAP_NET_UDP6 || k == PSNAP_NET_UDPLITE6 || k == PSNAP_NET_RAW6 ||
         k == PSNAP_NET_ICMP6;
}

/* "HEX:PORT" with 8 (32) address digits and 1-4 port digits. */
static int raddr(const char *w, size_t n, int v6, uint8_t a[16], int64_t *port) {
  size_t d = v6 ? 32 : 8;
  uint64_t x, p;
  if (n < d + 2 || n > d + 5 || w[d] != ':' || !rhex(w + d + 1, n - d - 1, &p)) return 0;
  for (size_t i = 0; i < d / 8; i++) {
    if (!rhex(w + 8 * i, 8, &x)) return 0;
    uint32_t u = (uint32_t)x;
    memcpy(a + 4 * i, &u, 4);
  }
  *port = (int64_t)p;
  return 1;
}

/* 1 and e filled when the line is a row of a kind-table. */
static int ref_line(int kind, const char *p, size_t len, struct psnap_sockent *e) {
  struct line l;
  uint64_t v, a, b, c;
  memset(e, 0, sizeof *e);
  e->lport = e->rport = -1;
  split(p, len, &l);
  if (kind == PSNAP_NET_UNIX) {
    if (l.count < 7 || l.n[0] < 2 || l.w[0][l.n[0] - 1] != ':' || !rhex(l.w[0], l.n[0] - 1, &v)) return 0;
    if (!rhex(l.w[1], l.n[1], &v) || !rhex(l.w[2], l.n[2], &v) || !rhex(l.w[3], l.n[3], &a) ||
        !rhex(l.w[4], l.n[4], &b) || !rhex(l.w[5], l.n[5], &c) || b > 0xffff || !rdec(l.w[6], l.n[6], &e->inode))
      return 0;
    const char *after = l.end_of[6];
    if (after < p + len) { /* one space, then the path */
      e->path_off = (uint32_t)(after + 1 - p);
      e->path_len = (uint32_t)(p + len - after - 1);
    }
    e->family = PSNAP_AF_UNIX;
    e->type = (uint16_t)b;
    e->state = (a & 0x10000) ? 10 : (c == 2 || c == 3) ? 1 : 7;
  } else if (kind == PSNAP_NET_NETLINK) {
    if (l.count < 10 || !rhex(l.w[0], l.n[0], &v) || !rdec(l.w[1], l.n[1], &a) || !rdec(l.w[2], l.n[2], &b) ||
        a > 0xffff || b > 0xffffffffu || !rdec(l.w[9], l.n[9], &e->inode))
      return 0;
    e->family = PSNAP_AF_NETLINK;
    e->type = (uint16_t)a;
    e->lport = (int64_t)b;
  } else if (kind == PSNAP_NET_PACKET) {
    if (l.count < 9 || !rhex(l.w[0], l.n[0], &v) || !rdec(l.w[1], l.n[1], &v) || !rdec(l.w[2], l.n[2], &a) ||
        a > 0xffff || !rdec(l.w[8], l.n[8], &e->inode))
      return 0;
    e->family = PSNAP_AF_PACKET;
    e->type = (uint16_t)a;
  } else {
    int v6 = v6kind(kind);
    if (l.count < 10 || l.n[0] < 2 || l.w[0][l.n[0] - 1] != ':' || !rdec(l.w[0], l.n[0] - 1, &v)) return 0;
    if (!raddr(l.w[1], l.n[1], v6, e->laddr, &e->lport) || !raddr(l.w[2], l.n[2], v6, e->raddr, &e->rport)) return 0;
    if (!rhex(l.w[3], l.n[3], &a) || a > 0xff || !rdec(l.w[9], l.n[9], &e->inode)) return 0;
    e->state = (uint8_t)a;
    e->family = v6 ? PSNAP_AF_INET6 : PSNAP_AF_INET;
  }
  e->kind = (uint8_t)kind;
  return e->inode != 0;
}

static int same(const struct psnap_sockent *x, const struct psnap_sockent *y) {
  return x->inode == y->inode && x->kind == y->kind && x->family == y->family && x->state == y->state &&
         x->type == y->type && x->lport == y->lport && x->rport == y->rport && x->path_len == y->path_len &&
         memcmp(x->laddr, y->laddr, 16) == 0 && memcmp(x->raddr, y->raddr, 16) == 0;
}

static const char *const states[] = {"ESTABLISHED", "SYN_SENT",     "SYN_RECV",      "FIN_WAIT1", "FIN_WAIT2",
                                     "TIME_WAIT",   "CLOSE",        "CLOSE_WAIT",    "LAST_ACK",  "LISTEN",
                                     "CLOSING",     "NEW_SYN_RECV", "BOUND_INACTIVE"};

static void check_names(const struct psnap_sockent *e) {
  const char *s = psnap_sock_state_name(e);
  if (s) {
    int known = 0;
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) known |= strcmp(s, states[i]) == 0;
    CHECK(known);
    CHECK(e->family == PSNAP_AF_INET || e->family == PSNAP_AF_INET6 || e->family == PSNAP_AF_UNIX);
  }
  CHECK(psnap_sock_family_name(e->family) != NULL);
  char a[64];
  size_t n = psnap_sock_addr_format(e->family, e->laddr, a, sizeof a);
  CHECK(n == strlen(a) && n < sizeof a);
  CHECK(n == 0 || e->family == PSNAP_AF_INET || e->family == PSNAP_AF_INET6);
  size_t m = psnap_sock_addr_format(e->family, e->laddr, a, 3); /* "::" fits, others do not */
  CHECK(m == 0 || (m == n && m < 3));
}

/* Compare the table with the reference, line by line. */
static void check_table(const struct psnap_socktab *t, int kind, const char *buf, size_t size) {
  size_t lines = 0, checked = 0;
  const char *p = buf, *end = buf + size;
  int first = 1;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    struct psnap_sockent r, l;
    int ok = ref_line(kind, p, (size_t)(eol - p), &r);
    int lib = psnap_parse_sock_line(kind, p, (size_t)(eol - p), &l);
    CHECK(ok == lib);
    if (ok) {
      CHECK(same(&r, &l) && l.path_off == r.path_off);
      check_names(&l);
    }
    if (ok && !first && nl && checked < 256) {
      checked++;
      /* how many counted lines claim this inode */
      int claims = 0;
      const char *q = buf;
      int f2 = 1;
      while (q < end && claims < 2) {
        const char *n2 = memchr(q, '\n', (size_t)(end - q));
        struct psnap_sockent x;
        if (!f2 && n2 && ref_line(kind, q, (size_t)(n2 - q), &x) && x.inode == r.inode) claims++;
        f2 = 0;
        q = (n2 ? n2 : end) + 1;
      }
      int got;
      const struct psnap_sockent *e = psnap_socktab_find(t, r.inode, &got);
      CHECK(e && got == claims && e->inode == r.inode);
      if (claims == 1) {
        CHECK(same(e, &r));
        CHECK((size_t)e->path_off + e->path_len <= t->pool_len);
        CHECK(e->path_len == 0 || memcmp(t->pool + e->path_off, p + r.path_off, e->path_len) == 0);
      }
    }
    if (!first && nl) lines++;
    first = 0;
    p = eol + 1;
  }
  CHECK(t->n <= lines);
  for (size_t i = 0; i < t->n; i++) CHECK(t->e[i].inode != 0 && t->e[i].kind == kind);
  int c;
  CHECK(psnap_socktab_find(t, 0, &c) == NULL && c == 0);
}

static void check_fd_parsers(const char *buf, size_t size, long long flags, size_t cap) {
  struct psnap_fdinfo fi;
  psnap_parse_fdinfo(buf, size, &fi);
  CHECK(fi.flags >= -1 && fi.mnt_id >= -1 && (fi.tty == 0 || fi.tty == 1));
  unsigned long long ino;
  int del;
  int ty = psnap_fd_classify(buf, size, &fi, &ino, &del);
  CHECK(ty >= 0 && ty < PSNAP_FD__COUNT && psnap_fd_type_name(ty) != NULL);
  CHECK(del == 0 || (size > 10 && buf[0] == '/' && memcmp(buf + size - 10, " (deleted)", 10) == 0));
  if (ty == PSNAP_FD_SOCKET) CHECK(size > 9 && memcmp(buf, "socket:[", 8) == 0 && buf[size - 1] == ']');
  ty = psnap_fd_classify(buf, size, NULL, &ino, &del);
  CHECK(ty != PSNAP_FD_DIR || (size >= 1 && buf[0] == '/'));
  char big[512], small[64];
  size_t n = psnap_fd_flags_format(flags, big, sizeof big);
  CHECK(n < sizeof big && strlen(big) == n);
  CHECK(flags < 0 ? n == 0 : strncmp(big, "O_", 2) == 0);
  if (cap > sizeof small) cap = sizeof small;
  size_t m = psnap_fd_flags_format(flags, small, cap);
  CHECK(m == n);
  if (cap) CHECK(strlen(small) == (n < cap ? n : cap - 1) && memcmp(small, big, strlen(small)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *d = data;
  size_t n = size;
  int kind = (int)(fuzz_take(&d, &n, 1) % PSNAP_NET__COUNT);
  long long flags = (long long)fuzz_take(&d, &n, 8);
  size_t cap = (size_t)fuzz_take(&d, &n, 1);
  const char *buf = (const char *)d;
  check_fd_parsers(buf, n, flags, cap);
  unsigned total = 0;
  for (unsigned fail_at = 0; fail_at == 0 || fail_at <= total; fail_at++) {
    fuzz_alloc_reset(fail_at);
    struct psnap_socktab t = {0};
    int rc = psnap_socktab_add(&t, kind, buf, n);
    if (fail_at == 0) {
      total = fuzz_alloc_count;
      CHECK(rc == 0);
      psnap_set_allocator(NULL, NULL, NULL);
      check_table(&t, kind, buf, n);
    } else {
      CHECK(fuzz_alloc_failed == 1 && rc == -ENOMEM);
    }
    psnap_socktab_free(&t);
    CHECK(t.e == NULL && t.slot == NULL && t.pool == NULL && t.n == 0);
  }
  psnap_set_allocator(NULL, NULL, NULL);
  return 0;
}
