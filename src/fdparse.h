/*
** fdparse.h: the parsers of fds.c and sockets.c, for the library, the unit
** tests and the fuzzers. Not installed: programs use psfds.h.
**
** Each parser is pure: bytes in (recorded, truncated, hostile), a struct
** out; none asserts on kernel data. The socket tables hold text a process
** controls (a unix socket's path may hold any byte but NUL, newlines too),
** so a table is a list of claims: an inode claimed twice is ambiguous and
** answers nothing.
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

/* One row of a socket table. */
struct psnap_sockent {
  uint64_t inode;
  uint8_t kind;      /* PSNAP_NET_* */
  uint8_t family;    /* PSNAP_AF_* */
  uint8_t state;     /* the kernel's TCP_* number (unix: rebuilt, see sockets.c); 0 none */
  uint8_t ambiguous; /* 1: the inode is claimed by more than one row */
  uint16_t type;     /* unix and packet: SOCK_* type; netlink: the protocol */
  uint8_t laddr[16]; /* inet: 4 bytes, inet6: 16, in network order */
  uint8_t raddr[16];
  int64_t lport, rport; /* -1 when none */
  uint32_t path_off;    /* unix: the path in the table's pool */
  uint32_t path_len;    /* 0: no path */
};

/*
** Parse one line (without its '\n') of a table of the given kind into e.
** Returns 1 for a socket row, 0 for a line that is none (the header, a
** truncated or malformed line, a row with inode 0). A unix row's path is
** left at path_off = offset of the path in line, path_len its length.
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
/* Add the rows of one whole table text (its header line included): 0 or -ENOMEM. */
int psnap_socktab_add(struct psnap_socktab *t, int kind, const char *buf, size_t len);
/* The row of an inode, or NULL; *claims is set to how many rows claim it (0, 1, 2 = many). */
const struct psnap_sockent *psnap_socktab_find(const struct psnap_socktab *t, uint64_t inode, int *claims);
void psnap_socktab_free(struct psnap_socktab *t);

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
