/*
** psfds: the open file descriptors and sockets of processes, read from the
** caller's own /proc, with no SQLite in them (ps_fds and ps_sockets use it).
**
** A scan visits one process at a time: psnap_fdscan_process() opens
** /proc/HPID of the caller's /proc (checking, for a PID namespace view, that
** the process still is pid VPID of that namespace), then psnap_fdscan_next()
** hands back its descriptors in fd order:
**
**   struct psnap_fdscan *f;
**   struct psnap_fd d;
**   if (psnap_fdscan_open(&f, PSNAP_FDS_INFO, &err) < 0) ... err.msg ...
**   if (psnap_fdscan_process(f, hpid, NULL, hpid) == 0)
**     while (psnap_fdscan_next(f, &d) > 0) printf("%d %s\n", d.fd, d.target);
**   psnap_fdscan_close(f);
**
** What a descriptor is comes from the text of its /proc/PID/fd/N link and
** from /proc/PID/fdinfo/N only: its target is never stat()ed or opened, as
** that could call into a container's FUSE daemon on the calling thread.
**
** With PSNAP_FDS_SOCKETS only socket descriptors are listed, each matched by
** inode with the socket tables (/proc/PID/net/tcp, tcp6, udp, udp6,
** udplite, udplite6, raw, raw6, icmp, icmp6, unix, netlink, packet) of the
** process's own network namespace; the unix sockets of the caller's own
** namespace come from NETLINK_SOCK_DIAG instead (exact names). Those are
** read once per network namespace per scan (the scan caches them by ns/net
** inode), so every process of a namespace costs one read of its tables,
** not one each. Where another namespace's unix text has lines that a
** socket's name could hold (sockets.c), the scan lists the sockets the
** namespace's processes hold (a census, once) and reads that text again.
**
** Every function returns 0 (or a count) on success and -errno on failure;
** none prints, exits or aborts. Text stays valid until the next call on
** the same scan.
*/
#ifndef PSNAP_FDS_H
#define PSNAP_FDS_H

#include <stddef.h>
#include <stdint.h>

#include "psnap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a descriptor refers to, from its link text and fdinfo (fds.c says how). */
enum psnap_fd_type {
  PSNAP_FD_OTHER,  /* link text of no known form */
  PSNAP_FD_FILE,   /* a path (a directory opened without O_DIRECTORY reads file too) */
  PSNAP_FD_DIR,    /* a path opened with O_DIRECTORY, or "/" */
  PSNAP_FD_DEVICE, /* a terminal (fdinfo tty-index), or a path below /dev/ */
  PSNAP_FD_SOCKET, /* socket:[ino] */
  PSNAP_FD_PIPE,   /* pipe:[ino] (a named FIFO shows its path: file) */
  PSNAP_FD_ANON,   /* anon_inode:...: eventfd, eventpoll, timerfd, signalfd, pidfd, ... */
  PSNAP_FD_MEMFD,  /* /memfd:NAME (deleted) */
  PSNAP_FD_NS,     /* a namespace: net:[ino], mnt:[ino], ... */
  PSNAP_FD__COUNT
};
/* "file", "dir", ...: the names of the types above. */
const char *psnap_fd_type_name(int type);

/* A socket's row in its network namespace's tables. */
struct psnap_sock {
  const char *family;       /* inet, inet6, unix, netlink, packet; NULL: no table read lists it */
  const char *proto;        /* tcp, udp, udplite, raw, icmp; stream, dgram, seqpacket; route, ... */
  const char *state;        /* LISTEN, ESTABLISHED, CLOSE, ... (sockets.c); NULL when none */
  const char *local_addr;   /* 127.0.0.1, ::1; NULL when none */
  const char *remote_addr;  /* NULL when none */
  long long local_port;     /* -1 when none (netlink: the port id; raw: the protocol) */
  long long remote_port;    /* -1 when none */
  const char *path;         /* unix: the bound path ('@' starts an abstract name); NULL */
  size_t path_len;          /* bytes of path */
  unsigned long long netns; /* inode of the network namespace whose tables list it; 0 */
};

/* One open file descriptor. */
struct psnap_fd {
  int fd;
  int type;                      /* PSNAP_FD_* */
  const char *target;            /* the link text: a path, "socket:[123]", "anon_inode:[eventfd]" */
  size_t target_len;             /* bytes of target */
  int deleted;                   /* 1: the link text ends in " (deleted)" */
  unsigned long long inode;      /* from the link text or fdinfo's ino; 0 when unknown */
  long long pos;                 /* fdinfo pos; -1 when not read */
  long long flags;               /* fdinfo flags, O_* bits as the kernel reports them; -1 when not read */
  long long mnt_id;              /* fdinfo mnt_id; -1 when not read */
  const struct psnap_sock *sock; /* PSNAP_FDS_SOCKETS: the socket's table row; else NULL */
};

/*
** fdinfo flags as text: the access mode, then the other O_* names in bit
** order, joined by '|' ("O_RDWR|O_NONBLOCK|O_CLOEXEC"); O_LARGEFILE, which
** the kernel sets on every open of a 64-bit process, is left out; bits
** without a name end the text as one octal number ("|040000000000").
** Writes at most cap bytes with the NUL; returns the length of the whole
** text (as snprintf does).
*/
size_t psnap_fd_flags_format(long long flags, char *out, size_t cap);

/* What a scan reads. */
enum {
  PSNAP_FDS_INFO = 1u << 0,   /* also /proc/PID/fdinfo/N: pos, flags, mnt_id, ino, terminals */
  PSNAP_FDS_SOCKETS = 1u << 1 /* only sockets, matched with their namespace's tables */
};

/* Limits, named once. */
#define PSNAP_FDLINK_MAX 4096u           /* most bytes of an fd's link text (PATH_MAX) */
#define PSNAP_FDINFO_MAX (1u << 20)      /* most bytes of one fdinfo file (an epoll's lists its targets) */
#define PSNAP_NET_TABLE_MAX (256u << 20) /* most bytes of one /proc/PID/net/ table */

struct psnap_fdscan;
int psnap_fdscan_open(struct psnap_fdscan **out, unsigned what, struct psnap_err *err);
/*
** Start on process hpid (a pid of the caller's /proc). With a target of
** level > 0, the process must still be pid vpid of that PID namespace (or
** of one nested in it): a host pid reused meanwhile is not listed under
** the old process's pid. 0: ready; -ESRCH: gone (or not that process any
** more); -EACCES, -EPERM: its fds are not the caller's to read (needs
** ptrace read access); -ENOMEM.
*/
int psnap_fdscan_process(struct psnap_fdscan *f, int hpid, const struct psnap_target *t, long long vpid);
int psnap_fdscan_next(struct psnap_fdscan *f, struct psnap_fd *out); /* 1: a descriptor, 0: done, -ENOMEM */
void psnap_fdscan_close(struct psnap_fdscan *f);

/* Counters for tests and benchmarks: files opened (and links read) by
   this scan, sets of socket tables read (one per network namespace), and
   requests to sock_diag (a dump of the caller's namespace's unix sockets,
   or one socket asked for by inode). */
unsigned long psnap_fdscan_files_opened(const struct psnap_fdscan *f);
unsigned long psnap_fdscan_tables_read(const struct psnap_fdscan *f);
unsigned long psnap_fdscan_diag_requests(const struct psnap_fdscan *f);

#ifdef __cplusplus
}
#endif
#endif
