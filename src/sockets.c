/*
** sockets.c: the socket tables of a network namespace, /proc/PID/net/tcp,
** tcp6, udp, udp6, udplite, udplite6, raw, raw6, icmp, icmp6, unix,
** netlink and packet, parsed into rows found by inode; and the unix
** sockets of sock_diag's answers (sockdiag.c asks).
**
** Everything here is pure: bytes in, rows out. Each row is a claim on an
** inode, as strong as its source can be trusted (enum psnap_claim): a
** stronger claim replaces a weaker one, two of one strength make the inode
** ambiguous (it answers nothing).
**
** Sources. A diag socket answers for the namespace it was made in, and
** asking another one needs setns(CLONE_NEWNET) (CAP_SYS_ADMIN there, which
** the owner of a rootless container lacks); /proc/PID/net/ answers for
** PID's namespace to anyone who may read PID's fds. So every table is read
** as text, except the unix sockets of the caller's own namespace, which
** come from NETLINK_SOCK_DIAG (UDIAG_SHOW_NAME; any user may ask): exact,
** and cheaper. Measured (bench/unixsocks, 10,000 unix sockets, a quarter
** named): the text reads and parses in 7.8 ms, one dump in 2.3 ms.
**
** The unix text. unix_seq_show prints "%pK: %08X %08X %08X %04X %02X
** %5lu", then " " and the socket's name when it is bound (at most 108
** bytes, any byte but NUL, NULs of an abstract name as '@'), then '\n'. A
** name may hold newlines, and the text after one can be anything, a line
** that reads as a record too: a name "/a\nsock" cuts its own path to "/a",
** and "\0f\n<a record's line claiming inode X>" makes a row for X (a UDP
** socket of any namespace, someone's unix socket, a socket yet to be made)
** that the kernel never printed. The tables of other families hold no
** text a process chose, and the tcp, udp, netlink, ... tables of the
** namespace claim as PSNAP_CLAIM_KERNEL, so a unix line never changes the
** family, type or state of a socket they list.
**
** Which lines of the unix text are records. A line "reads as a record's
** line" when it parses as the header above (parse_unix; at most 108 bytes
** of name after the inode). A record ends at the end of its line when it
** has no name, else at the end of some line within 108 bytes of its name's
** start. Reading the text from the top, a line "may start a record" when
** it reads as a record's line and a record may end on the line before;
** it "may lie in a name" when it ends within 108 bytes of the start of a
** name on an earlier line that may start a record. Every line of the
** kernel's own records passes these (by induction from the first line
** after the header), so:
**   certain   may start a record and lies in no name: the kernel's record,
**             whatever any name holds (PSNAP_CLAIM_CERTAIN);
**   doubtful  may start a record and may lie in a name: the kernel's
**             record, or bytes of the name above (PSNAP_CLAIM_DOUBTFUL).
** A forged line is always doubtful, and so is any record whose line, with
** the name above it, fits in 108 bytes (a name of 40 bytes and an unnamed
** socket's line of 61): the text alone cannot tell them apart, as a forger
** can print the very bytes that a short name and the next socket print.
**
** What tells them apart (psnap_socktab_settle, with fds.c's census): the
** sockets. Before it reads a namespace's unix text again, fds.c lists the
** sockets its processes hold; a doubtful line stands (PSNAP_CLAIM_STOOD)
** when no other line claims its inode, a process of the namespace held a
** socket of that inode before the text was read (else a real one would be
** in the text, and claim it too), the socket is a unix socket by its
** fdinfo (scm_fds:), and it is not one of the caller's own namespace (which
** sock_diag lists). A doubtful line that does not stand answers nothing.
**
** Names. A record's name runs on over the lines that follow while they fit
** in its 108 bytes and none reads as a record's line; it ends before a
** record's line that no longer fits, or at the end of the text (a name
** "/a\nsock" reads whole). Where a line that fits reads as a record's line,
** the name ends before it only if that line's claim stood; else the path
** is NULL, as it is when the text is cut (a last line without '\n').
**
** So a forged line can hide a row (two lines claim one inode; a doubtful
** line that does not stand) or make a name NULL (its own, or that of the
** record above a real line that does not stand); it cannot change a row
** that another table, sock_diag or a certain line gives, nor give one to
** a socket whose namespace's unix table the statement has read (fds.c
** answers nothing where two namespaces' lines claim one inode), nor to one
** no process of the forger's namespace held, save in one case: a unix socket
** of a third namespace (neither the caller's nor one the statement has
** read when it looks the socket up) that a process of the forger's
** namespace holds (passed, or inherited across unshare): a line on its
** inode stands, gives it the forged row and cuts the forger's own name.
** What is lost where the text is read: the path of a socket whose name
** and the next line fit in 108 bytes when no process of the namespace
** holds the next line's socket (a connection accepted for a process of
** another namespace, one not accepted yet: inode 0), and that socket's
** row; on kernels before 5.7 (no scm_fds:) every doubtful line's.
**
** Names (one naming for every family, documented in ext/fds.c):
**   state   the kernel's TCP_* states without "TCP_" (include/net/tcp_states.h),
**           which are netstat's names for TCP: ESTABLISHED, SYN_SENT,
**           SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT,
**           LAST_ACK, LISTEN, CLOSING, NEW_SYN_RECV, BOUND_INACTIVE. UDP,
**           raw and ping sockets use the same numbers: ESTABLISHED when
**           connected, CLOSE when not (ss says ESTAB and UNCONN; netstat
**           leaves an unconnected UDP socket's state blank). A unix socket's
**           state is rebuilt as the kernel keeps it (and ss shows it): LISTEN
**           (flag __SO_ACCEPTCON), ESTABLISHED (St CONNECTING or CONNECTED),
**           else CLOSE. netlink and packet sockets have none (NULL).
**   proto   tcp, udp, udplite, raw, icmp (ping sockets) for inet and inet6;
**           a unix socket's type: stream, dgram, seqpacket; a netlink
**           socket's protocol as NETLINK_* names it, lower case without the
**           prefix (route, sock_diag, audit, kobject_uevent, generic, ...); a
**           packet socket's type: raw, dgram.
**   ports   the local and remote port of inet sockets; the protocol number
**           of a raw socket (the kernel prints it as its port); the port id
**           of a netlink socket.
*/
#include "fdparse.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

static const char *const net_files[PSNAP_NET__COUNT] = {
    [PSNAP_NET_TCP] = "tcp",       [PSNAP_NET_TCP6] = "tcp6",       [PSNAP_NET_UDP] = "udp",
    [PSNAP_NET_UDP6] = "udp6",     [PSNAP_NET_UDPLITE] = "udplite", [PSNAP_NET_UDPLITE6] = "udplite6",
    [PSNAP_NET_RAW] = "raw",       [PSNAP_NET_RAW6] = "raw6",       [PSNAP_NET_ICMP] = "icmp",
    [PSNAP_NET_ICMP6] = "icmp6",   [PSNAP_NET_UNIX] = "unix",       [PSNAP_NET_NETLINK] = "netlink",
    [PSNAP_NET_PACKET] = "packet",
};

/* The protocol of each inet table. */
static const char *const inet_protos[PSNAP_NET__COUNT] = {
    [PSNAP_NET_TCP] = "tcp",    [PSNAP_NET_TCP6] = "tcp",        [PSNAP_NET_UDP] = "udp",
    [PSNAP_NET_UDP6] = "udp",   [PSNAP_NET_UDPLITE] = "udplite", [PSNAP_NET_UDPLITE6] = "udplite",
    [PSNAP_NET_RAW] = "raw",    [PSNAP_NET_RAW6] = "raw",        [PSNAP_NET_ICMP] = "icmp",
    [PSNAP_NET_ICMP6] = "icmp",
};

/* include/net/tcp_states.h */
static const char *const tcp_states[] = {
    NULL,    "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",    "TIME_WAIT",
    "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV", "BOUND_INACTIVE",
};
enum { ST_ESTABLISHED = 1, ST_CLOSE = 7, ST_LISTEN = 10 };

/* include/uapi/linux/netlink.h: NETLINK_* by number (17 is unused) */
static const char *const netlink_protos[] = {
    "route",   "unused", "usersock",      "firewall",  "sock_diag", "nflog",  "xfrm",    "selinux",
    "iscsi",   "audit",  "fib_lookup",    "connector", "netfilter", "ip6_fw", "dnrtmsg", "kobject_uevent",
    "generic", NULL,     "scsitransport", "ecryptfs",  "rdma",      "crypto", "smc",
};

/* unix: the flag of a listening socket (include/uapi/linux/net.h), its St values */
#define UNIX_ACCEPTCON 0x10000u
enum { SS_CONNECTING_ = 2, SS_CONNECTED_ = 3 };

/* A table's file name below /proc/PID/net/, or NULL. */
const char *psnap_net_file(int kind) { return kind >= 0 && kind < PSNAP_NET__COUNT ? net_files[kind] : NULL; }

static int is_inet6(int kind) {
  return kind == PSNAP_NET_TCP6 || kind == PSNAP_NET_UDP6 || kind == PSNAP_NET_UDPLITE6 || kind == PSNAP_NET_RAW6 ||
         kind == PSNAP_NET_ICMP6;
}

/* ---- a bounded tokenizer for one line ---- */

struct tok {
  const char *p; /* next byte */
  const char *end;
};

/* The next space-separated word of the line: 1 with *w, *n set, 0 at the end. */
static int word(struct tok *t, const char **w, size_t *n) {
  while (t->p < t->end && *t->p == ' ') t->p++;
  if (t->p >= t->end) return 0;
  *w = t->p;
  while (t->p < t->end && *t->p != ' ') t->p++;
  *n = (size_t)(t->p - *w);
  return 1;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A whole word as hex (1 to 16 digits): 1 with *v, or 0. */
static int hex_word(const char *w, size_t n, uint64_t *v) {
  if (n == 0 || n > 16) return 0;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    int d = hexval(w[i]);
    if (d < 0) return 0;
    x = x << 4 | (uint64_t)d;
  }
  *v = x;
  return 1;
}

/* A whole word as an unsigned decimal that fits 64 bits: 1 with *v, or 0. */
static int dec_word(const char *w, size_t n, uint64_t *v) {
  if (n == 0 || n > 20) return 0;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (w[i] < '0' || w[i] > '9') return 0;
    if (__builtin_mul_overflow(x, 10u, &x) || __builtin_add_overflow(x, (uint64_t)(w[i] - '0'), &x)) return 0;
  }
  *v = x;
  return 1;
}

/* The next word as hex / decimal. */
static int next_hex(struct tok *t, uint64_t *v) {
  const char *w;
  size_t n;
  return word(t, &w, &n) && hex_word(w, n, v);
}
static int next_dec(struct tok *t, uint64_t *v) {
  const char *w;
  size_t n;
  return word(t, &w, &n) && dec_word(w, n, v);
}
/* The next word, whatever it holds. */
static int skip_word(struct tok *t) {
  const char *w;
  size_t n;
  return word(t, &w, &n);
}

/*
** An inet address and port, "0100007F:1F90" or 32 hex digits and a port.
** The kernel prints each 32-bit word of the address as a number in its own
** byte order (%08X of the __be32 word), so the bytes of each number as
** this machine stores it are the address in network order. 1, or 0.
*/
static int parse_addr(const char *w, size_t n, int v6, uint8_t addr[16], int64_t *port) {
  size_t digits = v6 ? 32 : 8;
  if (n < digits + 2 || w[digits] != ':') return 0;
  for (size_t i = 0; i < digits / 8; i++) {
    uint64_t x;
    if (!hex_word(w + 8 * i, 8, &x)) return 0;
    uint32_t word32 = (uint32_t)x;
    memcpy(addr + 4 * i, &word32, 4);
  }
  uint64_t p;
  if (n - digits - 1 > 4 || !hex_word(w + digits + 1, n - digits - 1, &p)) return 0;
  *port = (int64_t)p;
  return 1;
}

/*
** tcp, udp, raw, icmp and their 6 forms (proc(5), net/ipv4/tcp_ipv4.c):
**   sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
**    0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 12345 ...
*/
static int parse_inet(int kind, struct tok *t, struct psnap_sockent *e) {
  const char *w;
  size_t n;
  uint64_t v;
  int v6 = is_inet6(kind);
  if (!word(t, &w, &n) || n < 2 || w[n - 1] != ':' || !dec_word(w, n - 1, &v)) return 0; /* sl */
  if (!word(t, &w, &n) || !parse_addr(w, n, v6, e->laddr, &e->lport)) return 0;
  if (!word(t, &w, &n) || !parse_addr(w, n, v6, e->raddr, &e->rport)) return 0;
  if (!next_hex(t, &v) || v > 0xff) return 0; /* st */
  e->state = (uint8_t)v;
  for (int i = 0; i < 5; i++) /* tx:rx, tr:when, retrnsmt, uid, timeout */
    if (!skip_word(t)) return 0;
  if (!next_dec(t, &e->inode)) return 0;
  e->family = v6 ? PSNAP_AF_INET6 : PSNAP_AF_INET;
  return 1;
}

/*
** unix (net/unix/af_unix.c unix_seq_show):
**   Num       RefCount Protocol Flags    Type St Inode Path
**   0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/x.sock
** "%pK: %08X %08X %08X %04X %02X %5lu", then, when the socket is bound, " "
** and its name's bytes (NULs as '@': an abstract name starts with '@'),
** then '\n'. The name may hold newlines: this reads one line, the start of
** a record (add_unix_text() decides which lines are). 1 when the line reads
** as one, with e's fields (inode 0 too: a socket no file holds yet) and, when
** a name follows the inode (e->named), path_off and path_len: the part of
** the name on this line (0 bytes when the name starts with a newline).
*/
static int parse_unix(struct tok *t, const char *line, struct psnap_sockent *e) {
  const char *w;
  size_t n;
  uint64_t v, flags, type, st;
  if (!word(t, &w, &n) || n < 2 || w[n - 1] != ':' || !hex_word(w, n - 1, &v)) return 0; /* Num */
  if (!next_hex(t, &v) || !next_hex(t, &v)) return 0;                                    /* RefCount, Protocol */
  if (!next_hex(t, &flags) || !next_hex(t, &type) || !next_hex(t, &st) || type > 0xffff) return 0;
  if (!word(t, &w, &n) || !dec_word(w, n, &e->inode)) return 0;
  if (t->p < t->end) { /* one space, then the name to the end of the line */
    if ((size_t)(t->end - t->p - 1) > PSNAP_UNIX_NAME_MAX) return 0;
    e->named = 1;
    e->path_off = (uint32_t)(t->p + 1 - line);
    e->path_len = (uint32_t)(t->end - t->p - 1);
  }
  e->family = PSNAP_AF_UNIX;
  e->type = (uint16_t)type;
  e->state = flags & UNIX_ACCEPTCON                        ? ST_LISTEN
             : st == SS_CONNECTING_ || st == SS_CONNECTED_ ? ST_ESTABLISHED
                                                           : ST_CLOSE;
  return 1;
}

/*
** netlink (net/netlink/af_netlink.c):
**   sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode
**   0000000000000000 0   1          00000000 0        0        0     2        0        11911
*/
static int parse_netlink(struct tok *t, struct psnap_sockent *e) {
  uint64_t v, proto, portid;
  if (!next_hex(t, &v) || !next_dec(t, &proto) || !next_dec(t, &portid) || proto > 0xffff || portid > 0xffffffffu)
    return 0;
  for (int i = 0; i < 6; i++) /* Groups, Rmem, Wmem, Dump, Locks, Drops */
    if (!skip_word(t)) return 0;
  if (!next_dec(t, &e->inode)) return 0;
  e->family = PSNAP_AF_NETLINK;
  e->type = (uint16_t)proto;
  e->lport = (int64_t)portid;
  return 1;
}

/*
** packet (net/packet/af_packet.c):
**   sk               RefCnt Type Proto  Iface R Rmem   User   Inode
*/
static int parse_packet(struct tok *t, struct psnap_sockent *e) {
  uint64_t v, type;
  if (!next_hex(t, &v) || !next_dec(t, &v) || !next_dec(t, &type) || type > 0xffff) return 0;
  for (int i = 0; i < 5; i++) /* Proto, Iface, R, Rmem, User */
    if (!skip_word(t)) return 0;
  if (!next_dec(t, &e->inode)) return 0;
  e->family = PSNAP_AF_PACKET;
  e->type = (uint16_t)type;
  return 1;
}

/* One line of a kind-table into e: 1 when it reads as a row (inode 0 too), else 0 with e cleared. */
static int parse_line(int kind, const char *line, size_t len, struct psnap_sockent *e) {
  memset(e, 0, sizeof *e);
  e->lport = e->rport = -1;
  if (kind < 0 || kind >= PSNAP_NET__COUNT) return 0;
  e->kind = (uint8_t)kind;
  struct tok t = {line, line + len};
  int ok;
  if (kind == PSNAP_NET_UNIX)
    ok = parse_unix(&t, line, e);
  else if (kind == PSNAP_NET_NETLINK)
    ok = parse_netlink(&t, e);
  else if (kind == PSNAP_NET_PACKET)
    ok = parse_packet(&t, e);
  else
    ok = parse_inet(kind, &t, e);
  if (!ok) {
    memset(e, 0, sizeof *e);
    e->lport = e->rport = -1;
  }
  return ok;
}

/* Parse one line of a table (see fdparse.h): 1 for a socket row, else 0. */
int psnap_parse_sock_line(int kind, const char *line, size_t len, struct psnap_sockent *e) {
  if (parse_line(kind, line, len, e) && e->inode != 0) return 1;
  /* inode 0: a request or TIME_WAIT socket, a unix socket not accept()ed yet: no fd holds it */
  memset(e, 0, sizeof *e);
  e->lport = e->rport = -1;
  return 0;
}

/* ---- the rows of a namespace, by inode ---- */

static size_t slot_of(uint64_t inode, size_t nslots) {
  return (size_t)((inode * 0x9E3779B97F4A7C15ull) >> 32) & (nslots - 1);
}

/* The slot that holds inode, or the empty slot where it would go. */
static size_t probe(const struct psnap_socktab *t, uint64_t inode) {
  size_t i = slot_of(inode, t->nslots);
  while (t->slot[i] && t->e[t->slot[i] - 1].inode != inode) i = (i + 1) & (t->nslots - 1);
  return i;
}

/* Make room for one more row (and its slot): 0 or -ENOMEM. */
static int grow(struct psnap_socktab *t) {
  if (t->n == t->cap) {
    size_t ncap = t->cap ? t->cap * 2 : 256;
    if (ncap > UINT32_MAX / 2) return -ENOMEM;
    void *ne = psnap_realloc(t->e, ncap * sizeof *t->e);
    if (!ne) return -ENOMEM;
    t->e = ne;
    t->cap = ncap;
  }
  if (t->nslots > 2 * (t->n + 1)) return 0;
  size_t ns = t->nslots ? t->nslots * 2 : 512;
  while (ns <= 2 * (t->n + 1)) ns *= 2;
  uint32_t *slot = psnap_calloc(ns * sizeof *slot);
  if (!slot) return -ENOMEM;
  psnap_free(t->slot);
  t->slot = slot;
  t->nslots = ns;
  for (size_t k = 0; k < t->n; k++) t->slot[probe(t, t->e[k].inode)] = (uint32_t)(k + 1);
  return 0;
}

/* Keep a unix row's path (len bytes at src, none when 0) in the pool: 0 or -ENOMEM. */
static int keep_path(struct psnap_socktab *t, struct psnap_sockent *e, const char *src, size_t len) {
  e->path_off = e->path_len = 0;
  if (!len || t->pool_len + len > UINT32_MAX) return 0;
  if (t->pool_len + len > t->pool_cap) {
    size_t ncap = t->pool_cap ? t->pool_cap : 4096;
    while (ncap < t->pool_len + len) ncap *= 2;
    char *np = psnap_realloc(t->pool, ncap);
    if (!np) return -ENOMEM;
    t->pool = np;
    t->pool_cap = ncap;
  }
  memcpy(t->pool + t->pool_len, src, len);
  e->path_off = (uint32_t)t->pool_len;
  e->path_len = (uint32_t)len;
  t->pool_len += len;
  return 0;
}

/*
** Add one claim on e->inode, with its path (len bytes at path; none when
** 0). A claim of a stronger kind (e->claim, PSNAP_CLAIM_*) replaces a
** weaker one, a weaker one is dropped, and two of one kind make the inode
** ambiguous. 0 or -ENOMEM.
*/
static int claim(struct psnap_socktab *t, const struct psnap_sockent *e, const char *path, size_t len) {
  int rc = grow(t);
  if (rc < 0) return rc;
  size_t i = probe(t, e->inode);
  struct psnap_sockent *old = t->slot[i] ? &t->e[t->slot[i] - 1] : NULL;
  if (old && e->claim >= old->claim) {
    if (e->claim == old->claim) old->ambiguous = 1;
    return 0;
  }
  struct psnap_sockent n = *e;
  n.ambiguous = 0;
  rc = keep_path(t, &n, path, len);
  if (rc < 0) return rc;
  if (old) {
    *old = n;
  } else {
    t->e[t->n] = n;
    t->slot[i] = (uint32_t)++t->n;
  }
  return 0;
}

/*
** The length of a unix record's name, which starts at buf[start] on the
** record's line (ending at buf[eol]), or 0 when it cannot be delimited (see
** the top of this file). The lines after it join the name while they fit
** in PSNAP_UNIX_NAME_MAX bytes and none reads as a record's line; the name
** ends before a record's line that no longer fits, or where the whole text
** ends. When a line that fits reads as a record's line (its inode,
** *pivot), the name ends before it only if that line is a record: the
** length returned counts on it. A cut last line, a record's line of inode
** 0 that fits, or a line that neither fits nor reads as a record's line
** leave the name undelimited.
*/
static size_t unix_name(const char *buf, size_t len, size_t start, size_t eol, uint64_t *pivot) {
  size_t reach = start + PSNAP_UNIX_NAME_MAX, end = eol;
  const char *p = buf + eol + 1;
  *pivot = 0;
  for (;;) {
    if (p == buf + len) return end - start; /* the table ends with the record */
    const char *nl = memchr(p, '\n', (size_t)(buf + len - p));
    if (!nl) return 0; /* cut: it could go on */
    struct psnap_sockent e;
    int rec = parse_line(PSNAP_NET_UNIX, p, (size_t)(nl - p), &e);
    if ((size_t)(nl - buf) > reach) return rec ? end - start : 0; /* the next record, or not the kernel's text */
    if (rec) {                                                    /* a record, or more of this name */
      *pivot = e.inode;
      return e.inode ? end - start : 0;
    }
    end = (size_t)(nl - buf);
    p = nl + 1;
  }
}

/*
** The rows of a unix table (see the top of this file): each line that
** starts a record in some reading of the text claims its inode, as
** PSNAP_CLAIM_CERTAIN when no name begun above can hold it, else as
** PSNAP_CLAIM_DOUBTFUL; its path is its name when delimited. One pass: a
** line starts a record in some reading when it reads as a record's line
** and a record can end on the line before it; it lies inside a name in
** some reading when it ends within PSNAP_UNIX_NAME_MAX bytes of the start
** of a name on an earlier such line (reach). With t NULL only counts.
** *doubtful: the lines that claim as doubtful. 0 or -ENOMEM.
*/
static int unix_text(struct psnap_socktab *t, const char *buf, size_t len, size_t *doubtful) {
  const char *p = memchr(buf, '\n', len), *end = buf + len;
  int can_end = 1; /* a record can end with the line before p (the header's) */
  size_t reach = 0;
  int any = 0; /* reach is set */
  *doubtful = 0;
  if (!p) return 0;
  for (p++; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) break; /* a last line without its '\n' may be cut: no row */
    size_t eol = (size_t)(nl - buf);
    struct psnap_sockent e;
    int inside = any && eol <= reach;
    int starts = parse_line(PSNAP_NET_UNIX, p, (size_t)(nl - p), &e) && can_end;
    if (starts) {
      size_t start = (size_t)(p - buf) + e.path_off;
      if (e.named && (!any || start + PSNAP_UNIX_NAME_MAX > reach)) {
        reach = start + PSNAP_UNIX_NAME_MAX;
        any = 1;
      }
      e.claim = inside ? PSNAP_CLAIM_DOUBTFUL : PSNAP_CLAIM_CERTAIN;
      *doubtful += inside;
      if (e.inode && t) {
        size_t n = e.named ? unix_name(buf, len, start, eol, &e.pivot) : 0;
        int rc = claim(t, &e, buf + start, n);
        if (rc < 0) return rc;
      }
    }
    /* a record ends here: one that starts here, unless its name goes on (it starts with a newline); or a name */
    can_end = (starts && !(e.named && e.path_len == 0)) || inside;
    p = nl + 1;
  }
  return 0;
}

/* The lines of a unix table's text that claim as doubtful (see fdparse.h). */
size_t psnap_unix_text_doubtful(const char *buf, size_t len) {
  size_t n;
  unix_text(NULL, buf, len, &n);
  return n;
}

/*
** Add the rows of one whole table (header line included). The tables
** other than unix hold no text a process chose: each line is a row. 0 or
** -ENOMEM.
*/
int psnap_socktab_add(struct psnap_socktab *t, int kind, const char *buf, size_t len) {
  size_t doubtful;
  if (kind == PSNAP_NET_UNIX) return unix_text(t, buf, len, &doubtful);
  const char *p = buf, *end = buf + len;
  int first = 1;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    struct psnap_sockent e;
    /* the header is never a row, and a last line without its '\n' may be cut */
    if (!first && nl && psnap_parse_sock_line(kind, p, (size_t)(eol - p), &e)) {
      int rc = claim(t, &e, NULL, 0);
      if (rc < 0) return rc;
    }
    first = 0;
    p = eol + 1;
  }
  return 0;
}

/* A netlink attribute's header (struct rtattr, linux/rtnetlink.h), 4-byte aligned. */
#define ATTR_HDR 4u
#define ALIGN4(n) (((n) + 3u) & ~(size_t)3u)

/*
** One unix_diag_msg (linux/unix_diag.h) and its attributes, len bytes at
** m: claims its inode as PSNAP_CLAIM_KERNEL, with UNIX_DIAG_NAME as the
** text table prints it (a path without its NUL; an abstract name as '@'
** and its bytes; every NUL as '@'). 0, -EPROTO (malformed) or -ENOMEM.
*/
static int add_diag_msg(struct psnap_socktab *t, const unsigned char *m, size_t len) {
  struct unix_diag_msg d;
  if (len < sizeof d) return -EPROTO;
  memcpy(&d, m, sizeof d);
  if (d.udiag_family != AF_UNIX || d.udiag_ino == 0) return 0;
  struct psnap_sockent e;
  memset(&e, 0, sizeof e);
  e.lport = e.rport = -1;
  e.inode = d.udiag_ino;
  e.kind = PSNAP_NET_UNIX;
  e.family = PSNAP_AF_UNIX;
  e.type = d.udiag_type;
  e.state = d.udiag_state == ST_LISTEN ? ST_LISTEN : d.udiag_state == ST_ESTABLISHED ? ST_ESTABLISHED : ST_CLOSE;
  e.claim = PSNAP_CLAIM_KERNEL;
  char name[PSNAP_UNIX_NAME_MAX + 1];
  size_t n = 0;
  for (size_t off = ALIGN4(sizeof d); off + ATTR_HDR <= len;) {
    uint16_t alen, atype;
    memcpy(&alen, m + off, 2);
    memcpy(&atype, m + off + 2, 2);
    if (alen < ATTR_HDR || alen > len - off) return -EPROTO;
    size_t dlen = alen - ATTR_HDR;
    const unsigned char *a = m + off + ATTR_HDR;
    if (atype == UNIX_DIAG_NAME && dlen > 0 && dlen <= sizeof name) {
      /* a path holds its NUL (unix_bind_bsd), the kernel's text leaves it out */
      n = a[0] ? dlen - 1 : dlen;
      for (size_t i = 0; i < n; i++) name[i] = a[i] ? (char)a[i] : '@';
    }
    off += ALIGN4(alen);
  }
  return claim(t, &e, name, n);
}

/* Add the unix sockets of sock_diag's answer (see fdparse.h). */
int psnap_socktab_add_unix_diag(struct psnap_socktab *t, const void *buf, size_t len) {
  const unsigned char *p = buf;
  while (len > 0) {
    struct nlmsghdr h;
    if (len < sizeof h) return -EPROTO;
    memcpy(&h, p, sizeof h);
    if (h.nlmsg_len < sizeof h || h.nlmsg_len > len) return -EPROTO;
    if (h.nlmsg_type == NLMSG_DONE) return 1;
    if (h.nlmsg_type == NLMSG_ERROR) {
      struct nlmsgerr err;
      if (h.nlmsg_len < NLMSG_LENGTH(sizeof err)) return -EPROTO;
      memcpy(&err, p + NLMSG_HDRLEN, sizeof err);
      return err.error == 0 ? 1 : err.error < 0 && err.error > -4096 ? err.error : -EPROTO;
    }
    if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
      int rc = add_diag_msg(t, p + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN);
      if (rc < 0) return rc;
    }
    size_t step = NLMSG_ALIGN(h.nlmsg_len);
    if (step > len) step = len;
    p += step;
    len -= step;
  }
  return 0;
}

/* The row of an inode (NULL when none), and how many rows claim it (0, 1, 2: many). */
const struct psnap_sockent *psnap_socktab_find(const struct psnap_socktab *t, uint64_t inode, int *claims) {
  *claims = 0;
  if (!t->nslots) return NULL;
  size_t i = probe(t, inode);
  if (!t->slot[i]) return NULL;
  const struct psnap_sockent *e = &t->e[t->slot[i] - 1];
  *claims = e->ambiguous ? 2 : 1;
  return e;
}

/*
** Settle the doubtful claims of t (see fdparse.h): each one no other claim
** contests stands (PSNAP_CLAIM_STOOD) when stands() says so, the rest stay
** doubtful and answer nothing; a path that ends before a doubtful line is
** kept only when that line's claim stood. 0, or stands()'s -errno.
*/
int psnap_socktab_settle(struct psnap_socktab *t, int (*stands)(void *ctx, uint64_t inode), void *ctx) {
  for (size_t i = 0; i < t->n && stands; i++) {
    struct psnap_sockent *e = &t->e[i];
    if (e->claim != PSNAP_CLAIM_DOUBTFUL || e->ambiguous) continue;
    int rc = stands(ctx, e->inode);
    if (rc < 0) return rc;
    if (rc > 0) e->claim = PSNAP_CLAIM_STOOD;
  }
  for (size_t i = 0; i < t->n; i++) {
    struct psnap_sockent *e = &t->e[i];
    int c;
    const struct psnap_sockent *p = e->pivot ? psnap_socktab_find(t, e->pivot, &c) : NULL;
    if (e->pivot && !(p && p->claim == PSNAP_CLAIM_STOOD)) e->path_off = e->path_len = 0;
    e->pivot = 0;
  }
  return 0;
}

void psnap_socktab_free(struct psnap_socktab *t) {
  psnap_free(t->e);
  psnap_free(t->slot);
  psnap_free(t->pool);
  memset(t, 0, sizeof *t);
}

/* ---- names ---- */

const char *psnap_sock_family_name(int family) {
  switch (family) {
  case PSNAP_AF_INET: return "inet";
  case PSNAP_AF_INET6: return "inet6";
  case PSNAP_AF_UNIX: return "unix";
  case PSNAP_AF_NETLINK: return "netlink";
  case PSNAP_AF_PACKET: return "packet";
  default: return NULL;
  }
}

const char *psnap_sock_proto_name(const struct psnap_sockent *e) {
  switch (e->family) {
  case PSNAP_AF_INET:
  case PSNAP_AF_INET6: return e->kind < PSNAP_NET__COUNT ? inet_protos[e->kind] : NULL;
  case PSNAP_AF_UNIX: return e->type == 1 ? "stream" : e->type == 2 ? "dgram" : e->type == 5 ? "seqpacket" : NULL;
  case PSNAP_AF_NETLINK:
    return e->type < sizeof netlink_protos / sizeof netlink_protos[0] ? netlink_protos[e->type] : NULL;
  case PSNAP_AF_PACKET: return e->type == 3 ? "raw" : e->type == 2 ? "dgram" : NULL;
  default: return NULL;
  }
}

const char *psnap_sock_state_name(const struct psnap_sockent *e) {
  if (e->family != PSNAP_AF_INET && e->family != PSNAP_AF_INET6 && e->family != PSNAP_AF_UNIX) return NULL;
  return e->state < sizeof tcp_states / sizeof tcp_states[0] ? tcp_states[e->state] : NULL;
}

/* An inet or inet6 address as text: its length, or 0 (other families, no room). */
size_t psnap_sock_addr_format(int family, const uint8_t addr[16], char *out, size_t cap) {
  int af = family == PSNAP_AF_INET ? AF_INET : family == PSNAP_AF_INET6 ? AF_INET6 : -1;
  if (cap) out[0] = '\0';
  if (af < 0 || cap > (size_t)0x7fffffff || !inet_ntop(af, addr, out, (socklen_t)cap)) return 0;
  return strlen(out);
}
