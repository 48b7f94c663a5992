/*
** sockdiag.c: the unix sockets of the caller's own network namespace, as
** the kernel keeps them: NETLINK_SOCK_DIAG (linux/sock_diag.h,
** linux/unix_diag.h), which any user may ask, answers for the network
** namespace its socket was made in. Names come exact (UNIX_DIAG_NAME),
** where /proc/net/unix prints them raw and a newline in one can pass for a
** line of its own (sockets.c). sockets.c parses the answers; this file
** only talks.
**
** A diag socket is made by the calling thread, so it answers for that
** thread's namespace (/proc/thread-self/ns/net, read just before): the
** scan (fds.c) asks it only about that namespace, and reads every other
** one's /proc/PID/net/unix. Each request is answered whole before the
** next: on any failure the socket is closed, so no stale answer is read
** later. Nothing here blocks on another process: the kernel builds the
** answer in recv().
*/
#include "fdparse.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

/* Bytes of one recv(): the kernel sizes a dump's messages to the reader's buffer, up to 32 KiB. */
#define DIAG_RECV_BUF 32768u

/* inet_diag.h's INET_DIAG_NOCOOKIE: ask by inode alone */
#define NOCOOKIE (~0u)

/* A diag socket of the calling thread's network namespace: its fd, or -errno. */
int psnap_diag_open(void) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  return fd < 0 ? -errno : fd;
}

/* Send one AF_UNIX request (dump: every socket; else the one of inode ino): 0 or -errno. */
static int ask(int fd, int dump, uint32_t ino) {
  struct {
    struct nlmsghdr h;
    struct unix_diag_req r;
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0));
  req.r.sdiag_family = AF_UNIX;
  req.r.udiag_states = ~0u;
  req.r.udiag_ino = ino;
  req.r.udiag_show = UDIAG_SHOW_NAME;
  req.r.udiag_cookie[0] = req.r.udiag_cookie[1] = NOCOOKIE;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  for (;;) {
    ssize_t n = sendto(fd, &req, sizeof req, 0, (const struct sockaddr *)&kernel, sizeof kernel);
    if (n == (ssize_t)sizeof req) return 0;
    if (n >= 0) return -EIO;
    if (errno != EINTR) return -errno;
  }
}

/*
** Read the answer into t: to NLMSG_DONE (a dump), or its one message (one
** socket, or an error). Never waits: the kernel queues each part of the
** answer before the reader asks for it (during sendto(), then in each
** recv() for the next part of a dump). 0 or -errno.
*/
static int answer(int fd, int dump, struct psnap_buf *b, struct psnap_socktab *t) {
  if (b->cap < DIAG_RECV_BUF) {
    char *np = psnap_realloc(b->p, DIAG_RECV_BUF);
    if (!np) return -ENOMEM;
    b->p = np;
    b->cap = DIAG_RECV_BUF;
  }
  for (;;) {
    ssize_t n = recv(fd, b->p, b->cap, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return -EIO;
    if ((size_t)n > b->cap) return -EMSGSIZE;
    b->len = (size_t)n;
    int rc = psnap_socktab_add_unix_diag(t, b->p, b->len);
    if (rc != 0 || !dump) return rc < 0 ? rc : 0;
  }
}

/* Every unix socket of the diag socket's namespace into t (see fdparse.h). */
int psnap_diag_unix_dump(int fd, struct psnap_buf *b, struct psnap_socktab *t) {
  int rc = ask(fd, 1, 0);
  return rc < 0 ? rc : answer(fd, 1, b, t);
}

/* The unix socket of inode ino, if the diag socket's namespace has it, into t (see fdparse.h). */
int psnap_diag_unix_find(int fd, struct psnap_buf *b, unsigned long long ino, struct psnap_socktab *t) {
  if (ino == 0 || ino > UINT32_MAX) return 0; /* udiag_ino is 32 bits, as are socket inodes (get_next_ino) */
  int rc = ask(fd, 0, (uint32_t)ino);
  if (rc == 0) rc = answer(fd, 0, b, t);
  if (rc == -ENOENT) return 0;
  if (rc < 0) return rc;
  int claims;
  return psnap_socktab_find(t, ino, &claims) != NULL;
}
