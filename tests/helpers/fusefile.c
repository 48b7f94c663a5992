/*
** fusefile: a FUSE file system with one regular file that answers until it
** is told to stop, for the ps_fds tests (tests/test_fds.py): a process opens
** the file while the daemon answers and keeps it open; then the daemon
** stops, and every request on the mount waits in the kernel for ever. A
** stat() of /proc/PID/fd/N (lsof without -b) then hangs on FUSE_GETATTR
** (attributes are never cached: their timeout is 0); reading the link's
** text or fdinfo asks the file system nothing.
**
**   build/helpers/fusefile PID PATH
**
** Opens /dev/fuse, joins the mount namespace of process PID (setns; PID 0:
** stay in our own) and mounts a "fuse" file system on PATH, as seen there,
** with mount(2) directly (no libfuse):
**   fd=N,rootmode=40000,user_id=0,group_id=0,allow_other
** Its root directory holds one file, "file" (mode 0644, 5 bytes), which
** lookup, getattr, open, read, flush and release answer; other requests
** get ENOSYS. Prints "ready pid=PID" (its own pid) once the mount is made,
** then answers requests until a line "hang" arrives on stdin: it prints
** "hung" and never reads /dev/fuse again. It dies with its parent
** (PR_SET_PDEATHSIG); once the last fd of /dev/fuse is closed the kernel
** aborts the connection and the waiting requests fail with ENOTCONN.
**
** Needs CAP_SYS_ADMIN (root). Errors: "fusefile: ..." on stderr, exit 1.
*/
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUF_SIZE (1u << 20) + 4096u
#define FILE_INO 2
static const char content[] = "hello";

static void die(const char *what, const char *arg) {
  fprintf(stderr, "fusefile: %s %s: %s\n", what, arg, strerror(errno));
  exit(1);
}

/* Send a reply: the header and len bytes of body. */
static void reply(int fd, uint64_t unique, int error, const void *body, size_t len) {
  char out[sizeof(struct fuse_out_header) + 4096];
  struct fuse_out_header h = {.len = (uint32_t)(sizeof h + len), .error = error, .unique = unique};
  memcpy(out, &h, sizeof h);
  if (len) memcpy(out + sizeof h, body, len);
  if (write(fd, out, h.len) < 0 && errno != ENOENT) die("write", "/dev/fuse");
}

static void attr_of(uint64_t nodeid, struct fuse_attr *a) {
  memset(a, 0, sizeof *a);
  a->ino = nodeid;
  a->nlink = 1;
  a->blksize = 4096;
  if (nodeid == FILE_INO) {
    a->mode = S_IFREG | 0644;
    a->size = sizeof content - 1;
  } else {
    a->mode = S_IFDIR | 0755;
    a->nlink = 2;
  }
}

/* Answer one request. */
static void serve(int fd, const char *buf, size_t n) {
  const struct fuse_in_header *in = (const void *)buf;
  const char *arg = buf + sizeof *in;
  if (n < sizeof *in) return;
  switch (in->opcode) {
  case FUSE_INIT: {
    const struct fuse_init_in *ii = (const void *)arg;
    struct fuse_init_out o = {.major = FUSE_KERNEL_VERSION,
                              .minor = ii->minor < FUSE_KERNEL_MINOR_VERSION ? ii->minor : FUSE_KERNEL_MINOR_VERSION,
                              .max_readahead = ii->max_readahead,
                              .max_write = 65536,
                              .max_background = 16,
                              .congestion_threshold = 12,
                              .time_gran = 1};
    reply(fd, in->unique, 0, &o, sizeof o);
    break;
  }
  case FUSE_LOOKUP:
    if (in->nodeid == FUSE_ROOT_ID && strcmp(arg, "file") == 0) {
      struct fuse_entry_out e = {.nodeid = FILE_INO, .generation = 1}; /* entry and attr timeouts 0 */
      attr_of(FILE_INO, &e.attr);
      reply(fd, in->unique, 0, &e, sizeof e);
    } else {
      reply(fd, in->unique, -ENOENT, NULL, 0);
    }
    break;
  case FUSE_GETATTR: {
    struct fuse_attr_out a = {0};
    attr_of(in->nodeid, &a.attr);
    reply(fd, in->unique, 0, &a, sizeof a);
    break;
  }
  case FUSE_OPEN: {
    struct fuse_open_out o = {.fh = 1};
    reply(fd, in->unique, 0, &o, sizeof o);
    break;
  }
  case FUSE_READ: {
    const struct fuse_read_in *r = (const void *)arg;
    size_t off = r->offset < sizeof content - 1 ? (size_t)r->offset : sizeof content - 1;
    size_t len = sizeof content - 1 - off;
    if (len > r->size) len = r->size;
    reply(fd, in->unique, 0, content + off, len);
    break;
  }
  case FUSE_FLUSH:
  case FUSE_RELEASE: reply(fd, in->unique, 0, NULL, 0); break;
  case FUSE_FORGET:
  case FUSE_BATCH_FORGET:
  case FUSE_INTERRUPT: break; /* no reply */
  default: reply(fd, in->unique, -ENOSYS, NULL, 0); break;
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: fusefile PID PATH\n");
    return 2;
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die("prctl", "PR_SET_PDEATHSIG");
  if (getppid() == 1) return 1; /* the parent is gone already */
  int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) die("open", "/dev/fuse");
  if (atoi(argv[1]) > 0) {
    char ns[64];
    snprintf(ns, sizeof ns, "/proc/%s/ns/mnt", argv[1]);
    int nfd = open(ns, O_RDONLY | O_CLOEXEC);
    if (nfd < 0) die("open", ns);
    if (setns(nfd, CLONE_NEWNS) < 0) die("setns", ns);
    close(nfd);
  }
  char opts[128];
  snprintf(opts, sizeof opts, "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", fd);
  if (mount("fusefile", argv[2], "fuse", MS_NOSUID | MS_NODEV, opts) < 0) die("mount fuse on", argv[2]);
  printf("ready pid=%d\n", (int)getpid());
  fflush(stdout);
  char *buf = malloc(BUF_SIZE);
  if (!buf) die("malloc", "buffer");
  for (;;) {
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll", "/dev/fuse");
    }
    if (p[1].revents) {
      char line[16] = {0};
      ssize_t k = read(0, line, sizeof line - 1);
      if (k <= 0 || strncmp(line, "hang", 4) == 0) break;
    }
    if (p[0].revents & POLLIN) {
      ssize_t n = read(fd, buf, BUF_SIZE);
      if (n < 0 && (errno == EINTR || errno == ENOENT || errno == EAGAIN)) continue;
      if (n < 0) die("read", "/dev/fuse");
      serve(fd, buf, (size_t)n);
    }
  }
  printf("hung\n");
  fflush(stdout);
  for (;;) pause(); /* never read /dev/fuse again */
}
