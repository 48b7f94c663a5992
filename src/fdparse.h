/*
** fdparse.h: the parsers of fds.c and sockets.c, for the library, the unit
** tests and the fuzzers. Not installed: programs use psfds.h.
**
** Each parser is pure: bytes in (recorded, truncated, hostile), a struct
** out; none asserts on kernel data. The socket tables hold text a process
** controls (a unix socket's path may hold any byte but NUL, newlines too),
** so a table is a list of claims, each as strong as its source can be
** trusted (enum psnap_claim): an inode claimed twice at the strongest kind
** that claims it is ambiguous and answers nothing. A unix table's doubtful
** lines are settled (psnap_socktab_settle) before its rows are used.
*/
#ifndef PSNAP_FDPARSE_H
#define PSNAP_FDPARSE_H

#include "procfs.h"
#include "psfds.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- /proc/PID/fdinfo/N and the link text of /proc/PID/fd/N ---- */

struct psnap_fdinfo {
  long long pos;          /* pos: (decimal); -1 when absent */
  long long flags;        /* flags: (octal); -1 when absent */
  long long mnt_id;       /* mnt_id:; -1 when absent */
  unsigned long long ino; /* ino: (Linux 5.14+); 0 when absent */
  int tty;                /* 1: a tty-index: line (the file is a terminal) */
  int scm_fds;            /* 1: a scm_fds: line: a unix socket (every kernel that prints ino: prints it) */
};
int psnap_parse_fdinfo(const char *buf, size_t len, struct psnap_fdinfo *fi);

/*
** The type of a descriptor (PSNAP_FD_*) from its link text and, when not
** NULL, its fdinfo. Sets *ino from a "kind:[ino]" link (else 0) and
** *deleted for a path ending in " (deleted)".
*/
int psnap_fd_classify(const char *link, size_t len, const struct psnap_fdinfo *fi, unsigned long long *ino,
                      int *deleted);

/* ---- /proc/PID/net/ socket tables ---- */

/* The tables, in the order a scan reads them. */
enum psnap_net_kind {
  PSNAP_NET_TCP,
  PSNAP_NET_TCP6,
  PSNAP_NET_UDP,
  PSNAP_NET_UDP6,
  PSNAP_NET_UDPLITE,
  PSNAP_NET_UDPLITE6,
  PSNAP_NET_RAW,
  PSNAP_NET_RAW6,
  PSNAP_NET_ICMP,
  PSNAP_NET_ICMP6,
  PSNAP_NET_UNIX,
  PSNAP_NET_NETLINK,
  PSNAP_NET_PACKET,
  PSNAP_NET__COUNT
};
/* "tcp", "tcp6", ...: the file name below /proc/PID/net/. */
const char *psnap_net_file(int kind);

enum psnap_sock_family {
  PSNAP_AF_NONE,
  PSNAP_AF_INET,
  PSNAP_AF_INET6,
  PSNAP_AF_UNIX,
  PSNAP_AF_NETLINK,
  PSNAP_AF_PACKET
};

/* The bytes of a unix socket's name at most (sun_path), as /proc/net/unix prints it. */
#define PSNAP_UNIX_NAME_MAX 108u

/*
** How far a row can be trusted (sockets.c says why), strongest first: a
** stronger claim on an inode replaces a weaker one, two of one kind make
** the inode ambiguous.
*/
enum psnap_claim {
  PSNAP_CLAIM_KERNEL,  /* a table of the kernel's text only (inet, netlink, packet), or sock_diag */
  PSNAP_CLAIM_CERTAIN, /* a unix line that no socket's name can hold: a record's first line */
  PSNAP_CLAIM_STOOD,   /* a doubtful unix line that psnap_socktab_settle() let stand */
  PSNAP_CLAIM_DOUBTFUL /* a unix line that starts a record, or lies inside the name of one above */
};

/* One row of a socket table. */
struct psnap_sockent {
  uint64_t inode;
  uint8_t kind;      /* PSNAP_NET_* */
  uint8_t family;    /* PSNAP_AF_* */
  uint8_t state;     /* the kernel's TCP_* number (unix: rebuilt, see sockets.c); 0 none */
  uint8_t ambiguous; /* 1: more than one row of its kind of claim claims the inode */
  uint16_t type;     /* unix and packet: SOCK_* type; netlink: the protocol */
  uint8_t claim;     /* PSNAP_CLAIM_* */
  uint8_t named;     /* a unix line: a name follows the inode (path_len 0: it starts with a newline) */
  uint8_t laddr[16]; /* inet: 4 bytes, inet6: 16, in network order */
  uint8_t raddr[16];
  int64_t lport, rport; /* -1 when none */
  uint32_t path_off;    /* unix: the path in the table's pool */
  uint32_t path_len;    /* 0: no path (or none that can be delimited) */
  uint64_t pivot;       /* unix: the path ends before the doubtful line of this inode, if it is a record */
};

/*
** Parse one line (without its '\n') of a table of the given kind into e.
** Returns 1 for a socket row, 0 for a line that is none (the header, a
** truncated or malformed line, a row with inode 0). A unix row's name, when
** one follows the inode (e->named), is left at path_off = offset in line,
** path_len = the bytes to the end of the line: its first line only, as a
** name may hold newlines (psnap_socktab_add delimits it).
*/
int psnap_parse_sock_line(int kind, const char *line, size_t len, struct psnap_sockent *e);

/* The sockets of one network namespace: its tables' rows, by inode. */
struct psnap_socktab {
  unsigned long long netns; /* inode of the network namespace */
  struct psnap_sockent *e;
  size_t n, cap;
  uint32_t *slot; /* open addressing over e by inode: index + 1, 0 empty */
  size_t nslots;  /* a power of two, more than twice n */
  char *pool;     /* unix paths */
  size_t pool_len, pool_cap;
};
/*
** Add the rows of one whole table text (its header line included); a last
** line without its '\n' is taken as cut. 0 or -ENOMEM.
*/
int psnap_socktab_add(struct psnap_socktab *t, int kind, const char *buf, size_t len);
/*
** Add the unix sockets of one recv() of NETLINK_SOCK_DIAG's answer to an
** AF_UNIX request with UDIAG_SHOW_NAME (whole netlink messages), as
** PSNAP_CLAIM_KERNEL rows. 0: more may follow; 1: the answer is whole
** (NLMSG_DONE, or an acknowledgement); -errno: the kernel's error
** (NLMSG_ERROR), -EPROTO for a malformed message, -ENOMEM.
*/
int psnap_socktab_add_unix_diag(struct psnap_socktab *t, const void *buf, size_t len);
/* The row of an inode, or NULL; *claims is set to how many rows claim it (0, 1, 2 = many). */
const struct psnap_sockent *psnap_socktab_find(const struct psnap_socktab *t, uint64_t inode, int *claims);
/*
** How many lines of a unix table's text claim as PSNAP_CLAIM_DOUBTFUL: 0
** when every row and path of it can be read from the text alone.
*/
size_t psnap_unix_text_doubtful(const char *buf, size_t len);
/*
** Once every table of the namespace is in t: each doubtful claim that no
** other claim contests becomes PSNAP_CLAIM_STOOD when stands(ctx, inode)
** returns 1 (0: it stays doubtful and answers nothing; stands NULL: none
** stands), and a path that ends before a doubtful line (pivot) is kept
** only when that line's claim stood. 0, or the -errno stands() returned.
*/
int psnap_socktab_settle(struct psnap_socktab *t, int (*stands)(void *ctx, uint64_t inode), void *ctx);
void psnap_socktab_free(struct psnap_socktab *t);

/*
** sock_diag (sockdiag.c): a diag socket answers for the network namespace
** of the thread that made it. psnap_diag_open() makes one for the calling
** thread's (/proc/thread-self/ns/net names it): its fd, or -errno. A dump
** adds every unix socket of that namespace to t (b: a buffer for the
** answers), a find adds the one of inode ino: 1 when there is one, 0 when
** not. Both return -errno on failure, after which the socket must be
** closed (an answer may be left in it).
*/
int psnap_diag_open(void);
int psnap_diag_unix_dump(int fd, struct psnap_buf *b, struct psnap_socktab *t);
int psnap_diag_unix_find(int fd, struct psnap_buf *b, unsigned long long ino, struct psnap_socktab *t);

/*
** Names: the family ("inet", ...), the protocol ("tcp"; a unix socket's
** type "stream"; a netlink protocol "route"), the state ("LISTEN"): NULL
** when there is none. An address as text (inet_ntop): its length, 0 when
** there is none.
*/
const char *psnap_sock_family_name(int family);
const char *psnap_sock_proto_name(const struct psnap_sockent *e);
const char *psnap_sock_state_name(const struct psnap_sockent *e);
size_t psnap_sock_addr_format(int family, const uint8_t addr[16], char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
