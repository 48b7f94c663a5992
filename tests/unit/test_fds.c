/*
** test_fds.c: unit tests of src/fds.c and src/sockets.c: the fdinfo and
** link-text parsers, the flags text, the socket table parsers on recorded
** tables (tests/fixtures/net/, taken from this project's test processes:
** listeners on 127.0.0.1 and ::1, a TCP pair, unix sockets with a path and
** an abstract name, raw, netlink and packet sockets) and on hostile ones,
** and a scan of this process that counts its table reads.
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

static void recorded_tables(void) {
  struct psnap_socktab t = {0};
  int rc = 0;
  for (int k = 0; k < PSNAP_NET__COUNT; k++)
    if (k != PSNAP_NET_UDPLITE && k != PSNAP_NET_UDPLITE6 && k != PSNAP_NET_ICMP && k != PSNAP_NET_ICMP6)
      rc |= load_fixture(&t, k);
  ok(rc == 0, "tables: recorded files load");
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
  struct psnap_fdscan *f;
  struct psnap_err err;
  int rc = psnap_fdscan_open(&f, PSNAP_FDS_SOCKETS, &err);
  ok(rc == 0, "scan: opens");
  if (rc < 0) return;
  int found = 0, others = 0;
  for (int pass = 0; pass < 2; pass++) {
    if (psnap_fdscan_process(f, getpid(), NULL, getpid()) != 0) continue;
    struct psnap_fd d;
    while (psnap_fdscan_next(f, &d) > 0) {
      if (d.type != PSNAP_FD_SOCKET || !d.sock) others++;
      if (d.fd == l && d.sock->family && strcmp(d.sock->state, "LISTEN") == 0 &&
          strcmp(d.sock->local_addr, "127.0.0.1") == 0 && d.sock->local_port == ntohs(sa.sin_port))
        found++;
    }
  }
  ok(found == 2 && others == 0, "scan: the listener is found, only sockets are listed");
  ok(psnap_fdscan_tables_read(f) == 1, "scan: one network namespace, its tables read once for two passes");

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
}

void test_fds(void (*check)(int cond, const char *name)) {
  ok = check;
  fdinfo_and_links();
  flags_text();
  recorded_tables();
  hostile_tables();
  scan_counts();
}
