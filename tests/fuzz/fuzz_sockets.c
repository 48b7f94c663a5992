/*
** fuzz_sockets.c: the parsers of src/sockets.c and src/fds.c on arbitrary
** bytes: a /proc/PID/net/ table (psnap_socktab_add, psnap_socktab_settle,
** psnap_socktab_find, the names and address text), sock_diag's answers
** (psnap_socktab_add_unix_diag), the same bytes as fdinfo
** (psnap_parse_fdinfo) and as an fd's link text (psnap_fd_classify), and a
** flags value (psnap_fd_flags_format). The table is parsed once normally,
** then with each of its allocations failing in turn.
**
** Input: byte 0 picks the table (modulo the number of kinds) and, by
** byte 0 / 13 modulo 3, the mode: 0 the rest is a table's text; 1 the rest
** is one recv() of sock_diag's answer; 2 the rest describes unix sockets
** (records(), below), which are printed as unix_seq_show prints them and
** parsed back. Bytes 1-8 are a flags value, byte 9 an output size for its
** text.
**
** Invariants, mode 0: psnap_socktab_add gives 0 (-ENOMEM only when an
** allocation failed); a reference parser written from the format comments
** in sockets.c (one line at a time, the first line and a last line without
** '\n' never rows) accepts the same lines with the same fields. Tables but
** unix: an inode one accepted line claims is found with one claim and
** those fields, an inode two claim is ambiguous (2), others are not found.
** unix: a reference written from the top of sockets.c (every earlier line
** tried, not one pass) says which lines are certain and which doubtful,
** which claim wins on each inode, and where each name ends (and before
** which doubtful line); settle asks only about uncontested doubtful lines
** (a deterministic answer per inode) and keeps a path only when its line
** stood; each path is bytes of the text. Mode 1: answers parse or fail
** with -EPROTO or the error they carry; rows hold what the messages say.
** Mode 2, the property sockets.c promises: with every socket printed held
** and nothing else, each inode's row, when it has one, is that socket's
** type and state, its path the whole name or none; no inode that no
** socket has gets a row that is not doubtful. Names come from the
** documented lists; flags text has the length returned, is cut to the
** buffer, and starts with the access mode.
*/
#include <errno.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

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

/* 1 and e filled when the line reads as a row of a kind-table, inode 0 too. */
static int ref_row(int kind, const char *p, size_t len, struct psnap_sockent *e) {
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
    if (after < p + len) { /* one space, then the name, at most sun_path's 108 bytes on the line */
      if (p + len - after - 1 > 108) return 0;
      e->named = 1;
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
  return 1;
}

/* 1 and e filled when the line is a row of a kind-table (inode not 0). */
static int ref_line(int kind, const char *p, size_t len, struct psnap_sockent *e) {
  if (ref_row(kind, p, len, e) && e->inode != 0) return 1;
  memset(e, 0, sizeof *e);
  e->lport = e->rport = -1;
  return 0;
}

static int same_fields(const struct psnap_sockent *x, const struct psnap_sockent *y) {
  return x->inode == y->inode && x->kind == y->kind && x->family == y->family && x->state == y->state &&
         x->type == y->type && x->lport == y->lport && x->rport == y->rport && memcmp(x->laddr, y->laddr, 16) == 0 &&
         memcmp(x->raddr, y->raddr, 16) == 0;
}
static int same(const struct psnap_sockent *x, const struct psnap_sockent *y) {
  return same_fields(x, y) && x->path_len == y->path_len;
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

/* ---- the unix text, as the top of sockets.c describes it ---- */

#define MAXL 512 /* lines of a unix table the reference follows (more: not checked) */
#define NAME_MAX_ 108u
enum { R_NONE, R_CERTAIN, R_DOUBTFUL };
struct uref {
  size_t nl;                   /* complete lines after the header */
  int cut;                     /* the text ends with a line without '\n' */
  const char *start[MAXL];     /* each line */
  size_t len[MAXL], eol[MAXL]; /* its length; the offset of its '\n' */
  int wf[MAXL];                /* it reads as a record's line */
  struct psnap_sockent row[MAXL];
  int cls[MAXL];         /* R_* */
  size_t name_len[MAXL]; /* its name's length when delimited (0: not) */
  uint64_t pivot[MAXL];  /* ... if the line of this inode is a record */
};

/* Follow the unix text: 1, or 0 when it has more lines than the reference follows. */
static int uref_build(struct uref *u, const char *buf, size_t size) {
  const char *p = memchr(buf, '\n', size), *end = buf + size;
  memset(u, 0, sizeof *u);
  if (!p) return 1;
  for (p++; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) {
      u->cut = 1;
      break;
    }
    if (u->nl == MAXL) return 0;
    size_t i = u->nl++;
    u->start[i] = p, u->len[i] = (size_t)(nl - p), u->eol[i] = (size_t)(nl - buf);
    u->wf[i] = ref_row(PSNAP_NET_UNIX, p, u->len[i], &u->row[i]);
    p = nl + 1;
  }
  /* which lines may start a record, which may lie in a name: every earlier line tried */
  int start_ok[MAXL];
  for (size_t k = 0; k < u->nl; k++) {
    int inside = 0;
    for (size_t r = 0; r < k && !inside; r++) {
      size_t name_start = (size_t)(u->start[r] - buf) + u->row[r].path_off;
      inside = start_ok[r] && u->row[r].named && u->eol[k] - name_start <= NAME_MAX_;
    }
    int prev_ends = k == 0 || (start_ok[k - 1] && !(u->row[k - 1].named && u->row[k - 1].path_len == 0)) ||
                    u->cls[k - 1] == R_DOUBTFUL || u->cls[k - 1] == -1;
    start_ok[k] = u->wf[k] && prev_ends;
    u->cls[k] = start_ok[k] ? (inside ? R_DOUBTFUL : R_CERTAIN) : inside ? -1 /* in a name */ : R_NONE;
  }
  /* where each record's name ends */
  for (size_t r = 0; r < u->nl; r++) {
    if (!start_ok[r] || !u->row[r].named) continue;
    size_t name_start = (size_t)(u->start[r] - buf) + u->row[r].path_off, end_at = u->eol[r];
    size_t k = r + 1;
    for (;; k++) {
      if (k == u->nl) {
        u->name_len[r] = u->cut ? 0 : end_at - name_start;
        break;
      }
      int fits = u->eol[k] - name_start <= NAME_MAX_;
      if (!fits) {
        u->name_len[r] = u->wf[k] ? end_at - name_start : 0;
        break;
      }
      if (u->wf[k]) {
        u->pivot[r] = u->row[k].inode;
        u->name_len[r] = u->row[k].inode ? end_at - name_start : 0;
        break;
      }
      end_at = u->eol[k];
    }
  }
  return 1;
}

/* What settle's callback answers (one inode in two, by inode), and how often it was asked. */
static unsigned asked_count;
static int fuzz_stands(void *ctx, uint64_t inode) {
  (void)ctx;
  asked_count++;
  return (int)((inode * 0x9E3779B97F4A7C15ull) >> 63);
}

/* A unix table against the reference: claims, their strength, paths, after settling. */
static void check_unix(struct psnap_socktab *t, const char *buf, size_t size) {
  static struct uref u;
  if (!uref_build(&u, buf, size)) return;
  /* before settling: the strongest line on each inode, or ambiguity */
  for (size_t i = 0; i < u.nl; i++) {
    if (u.cls[i] != R_CERTAIN && u.cls[i] != R_DOUBTFUL) continue;
    if (!u.row[i].inode) continue;
    int best = R_DOUBTFUL, n = 0;
    for (size_t j = 0; j < u.nl; j++)
      if ((u.cls[j] == R_CERTAIN || u.cls[j] == R_DOUBTFUL) && u.row[j].inode == u.row[i].inode) {
        if (u.cls[j] < best) best = u.cls[j], n = 0;
        n += u.cls[j] == best;
      }
    int c;
    const struct psnap_sockent *e = psnap_socktab_find(t, u.row[i].inode, &c);
    CHECK(e && e->claim == (best == R_CERTAIN ? PSNAP_CLAIM_CERTAIN : PSNAP_CLAIM_DOUBTFUL));
    CHECK(c == (n > 1 ? 2 : 1));
    if (n == 1 && u.cls[i] == best) {
      CHECK(same_fields(e, &u.row[i]) && e->pivot == u.pivot[i]);
      CHECK(e->path_len == u.name_len[i]);
      CHECK(e->path_len == 0 || memcmp(t->pool + e->path_off, u.start[i] + u.row[i].path_off, e->path_len) == 0);
    }
  }
  for (size_t i = 0; i < t->n; i++)
    CHECK(t->e[i].claim == PSNAP_CLAIM_CERTAIN || t->e[i].claim == PSNAP_CLAIM_DOUBTFUL);
  size_t doubtful = 0;
  for (size_t i = 0; i < u.nl; i++) doubtful += u.cls[i] == R_DOUBTFUL;
  CHECK(psnap_unix_text_doubtful(buf, size) == doubtful);
  /* settling: asked only about uncontested doubtful lines; paths kept when their pivot stood */
  size_t want_asks = 0;
  for (size_t i = 0; i < t->n; i++) want_asks += t->e[i].claim == PSNAP_CLAIM_DOUBTFUL && !t->e[i].ambiguous;
  struct psnap_sockent *before = malloc((t->n ? t->n : 1) * sizeof *before);
  CHECK(before);
  if (t->n) memcpy(before, t->e, t->n * sizeof *before);
  asked_count = 0;
  CHECK(psnap_socktab_settle(t, fuzz_stands, NULL) == 0);
  CHECK(asked_count == want_asks);
  for (size_t i = 0; i < t->n; i++) {
    const struct psnap_sockent *b = &before[i], *e = &t->e[i];
    int stood = b->claim == PSNAP_CLAIM_DOUBTFUL && !b->ambiguous && (b->inode * 0x9E3779B97F4A7C15ull) >> 63;
    CHECK(e->claim == (stood ? PSNAP_CLAIM_STOOD : b->claim));
    CHECK(e->pivot == 0);
    if (b->pivot) {
      int c;
      const struct psnap_sockent *pv = psnap_socktab_find(t, b->pivot, &c);
      CHECK(e->path_len == (pv && pv->claim == PSNAP_CLAIM_STOOD ? b->path_len : 0));
    } else {
      CHECK(e->path_len == b->path_len);
    }
  }
  free(before);
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
    if (ok && !first && nl && checked < 256 && kind != PSNAP_NET_UNIX) {
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

/* ---- mode 1: sock_diag's answers ---- */

/* rc and the rows of one recv() of answers against a walk of its messages. */
static void check_diag(const struct psnap_socktab *t, int rc, const unsigned char *p, size_t len) {
  CHECK(rc == 0 || rc == 1 || (rc < 0 && rc > -4096 && rc != -ENOMEM));
  for (size_t i = 0; i < t->n; i++) {
    const struct psnap_sockent *e = &t->e[i];
    CHECK(e->claim == PSNAP_CLAIM_KERNEL && e->family == PSNAP_AF_UNIX && e->kind == PSNAP_NET_UNIX && e->inode);
    CHECK(e->path_len <= PSNAP_UNIX_NAME_MAX + 1 && (size_t)e->path_off + e->path_len <= t->pool_len);
    CHECK(e->path_len == 0 || memchr(t->pool + e->path_off, '\0', e->path_len) == NULL);
    CHECK(e->state == 1 || e->state == 7 || e->state == 10);
  }
  /* every whole unix message before the end (or the first malformed one) has its row */
  while (rc >= 0 && len >= sizeof(struct nlmsghdr)) {
    struct nlmsghdr h;
    memcpy(&h, p, sizeof h);
    if (h.nlmsg_len < sizeof h || h.nlmsg_len > len || h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR) break;
    struct unix_diag_msg m;
    if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY && h.nlmsg_len >= NLMSG_LENGTH(sizeof m)) {
      memcpy(&m, p + NLMSG_HDRLEN, sizeof m);
      int c;
      const struct psnap_sockent *e = psnap_socktab_find(t, m.udiag_ino, &c);
      if (m.udiag_family == AF_UNIX && m.udiag_ino) CHECK(e && e->type == m.udiag_type);
    }
    size_t step = NLMSG_ALIGN(h.nlmsg_len);
    if (step > len) break;
    p += step, len -= step;
  }
}

/* ---- mode 2: unix sockets printed as unix_seq_show prints them ---- */

#define MAXREC 64
struct rec {
  uint64_t inode; /* 0: a socket no file holds yet */
  uint16_t type;
  uint8_t state; /* what sockets.c must read: 10, 1, 7 */
  char name[PSNAP_UNIX_NAME_MAX];
  size_t name_len; /* as printed; 0: unbound */
};

/*
** The records an input describes, each: a byte of flags (bit 0 listening,
** bits 1-2 St - 1, bits 3-4 the type (stream, dgram, seqpacket), bit 5
** bound, bit 6 abstract, bit 7 inode 0), a byte L, and when bound the
** name's L % 108 + 1 bytes. Inodes are 1001 and on, in order. Printed
** into out: its length.
*/
static size_t records(const uint8_t *d, size_t n, struct rec *r, size_t *nr, char *out, size_t cap) {
  static const uint16_t types[] = {1, 2, 5};
  size_t o = (size_t)snprintf(out, cap, "Num       RefCount Protocol Flags    Type St Inode Path\n");
  *nr = 0;
  while (n >= 2 && *nr < MAXREC) {
    struct rec *x = &r[(*nr)++];
    uint8_t f = d[0], want = d[1];
    d += 2, n -= 2;
    unsigned st = ((f >> 1) & 3u) + 1;
    x->inode = f & 0x80 ? 0 : 1000 + *nr;
    x->type = types[((f >> 3) & 3u) % 3];
    x->state = f & 1 ? 10 : st == 2 || st == 3 ? 1 : 7;
    x->name_len = 0;
    if (f & 0x20) { /* the name's next bytes of the input, after '@' (the NUL of an abstract name) */
      size_t k = want % PSNAP_UNIX_NAME_MAX + 1, i = 0;
      if (k > n) k = n;
      if (f & 0x40) x->name[i++] = '@';
      for (size_t j = 0; j < k && i < PSNAP_UNIX_NAME_MAX; j++) x->name[i++] = d[j] ? (char)d[j] : f & 0x40 ? '@' : 'x';
      d += k, n -= k;
      x->name_len = i; /* a path has no NUL: 'x' for one */
    }
    o += (size_t)snprintf(out + o, cap - o, "%016llx: %08X %08X %08X %04X %02X %5llu",
                          (unsigned long long)(x->inode * 0x9E3779B97F4A7C15ull), 2u, 0u, f & 1 ? 0x10000u : 0u,
                          x->type, st, (unsigned long long)x->inode);
    if (x->name_len) {
      out[o++] = ' ';
      memcpy(out + o, x->name, x->name_len);
      o += x->name_len;
    }
    out[o++] = '\n';
  }
  return o;
}

static const struct rec *rec_of(const struct rec *r, size_t nr, uint64_t inode) {
  for (size_t i = 0; i < nr; i++)
    if (r[i].inode == inode && inode) return &r[i];
  return NULL;
}

/* The census of mode 2: every socket printed is held, nothing else is. */
static const struct rec *held_r;
static size_t held_n;
static int held(void *ctx, uint64_t inode) {
  (void)ctx;
  return rec_of(held_r, held_n, inode) != NULL;
}

/* What sockets.c promises of a unix table, on one printed the kernel's way. */
static void check_records(const uint8_t *d, size_t n) {
  static struct rec r[MAXREC];
  static char text[MAXREC * 200 + 128];
  size_t nr, len = records(d, n, r, &nr, text, sizeof text);
  struct psnap_socktab t = {0};
  CHECK(psnap_socktab_add(&t, PSNAP_NET_UNIX, text, len) == 0);
  held_r = r, held_n = nr;
  CHECK(psnap_socktab_settle(&t, held, NULL) == 0);
  for (size_t i = 0; i < t.n; i++) {
    const struct psnap_sockent *e = &t.e[i];
    const struct rec *x = rec_of(r, nr, e->inode);
    if (!x) {
      CHECK(e->claim == PSNAP_CLAIM_DOUBTFUL); /* a line no socket printed never answers */
      continue;
    }
    if (e->ambiguous || e->claim == PSNAP_CLAIM_DOUBTFUL) continue; /* hidden */
    CHECK(e->type == x->type && e->state == x->state && e->family == PSNAP_AF_UNIX);
    CHECK(e->path_len == 0 || (e->path_len == x->name_len && memcmp(t.pool + e->path_off, x->name, x->name_len) == 0));
  }
  /* the first socket's line is the kernel's, and with nothing forged every row and name reads */
  if (nr && r[0].inode) {
    int c;
    const struct psnap_sockent *e = psnap_socktab_find(&t, r[0].inode, &c);
    CHECK(e && e->claim != PSNAP_CLAIM_DOUBTFUL);
  }
  int plain = 1;
  for (size_t i = 0; i < nr; i++) plain &= memchr(r[i].name, '\n', r[i].name_len) == NULL;
  for (size_t i = 0; plain && i < nr; i++) {
    int c;
    const struct psnap_sockent *e = r[i].inode ? psnap_socktab_find(&t, r[i].inode, &c) : NULL;
    if (!r[i].inode) continue;
    CHECK(e && c == 1 && e->claim != PSNAP_CLAIM_DOUBTFUL);
    /* a name is lost only where the next line is a socket's of inode 0 */
    if (r[i].name_len && e->path_len == 0) CHECK(i + 1 < nr && r[i + 1].inode == 0);
  }
  psnap_socktab_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *d = data;
  size_t n = size;
  unsigned first = (unsigned)fuzz_take(&d, &n, 1);
  int kind = (int)(first % PSNAP_NET__COUNT), mode = (int)(first / PSNAP_NET__COUNT % 3);
  long long flags = (long long)fuzz_take(&d, &n, 8);
  size_t cap = (size_t)fuzz_take(&d, &n, 1);
  const char *buf = (const char *)d;
  check_fd_parsers(buf, n, flags, cap);
  if (mode == 2) {
    check_records(d, n);
    return 0;
  }
  unsigned total = 0;
  for (unsigned fail_at = 0; fail_at == 0 || fail_at <= total; fail_at++) {
    fuzz_alloc_reset(fail_at);
    struct psnap_socktab t = {0};
    int rc = mode == 1 ? psnap_socktab_add_unix_diag(&t, buf, n) : psnap_socktab_add(&t, kind, buf, n);
    if (fail_at == 0) {
      total = fuzz_alloc_count;
      psnap_set_allocator(NULL, NULL, NULL);
      if (mode == 1) {
        check_diag(&t, rc, d, n);
      } else {
        CHECK(rc == 0);
        check_table(&t, kind, buf, n);
        if (kind == PSNAP_NET_UNIX) check_unix(&t, buf, n);
      }
    } else {
      CHECK(fuzz_alloc_failed == 1 && rc == -ENOMEM);
    }
    psnap_socktab_free(&t);
    CHECK(t.e == NULL && t.slot == NULL && t.pool == NULL && t.n == 0);
  }
  psnap_set_allocator(NULL, NULL, NULL);
  return 0;
}
