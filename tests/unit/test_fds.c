/*
** test_fds.c: unit tests of src/fds.c and src/sockets.c: the fdinfo and
** link-text parsers, the flags text, the socket table parsers on recorded
** tables (tests/fixtures/net/, taken from this project's test processes:
** listeners on 127.0.0.1 and ::1, a TCP pair, unix sockets with a path and
** an abstract name, raw, netlink and packet sockets; unix_forged and
** udp_forged: a namespace where unix names print forged lines) and on
** hostile and made-up ones (the unix text's rules: which lines are
** certain, which doubtful, where names end, which claims beat which),
** sock_diag's answers made up byte by byte, and a scan of this process
** that counts its table reads and its requests to sock_diag.
**
** test_parsers.c's main() calls test_fds(check) with its TAP check().
*/
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "fdparse.h"

void test_fds(void (*check)(int cond, const char *name));

static void (*ok)(int, const char *);

static void ok_str(const char *got, const char *want, const char *name) {
  int good = got && strcmp(got, want) == 0;
  if (!good) printf("# %s: got '%s', want '%s'\n", name, got ? got : "(null)", want);
  ok(good, name);
}

static void fdinfo_and_links(void) {
  struct psnap_fdinfo fi;
  const char *ev = "pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1039\neventfd-count:                0\n";
  psnap_parse_fdinfo(ev, strlen(ev), &fi);
  ok(fi.pos == 0 && fi.flags == 02000002 && fi.mnt_id == 17 && fi.ino == 1039 && !fi.tty, "fdinfo: eventfd fields");
  const char *tty = "pos:\t0\nflags:\t02100002\nmnt_id:\t29\nino:\t2\ntty-index:\t0\n";
  psnap_parse_fdinfo(tty, strlen(tty), &fi);
  ok(fi.tty == 1 && fi.mnt_id == 29, "fdinfo: tty-index marks a terminal");
  const char *old = "pos:\t1234\nflags:\t0100001\nmnt_id:\t27"; /* no ino (before 5.14), no last newline */
  psnap_parse_fdinfo(old, strlen(old), &fi);
  ok(fi.pos == 1234 && fi.flags == 0100001 && fi.mnt_id == 27 && fi.ino == 0, "fdinfo: no ino, cut last line");
  const char *bad = "pos:\tx\nflags:\t09\nmnt_id:\t-3\nposition: 5\nflags 7\n";
  psnap_parse_fdinfo(bad, strlen(bad), &fi);
  ok(fi.pos == -1 && fi.flags == -1 && fi.mnt_id == -1, "fdinfo: malformed fields stay unknown");
  psnap_parse_fdinfo("pos:\t99999999999999999999\n", 26, &fi);
  ok(fi.pos == -1, "fdinfo: an overflowing pos is unknown");

  struct psnap_fdinfo dir = {.flags = 0300000, .pos = 0, .mnt_id = 1}, tmp = {.flags = 022300002};
  struct psnap_fdinfo plain = {.flags = 02100000}, term = {.flags = 2, .tty = 1};
  unsigned long long ino;
  int del;
  struct {
    const char *link;
    const struct psnap_fdinfo *fi;
    int type;
    unsigned long long ino;
    int deleted;
    const char *name;
  } cases[] = {
      {"socket:[7844152]", NULL, PSNAP_FD_SOCKET, 7844152, 0, "link: socket"},
      {"pipe:[7926549]", NULL, PSNAP_FD_PIPE, 7926549, 0, "link: pipe"},
      {"anon_inode:[eventfd]", NULL, PSNAP_FD_ANON, 0, 0, "link: eventfd is anon"},
      {"anon_inode:inotify", NULL, PSNAP_FD_ANON, 0, 0, "link: inotify is anon"},
      {"net:[4026531833]", NULL, PSNAP_FD_NS, 4026531833ull, 0, "link: a namespace"},
      {"/memfd:hello (deleted)", NULL, PSNAP_FD_MEMFD, 0, 1, "link: memfd"},
      {"/tmp/x (deleted)", NULL, PSNAP_FD_FILE, 0, 1, "link: deleted file"},
      {"/tmp/x (deleted) ", NULL, PSNAP_FD_FILE, 0, 0, "link: '(deleted)' not at the end"},
      {"/tmp", &dir, PSNAP_FD_DIR, 0, 0, "link: O_DIRECTORY is a directory"},
      {"/tmp", &plain, PSNAP_FD_FILE, 0, 0, "link: a directory opened without O_DIRECTORY reads file"},
      {"/tmp/#1234 (deleted)", &tmp, PSNAP_FD_FILE, 0, 1, "link: O_TMPFILE is a file"},
      {"/", NULL, PSNAP_FD_DIR, 0, 0, "link: / is a directory"},
      {"/dev/null", NULL, PSNAP_FD_DEVICE, 0, 0, "link: /dev/null is a device"},
      {"/dev/shm/x", NULL, PSNAP_FD_FILE, 0, 0, "link: /dev/shm/x is a file"},
      {"/home/pts", &term, PSNAP_FD_DEVICE, 0, 0, "link: tty-index makes a device"},
      {"socket:[]", NULL, PSNAP_FD_OTHER, 0, 0, "link: socket without an inode"},
      {"socket:[12a]", NULL, PSNAP_FD_OTHER, 0, 0, "link: socket with a bad inode"},
      {"socket:[99999999999999999999999]", NULL, PSNAP_FD_OTHER, 0, 0, "link: overflowing inode"},
      {"", NULL, PSNAP_FD_OTHER, 0, 0, "link: empty"},
      {"[weird]", NULL, PSNAP_FD_OTHER, 0, 0, "link: unknown form"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int t = psnap_fd_classify(cases[i].link, strlen(cases[i].link), cases[i].fi, &ino, &del);
    int good = t == cases[i].type && ino == (cases[i].fi ? cases[i].fi->ino : cases[i].ino) && del == cases[i].deleted;
    if (!good) printf("# %s: type %d ino %llu deleted %d\n", cases[i].link, t, ino, del);
    ok(good, cases[i].name);
  }
  ok_str(psnap_fd_type_name(PSNAP_FD_SOCKET), "socket", "type name: socket");
  ok(psnap_fd_type_name(PSNAP_FD__COUNT) == NULL && psnap_fd_type_name(-1) == NULL, "type name: out of range");
}

static void flags_text(void) {
  char out[128];
  struct {
    long long flags;
    const char *want;
  } cases[] = {
      {02100002, "O_RDWR|O_CLOEXEC"},
      {0100000, "O_RDONLY"},
      {0100001, "O_WRONLY"},
      {02004002, "O_RDWR|O_NONBLOCK|O_CLOEXEC"},
      {04010002, "O_RDWR|O_SYNC"},
      {010002, "O_RDWR|O_DSYNC"},
      {022300002, "O_RDWR|O_TMPFILE|O_CLOEXEC"},
      {02300000, "O_RDONLY|O_DIRECTORY|O_CLOEXEC"},
      {012000000, "O_RDONLY|O_CLOEXEC|O_PATH"},
      {02002, "O_RDWR|O_APPEND"},
      {3, "O_ACCMODE"},
      {040000000002, "O_RDWR|040000000000"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = psnap_fd_flags_format(cases[i].flags, out, sizeof out);
    ok_str(out, cases[i].want, cases[i].want);
    ok(n == strlen(cases[i].want), "flags: length returned");
  }
  size_t n = psnap_fd_flags_format(02100002, out, 5);
  ok(n == strlen("O_RDWR|O_CLOEXEC") && strcmp(out, "O_RD") == 0, "flags: cut to the buffer, whole length returned");
  ok(psnap_fd_flags_format(-1, out, sizeof out) == 0 && out[0] == '\0', "flags: unknown is empty");
}

/* A whole recorded table into t. */
static int load_fixture(struct psnap_socktab *t, int kind) {
  char path[64];
  struct psnap_buf b = {0};
  snprintf(path, sizeof path, "tests/fixtures/net/%s", psnap_net_file(kind));
  int rc = psnap_readat(AT_FDCWD, path, 0, &b, 1 << 20);
  if (rc == 0) rc = psnap_socktab_add(t, kind, b.p, b.len);
  psnap_buf_free(&b);
  return rc;
}

static const struct psnap_sockent *find1(const struct psnap_socktab *t, uint64_t ino) {
  int claims;
  const struct psnap_sockent *e = psnap_socktab_find(t, ino, &claims);
  return claims == 1 ? e : NULL;
}

static const char *addr(const struct psnap_sockent *e, int remote, char *buf, size_t cap) {
  return psnap_sock_addr_format(e->family, remote ? e->raddr : e->laddr, buf, cap) ? buf : "";
}

/* psnap_socktab_settle callbacks: every doubtful line stands; those of the inodes in held[] (0-ended). */
static int stands_all(void *ctx, uint64_t inode) {
  (void)ctx, (void)inode;
  return 1;
}
static int stands_held(void *ctx, uint64_t inode) {
  for (const uint64_t *h = ctx; *h; h++)
    if (*h == inode) return 1;
  return 0;
}

/* A path as a C string for messages and comparisons ("" when none). */
static const char *path_of(const struct psnap_socktab *t, const struct psnap_sockent *e) {
  static char buf[PSNAP_UNIX_NAME_MAX + 1];
  size_t n = e && e->path_len <= PSNAP_UNIX_NAME_MAX ? e->path_len : 0;
  if (n) memcpy(buf, t->pool + e->path_off, n);
  buf[n] = '\0';
  return buf;
}

static void recorded_tables(void) {
  struct psnap_socktab t = {0};
  int rc = 0;
  for (int k = 0; k < PSNAP_NET__COUNT; k++)
    if (k != PSNAP_NET_UDPLITE && k != PSNAP_NET_UDPLITE6 && k != PSNAP_NET_ICMP && k != PSNAP_NET_ICMP6)
      rc |= load_fixture(&t, k);
  /* the recorded unix table: every socket held by the test process that printed it */
  ok(rc == 0 && psnap_socktab_settle(&t, stands_all, NULL) == 0, "tables: recorded files load");
  char a[64];
  const struct psnap_sockent *e = find1(&t, 10065957);
  ok(e && e->family == PSNAP_AF_INET && strcmp(addr(e, 0, a, sizeof a), "127.0.0.1") == 0 && e->lport == 0xA875 &&
         strcmp(psnap_sock_state_name(e), "LISTEN") == 0 && strcmp(psnap_sock_proto_name(e), "tcp") == 0,
     "tcp: listener on 127.0.0.1, LISTEN");
  e = find1(&t, 10065962);
  ok(e && e->rport == 0xDB16 && strcmp(addr(e, 1, a, sizeof a), "127.0.0.1") == 0 &&
         strcmp(psnap_sock_state_name(e), "ESTABLISHED") == 0,
     "tcp: the accepted end of a pair, ESTABLISHED");
  e = find1(&t, 10065958);
  ok(e && e->family == PSNAP_AF_INET6 && strcmp(addr(e, 0, a, sizeof a), "::1") == 0 && e->lport == 0x92F9,
     "tcp6: listener on ::1");
  e = find1(&t, 10065960);
  ok(e && e->family == PSNAP_AF_INET6 && strcmp(psnap_sock_proto_name(e), "udp") == 0 &&
         strcmp(psnap_sock_state_name(e), "CLOSE") == 0 && e->lport == 0xD30A,
     "udp6: unconnected socket on ::1 is CLOSE");
  e = find1(&t, 10065963);
  ok(e && e->family == PSNAP_AF_UNIX && strcmp(psnap_sock_state_name(e), "LISTEN") == 0 && e->path_len == 16 &&
         memcmp(t.pool + e->path_off, "/tmp/fdtest.sock", 16) == 0 && strcmp(psnap_sock_proto_name(e), "stream") == 0,
     "unix: listening stream socket with its path");
  e = find1(&t, 10065965);
  ok(e && strcmp(psnap_sock_state_name(e), "ESTABLISHED") == 0 && e->path_len == 16, "unix: connected, with path");
  e = find1(&t, 10065964);
  ok(e && e->path_len == 0 && strcmp(psnap_sock_state_name(e), "ESTABLISHED") == 0, "unix: connected, no path");
  e = find1(&t, 1147);
  ok(e && e->path_len == 0, "unix: inode padded by %5lu");
  e = find1(&t, 10065966);
  ok(e && strcmp(psnap_sock_proto_name(e), "dgram") == 0 && strcmp(psnap_sock_state_name(e), "CLOSE") == 0 &&
         e->path_len == 12 && memcmp(t.pool + e->path_off, "@abstract-fd", 12) == 0,
     "unix: abstract datagram socket, '@' name, CLOSE");
  e = find1(&t, 10066007);
  ok(e && e->family == PSNAP_AF_NETLINK && strcmp(psnap_sock_proto_name(e), "audit") == 0 && e->lport == 22645 &&
         psnap_sock_state_name(e) == NULL,
     "netlink: audit socket, port id, no state");
  e = find1(&t, 4);
  ok(e && strcmp(psnap_sock_proto_name(e), "route") == 0 && e->lport == 0, "netlink: the kernel's route socket");
  e = find1(&t, 10066004);
  ok(e && e->family == PSNAP_AF_PACKET && strcmp(psnap_sock_proto_name(e), "raw") == 0, "packet: raw packet socket");
  e = find1(&t, 10066005);
  ok(e && strcmp(psnap_sock_proto_name(e), "raw") == 0 && e->lport == 1 && e->family == PSNAP_AF_INET,
     "raw: the protocol as its port (icmp 1)");
  e = find1(&t, 10066006);
  ok(e && e->family == PSNAP_AF_INET6 && e->lport == 58, "raw6: icmpv6 58");
  ok(find1(&t, 1) == NULL && find1(&t, 0) == NULL, "tables: unknown and zero inodes are not found");
  psnap_socktab_free(&t);

  /* the same unix table when no process is known to hold its sockets */
  rc = load_fixture(&t, PSNAP_NET_UNIX);
  ok(rc == 0 && psnap_socktab_settle(&t, NULL, NULL) == 0, "unix: recorded table, settled with nothing held");
  e = psnap_socktab_find(&t, 10065963, &(int){0});
  ok(e && e->claim == PSNAP_CLAIM_CERTAIN && e->path_len == 0,
     "unix: a short name with a record's line next is NULL when that line does not stand");
  e = psnap_socktab_find(&t, 10065965, &(int){0});
  ok(e && e->claim == PSNAP_CLAIM_DOUBTFUL, "unix: a line within 108 bytes of a name above is doubtful");
  e = psnap_socktab_find(&t, 10065966, &(int){0});
  ok(e && e->path_len == 12, "unix: the last record's name ends with the table");
  psnap_socktab_free(&t);
}

/*
** tests/fixtures/net/unix_forged, udp_forged: recorded from one process in
** a network namespace of its own (unshare --net) holding a UDP socket
** (1294714), a listener /tmp/fx/short (1294715), a client (1294716) and
** the accepted end (1294717), a datagram socket bound to "/tmp/fx/nl\nsock"
** (1294718), and three listeners whose abstract names "\0fN\n..." print a
** forged line: f1 (1294719) on the UDP socket's inode, f2 (1294720) on the
** client's, f3 (1294721) on an inode no socket has (999999999).
*/
static void forged_tables(void) {
  static const uint64_t held[] = {1294715, 1294716, 1294717, 1294718, 1294719, 1294720, 1294721, 0};
  struct psnap_socktab t = {0};
  struct psnap_buf b = {0};
  int rc = psnap_readat(AT_FDCWD, "tests/fixtures/net/udp_forged", 0, &b, 1 << 20);
  if (rc == 0) rc = psnap_socktab_add(&t, PSNAP_NET_UDP, b.p, b.len);
  if (rc == 0) rc = psnap_readat(AT_FDCWD, "tests/fixtures/net/unix_forged", 0, &b, 1 << 20);
  if (rc == 0) ok(psnap_unix_text_doubtful(b.p, b.len) == 8, "forged: 8 lines a name could hold");
  if (rc == 0) rc = psnap_socktab_add(&t, PSNAP_NET_UNIX, b.p, b.len);
  if (rc == 0) rc = psnap_socktab_settle(&t, stands_held, (void *)held);
  ok(rc == 0, "forged: recorded tables load and settle");
  const struct psnap_sockent *e = find1(&t, 1294714);
  ok(e && e->family == PSNAP_AF_INET && strcmp(psnap_sock_proto_name(e), "udp") == 0,
     "forged: the victim UDP socket stays udp (the udp table's claim beats a unix line)");
  e = find1(&t, 1294715);
  ok(e && e->claim == PSNAP_CLAIM_CERTAIN && strcmp(path_of(&t, e), "/tmp/fx/short") == 0,
     "forged: a short name followed by a socket the namespace holds keeps its name");
  e = find1(&t, 1294718);
  ok(e && e->claim == PSNAP_CLAIM_STOOD && e->type == 2 && strcmp(path_of(&t, e), "/tmp/fx/nl\nsock") == 0,
     "forged: a name with a newline reads whole, never cut at the newline");
  int claims;
  e = psnap_socktab_find(&t, 1294716, &claims);
  ok(e && claims == 2, "forged: a real line and a forged one on one inode: ambiguous, the row hidden");
  e = find1(&t, 1294717);
  ok(e && e->claim == PSNAP_CLAIM_STOOD && strcmp(psnap_sock_state_name(e), "ESTABLISHED") == 0 && e->path_len == 0,
     "forged: the accepted end stays itself; its name, cut by an ambiguous line, is NULL");
  static const uint64_t forgers[] = {1294719, 1294720, 1294721};
  for (size_t i = 0; i < 3; i++) {
    e = find1(&t, forgers[i]);
    if (!e || e->path_len)
      printf("# forger %llu: %s path '%s'\n", (unsigned long long)forgers[i], e ? "" : "no row", path_of(&t, e));
    ok(e && e->family == PSNAP_AF_UNIX && strcmp(psnap_sock_state_name(e), "LISTEN") == 0 && e->path_len == 0,
       "forged: a forger's own row stays, its path NULL (never the cut '@fN')");
  }
  e = psnap_socktab_find(&t, 999999999, &claims);
  ok(e && e->claim == PSNAP_CLAIM_DOUBTFUL, "forged: a line on an inode no process holds does not stand");
  psnap_socktab_free(&t);

  /* the same with nothing held: no doubtful line stands, no name they could continue is kept */
  rc = psnap_readat(AT_FDCWD, "tests/fixtures/net/unix_forged", 0, &b, 1 << 20);
  if (rc == 0) rc = psnap_socktab_add(&t, PSNAP_NET_UNIX, b.p, b.len);
  if (rc == 0) rc = psnap_socktab_settle(&t, NULL, NULL);
  e = find1(&t, 1294715);
  const struct psnap_sockent *f = find1(&t, 1294719);
  ok(rc == 0 && e && e->path_len == 0 && f && f->claim == PSNAP_CLAIM_CERTAIN && find1(&t, 1294718) &&
         find1(&t, 1294718)->claim == PSNAP_CLAIM_DOUBTFUL,
     "forged: nothing held: certain lines keep their rows, doubtful ones stay doubtful, names NULL");
  e = find1(&t, 1294714);
  ok(e && e->claim == PSNAP_CLAIM_DOUBTFUL, "forged: without the udp table the forged line is only doubtful");
  psnap_socktab_free(&t);
  psnap_buf_free(&b);
}

/* A unix table of a header and the lines given, each ended by '\n' ("" ends the list). */
static size_t utable(char *out, size_t cap, const char *const *lines) {
  size_t n = (size_t)snprintf(out, cap, "Num       RefCount Protocol Flags    Type St Inode Path\n");
  for (; **lines && n < cap; lines++) n += (size_t)snprintf(out + n, cap - n, "%s\n", *lines);
  return n;
}

#define REC "0000000000000000: 00000002 00000000 00000000 0001 01 "

/* The rules of sockets.c's unix text, on made-up tables. */
static void unix_text_rules(void) {
  char buf[4096];
  struct psnap_socktab t = {0};
  int claims;
  /* a name that runs over a line that is no record's, then a record's line too long to be in it */
  const char *long_next = REC "202 /a/name/long/enough/that/this/line/can/never/fit/in/the/name/above/it/at/all/x";
  const char *a[] = {REC "201 /x", "y", long_next, ""};
  size_t n = utable(buf, sizeof buf, a);
  psnap_socktab_add(&t, PSNAP_NET_UNIX, buf, n);
  psnap_socktab_settle(&t, NULL, NULL);
  const struct psnap_sockent *e = find1(&t, 201);
  ok(e && strcmp(path_of(&t, e), "/x\ny") == 0, "unix: a name with a newline, then a line that cannot fit: whole");
  e = find1(&t, 202);
  ok(e && e->claim == PSNAP_CLAIM_CERTAIN, "unix: a line no name can reach is certain");
  psnap_socktab_free(&t);

  /* a name that ends in a newline, at the end of the table; one that starts with one */
  n = utable(buf, sizeof buf, (const char *const[]){REC "203 /end", ""});
  buf[n++] = '\n';
  psnap_socktab_add(&t, PSNAP_NET_UNIX, buf, n);
  psnap_socktab_settle(&t, NULL, NULL);
  ok(find1(&t, 203) && strcmp(path_of(&t, find1(&t, 203)), "/end\n") == 0, "unix: a name ending in a newline");
  psnap_socktab_free(&t);
  const char *c[] = {REC "204 ", "nl-first", long_next, ""};
  n = utable(buf, sizeof buf, c);
  psnap_socktab_add(&t, PSNAP_NET_UNIX, buf, n);
  psnap_socktab_settle(&t, NULL, NULL);
  ok(find1(&t, 204) && strcmp(path_of(&t, find1(&t, 204)), "\nnl-first") == 0, "unix: a name starting with a newline");
  psnap_socktab_free(&t);

  /* the last line cut: the name before it could go on */
  n = utable(buf, sizeof buf, (const char *const[]){REC "205 /cut", ""});
  memcpy(buf + n, "more", 4);
  psnap_socktab_add(&t, PSNAP_NET_UNIX, buf, n + 4);
  psnap_socktab_settle(&t, stands_all, NULL);
  ok(find1(&t, 205) && find1(&t, 205)->path_len == 0, "unix: a name before a cut last line is NULL");
  psnap_socktab_free(&t);

  /* a record's line of inode 0 (not accepted yet) after a short name: nothing can stand for it */
  const char *d[] = {REC "206 /s", REC "    0", REC "207", ""};
  n = utable(buf, sizeof buf, d);
  psnap_socktab_add(&t, PSNAP_NET_UNIX, buf, n);
  psnap_socktab_settle(&t, stands_all, NULL);
  e = find1(&t, 206);
  ok(e && e->path_len == 0, "unix: a name before a line of inode 0 is NULL");
  e = find1(&t, 207);
  ok(e && e->claim == PSNAP_CLAIM_CERTAIN, "unix: a line after an inode-0 record's is still read");
  psnap_socktab_free(&t);

  /* two doubtful lines on one inode: neither stands */
  const char *g[] = {REC "208 /p", REC "300 /q", REC "300", ""};
  n = utable(buf, sizeof buf, g);
  psnap_socktab_add(&t, PSNAP_NET_UNIX, buf, n);
  psnap_socktab_settle(&t, stands_all, NULL);
  e = psnap_socktab_find(&t, 300, &claims);
  ok(e && claims == 2 && e->claim == PSNAP_CLAIM_DOUBTFUL, "unix: two doubtful lines on one inode: ambiguous");
  ok(find1(&t, 208) && find1(&t, 208)->path_len == 0, "unix: a name cut by an ambiguous line is NULL");
  psnap_socktab_free(&t);

  /* a line that is no record's and lies in no name: the text is not the kernel's, nothing after is read */
  const char *h[] = {REC "209", "garbage", REC "210", ""};
  n = utable(buf, sizeof buf, h);
  psnap_socktab_add(&t, PSNAP_NET_UNIX, buf, n);
  psnap_socktab_settle(&t, stands_all, NULL);
  ok(find1(&t, 209) && !psnap_socktab_find(&t, 210, &claims), "unix: after a line no reading explains, no rows");
  psnap_socktab_free(&t);

  /* a kernel table's claim beats a unix line, whichever is read first */
  const char *nlk = "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n"
                    "0000000000000000 0   1          00000000 0        0        0     2        0        400\n";
  n = utable(buf, sizeof buf, (const char *const[]){REC "400 /claims-a-netlink-socket", ""});
  psnap_socktab_add(&t, PSNAP_NET_UNIX, buf, n);
  psnap_socktab_add(&t, PSNAP_NET_NETLINK, nlk, strlen(nlk));
  e = find1(&t, 400);
  ok(e && e->family == PSNAP_AF_NETLINK, "unix: a netlink table's claim replaces a certain unix line's");
  psnap_socktab_free(&t);

  /* a name longer than sun_path on its line: no record's line */
  char big[256];
  snprintf(big, sizeof big, REC "500 /%0108d", 0);
  ok(psnap_parse_sock_line(PSNAP_NET_UNIX, big, strlen(big), &(struct psnap_sockent){0}) == 0,
     "unix: more than 108 bytes of name: no record's line");
  ok(psnap_unix_text_doubtful("", 0) == 0 && psnap_unix_text_doubtful("Num\n", 4) == 0, "unix: empty tables");
}

/* A netlink message of type ty with payload p (len bytes) at out: its aligned length. */
static size_t nlmsg(unsigned char *out, uint16_t ty, const void *p, size_t len) {
  struct nlmsghdr h = {.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + len), .nlmsg_type = ty};
  memset(out, 0, NLMSG_ALIGN(h.nlmsg_len));
  memcpy(out, &h, sizeof h);
  memcpy(out + NLMSG_HDRLEN, p, len);
  return NLMSG_ALIGN(h.nlmsg_len);
}

/* A unix_diag_msg of inode ino with a UNIX_DIAG_NAME of nlen bytes (none when name is NULL). */
static size_t diag_msg(unsigned char *out, uint32_t ino, uint8_t type, uint8_t state, const char *name, size_t nlen) {
  unsigned char p[256] = {0};
  struct unix_diag_msg m = {.udiag_family = AF_UNIX, .udiag_type = type, .udiag_state = state, .udiag_ino = ino};
  memcpy(p, &m, sizeof m);
  size_t len = sizeof m;
  if (name) {
    uint16_t alen = (uint16_t)(4 + nlen), aty = UNIX_DIAG_NAME;
    memcpy(p + len, &alen, 2);
    memcpy(p + len + 2, &aty, 2);
    memcpy(p + len + 4, name, nlen);
    len += (4 + nlen + 3) & ~3u;
  }
  return nlmsg(out, SOCK_DIAG_BY_FAMILY, p, len);
}

/* sock_diag's answers, made up: names as the text prints them, the end, errors, malformed messages. */
static void diag_answers(void) {
  unsigned char buf[2048];
  struct psnap_socktab t = {0};
  size_t n = diag_msg(buf, 11, 1, 10, "/run/a\nb", 9); /* a path holds its NUL */
  n += diag_msg(buf + n, 12, 2, 7, "\0ab\0c", 5);      /* an abstract name, a NUL inside */
  n += diag_msg(buf + n, 13, 5, 1, NULL, 0);
  n += diag_msg(buf + n, 0, 1, 7, NULL, 0); /* inode 0: none */
  ok(psnap_socktab_add_unix_diag(&t, buf, n) == 0, "diag: messages without the end: more to come");
  const struct psnap_sockent *e = find1(&t, 11);
  ok(e && e->claim == PSNAP_CLAIM_KERNEL && strcmp(psnap_sock_state_name(e), "LISTEN") == 0 &&
         strcmp(path_of(&t, e), "/run/a\nb") == 0,
     "diag: a path with a newline, exact, without its NUL");
  e = find1(&t, 12);
  ok(e && strcmp(path_of(&t, e), "@ab@c") == 0 && strcmp(psnap_sock_proto_name(e), "dgram") == 0 &&
         strcmp(psnap_sock_state_name(e), "CLOSE") == 0,
     "diag: an abstract name as the text prints it ('@', NULs as '@')");
  e = find1(&t, 13);
  ok(e && e->path_len == 0 && strcmp(psnap_sock_state_name(e), "ESTABLISHED") == 0 &&
         strcmp(psnap_sock_proto_name(e), "seqpacket") == 0,
     "diag: no name: no path");
  ok(!psnap_socktab_find(&t, 0, &(int){0}), "diag: inode 0 is no row");
  int done = 0;
  n = nlmsg(buf, NLMSG_DONE, &done, sizeof done);
  ok(psnap_socktab_add_unix_diag(&t, buf, n) == 1, "diag: NLMSG_DONE ends the answer");
  struct nlmsgerr err = {.error = -ENOENT};
  n = nlmsg(buf, NLMSG_ERROR, &err, sizeof err);
  ok(psnap_socktab_add_unix_diag(&t, buf, n) == -ENOENT, "diag: NLMSG_ERROR is its error");
  n = diag_msg(buf, 14, 1, 7, NULL, 0);
  ok(psnap_socktab_add_unix_diag(&t, buf, n - 1) == -EPROTO, "diag: a cut message is malformed");
  struct nlmsghdr h = {.nlmsg_len = 4, .nlmsg_type = SOCK_DIAG_BY_FAMILY};
  ok(psnap_socktab_add_unix_diag(&t, &h, sizeof h) == -EPROTO, "diag: a length below the header is malformed");
  n = diag_msg(buf, 15, 1, 7, "/x", 3);
  buf[NLMSG_HDRLEN + sizeof(struct unix_diag_msg)] = 0xff; /* the attribute's length past the message */
  ok(psnap_socktab_add_unix_diag(&t, buf, n) == -EPROTO, "diag: an attribute past its message is malformed");
  psnap_socktab_free(&t);
}

static void hostile_tables(void) {
  struct psnap_socktab t = {0};
  /* a path holding a newline: its tail looks like a row claiming inode 500 */
  const char *u = "Num       RefCount Protocol Flags    Type St Inode Path\n"
                  "0000000000000000: 00000002 00000000 00010000 0001 01 500 /run/real.sock\n"
                  "0000000000000000: 00000002 00000000 00000000 0001 01 600 /tmp/a\n"
                  "0000000000000000: 00000002 00000000 00010000 0001 01 500 /forged\n"
                  "0000000000000000: 00000002 00000000 00010000 0001 01 700 /x\n";
  ok(psnap_socktab_add(&t, PSNAP_NET_UNIX, u, strlen(u)) == 0 && psnap_socktab_settle(&t, NULL, NULL) == 0,
     "hostile: unix table with a forged row loads");
  const struct psnap_sockent *e = find1(&t, 500);
  ok(e && e->claim == PSNAP_CLAIM_CERTAIN && e->path_len == 0,
     "hostile: a certain line beats a doubtful one on its inode");
  e = find1(&t, 600);
  ok(e && e->claim == PSNAP_CLAIM_DOUBTFUL && e->path_len == 0,
     "hostile: the forger's line stays doubtful, its name NULL");
  ok(find1(&t, 700) != NULL, "hostile: other rows stay");
  psnap_socktab_free(&t);

  /* the header is never a row; a last line without its newline may be cut */
  const char *tcp = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 42\n"
                    "   1: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 43";
  ok(psnap_socktab_add(&t, PSNAP_NET_TCP, tcp, strlen(tcp)) == 0 && find1(&t, 42) == NULL && find1(&t, 43) == NULL,
     "hostile: first line is a header, a cut last line is no row");
  psnap_socktab_free(&t);

  struct psnap_sockent s;
  const char *lines[] = {
      "   0: 0100007F:1F90 00000000:0000 0A",                                                /* truncated */
      "   0: 0100007F:11F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 42", /* port */
      "   0: 0100007FF:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 42", /* address */
      "   0: 0100007F:1F90 00000000:0000 100 00000000:00000000 00:00000000 00000000 0 0 42", /* state */
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 0",   /* inode 0 */
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 99999999999999999999",
      "   x: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 42",
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    int r = psnap_parse_sock_line(PSNAP_NET_TCP, lines[i], strlen(lines[i]), &s);
    if (r) printf("# accepted: %s\n", lines[i]);
    ok(r == 0 && s.inode == 0 && s.lport == -1, "hostile: malformed tcp line rejected");
  }
  const char *l = "   0: 0100007F:1F90 00000000:0000 0D 00000000:00000000 00:00000000 00000000 0 0 42";
  ok(psnap_parse_sock_line(PSNAP_NET_TCP, l, strlen(l), &s) == 1 &&
         strcmp(psnap_sock_state_name(&s), "BOUND_INACTIVE") == 0,
     "tcp: state 0D is BOUND_INACTIVE");
  l = "   0: 0100007F:1F90 00000000:0000 0E 00000000:00000000 00:00000000 00000000 0 0 42";
  ok(psnap_parse_sock_line(PSNAP_NET_TCP, l, strlen(l), &s) == 1 && psnap_sock_state_name(&s) == NULL,
     "tcp: an unknown state has no name");
  l = "0000000000000000: 00000002 00000000 00000000 0001 01 77 ";
  ok(psnap_parse_sock_line(PSNAP_NET_UNIX, l, strlen(l), &s) == 1 && s.path_len == 0, "unix: empty path after space");
  l = "0000000000000000: 00000002 00000000 00000000 0009 01 77 /p";
  ok(psnap_parse_sock_line(PSNAP_NET_UNIX, l, strlen(l), &s) == 1 && psnap_sock_proto_name(&s) == NULL,
     "unix: unknown type has no protocol name");
  l = "0000000000000000 99  1 00000000 0 0 0 2 0 88";
  ok(psnap_parse_sock_line(PSNAP_NET_NETLINK, l, strlen(l), &s) == 1 && psnap_sock_proto_name(&s) == NULL,
     "netlink: unknown protocol has no name");
  ok(psnap_parse_sock_line(PSNAP_NET__COUNT, l, strlen(l), &s) == 0, "tables: unknown kind");
}

/* Sockets of this process, and of a child in its own network namespace when root. */
static void scan_counts(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int bound = l >= 0 && bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, 1) == 0;
  socklen_t sl = sizeof sa;
  getsockname(l, (struct sockaddr *)&sa, &sl);
  ok(bound, "scan: a listener of this process");
  /* a unix socket of this process bound to a name with a newline and a record's line in it */
  static const char uname[] = "\0ut\n0000000000000000: 00000002 00000000 00010000 0001 01 1 /forged";
  struct sockaddr_un ua = {.sun_family = AF_UNIX};
  memcpy(ua.sun_path, uname, sizeof uname - 1);
  int us = socket(AF_UNIX, SOCK_STREAM, 0);
  int ubound = us >= 0 && bind(us, (struct sockaddr *)&ua,
                               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof uname - 1)) == 0;
  struct psnap_fdscan *f;
  struct psnap_err err;
  int rc = psnap_fdscan_open(&f, PSNAP_FDS_SOCKETS, &err);
  ok(rc == 0, "scan: opens");
  if (rc < 0) return;
  int found = 0, others = 0, exact = 0;
  for (int pass = 0; pass < 2; pass++) {
    if (psnap_fdscan_process(f, getpid(), NULL, getpid()) != 0) continue;
    struct psnap_fd d;
    while (psnap_fdscan_next(f, &d) > 0) {
      if (d.type != PSNAP_FD_SOCKET || !d.sock) others++;
      if (d.fd == l && d.sock->family && strcmp(d.sock->state, "LISTEN") == 0 &&
          strcmp(d.sock->local_addr, "127.0.0.1") == 0 && d.sock->local_port == ntohs(sa.sin_port))
        found++;
      if (d.fd == us && d.sock->path && d.sock->path_len == sizeof uname - 1 && d.sock->path[0] == '@' &&
          memcmp(d.sock->path + 1, uname + 1, sizeof uname - 2) == 0)
        exact++;
    }
  }
  ok(found == 2 && others == 0, "scan: the listener is found, only sockets are listed");
  ok(psnap_fdscan_tables_read(f) == 1, "scan: one network namespace, its tables read once for two passes");
  if (!ubound || exact != 2 || psnap_fdscan_diag_requests(f) < 1)
    printf("# bound %d, exact %d, sock_diag requests %lu\n", ubound, exact, psnap_fdscan_diag_requests(f));
  ok(ubound && exact == 2 && psnap_fdscan_diag_requests(f) >= 1,
     "scan: this namespace's unix names from sock_diag, a newline and a record's line in one exact");

  /* a child in a network namespace of its own: a second set of tables */
  if (geteuid() != 0) {
    ok(1, "scan: a second network namespace # SKIP not root");
  } else {
    int p[2];
    if (pipe(p) == 0) {
      pid_t c = fork();
      if (c == 0) {
        /* bound: an unbound UDP socket is in no table */
        struct sockaddr_in any = {.sin_family = AF_INET};
        int u = unshare(CLONE_NEWNET) == 0 ? socket(AF_INET, SOCK_DGRAM, 0) : -1;
        char x = u >= 0 && bind(u, (struct sockaddr *)&any, sizeof any) == 0 ? 'y' : 'n';
        if (write(p[1], &x, 1) != 1) _exit(1);
        pause();
        _exit(0);
      }
      char x = 'n';
      if (read(p[0], &x, 1) != 1) x = 'n';
      int udp = 0;
      if (x == 'y' && psnap_fdscan_process(f, c, NULL, c) == 0) {
        struct psnap_fd d;
        while (psnap_fdscan_next(f, &d) > 0) udp += d.sock->proto && strcmp(d.sock->proto, "udp") == 0;
      }
      if (x != 'y' || udp != 1 || psnap_fdscan_tables_read(f) != 2)
        printf("# child %c, udp sockets %d, table sets read %lu\n", x, udp, psnap_fdscan_tables_read(f));
      ok(x == 'y' && udp == 1 && psnap_fdscan_tables_read(f) == 2, "scan: a child's own namespace, read once more");
      kill(c, SIGKILL);
      waitpid(c, NULL, 0);
      close(p[0]);
      close(p[1]);
    }
  }
  ok(psnap_fdscan_process(f, 999999999, NULL, 0) == -ESRCH, "scan: a process that does not exist is -ESRCH");
  psnap_fdscan_close(f);
  close(l);
  if (us >= 0) close(us);
}

void test_fds(void (*check)(int cond, const char *name)) {
  ok = check;
  fdinfo_and_links();
  flags_text();
  recorded_tables();
  forged_tables();
  unix_text_rules();
  diag_answers();
  hostile_tables();
  scan_counts();
}
