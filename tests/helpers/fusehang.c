/*
** fusehang: mount a FUSE filesystem whose daemon never answers, for the
** deadline tests of sqlite-ps (tests/test_trust.py).
**
**   build/helpers/fusehang [--read] PID PATH
**
** Opens /dev/fuse, joins the mount namespace of process PID (setns; PID 0:
** stay in our own) and mounts a "fuse" filesystem on PATH, as seen there,
** with mount(2) directly (no libfuse, no fusermount):
**
**   fd=N,rootmode=40000,user_id=0,group_id=0,allow_other
**
** It never reads /dev/fuse, so not even FUSE_INIT is answered and every
** request on the mount (lookup, getattr, open, readdir) waits in the
** kernel: stat(PATH), opendir(PATH) and any lookup below PATH hang, only
** an O_PATH open of PATH itself (no request) returns. The wait is
** killable (SIGKILL ends the waiting process).
**
** --read: the daemon answers FUSE_INIT and then reads every request and
** answers none. A request the daemon has read is past the point where a
** signal can end its wait: the waiting process sleeps uninterruptibly
** (state D), SIGKILL included, until the daemon dies.
**
** When the mount is made (with --read: and FUSE_INIT answered) it prints "ready pid=PID" (its own pid) on stdout
** and sleeps until killed. Once the last fd of /dev/fuse is closed (the
** helper dies, whatever the signal) the kernel aborts the connection: the
** waiting requests fail with ENOTCONN, and so does every later access. The
** mount stays, dead: unmount it, or let its mount namespace die with the
** container. The helper dies with its parent (PR_SET_PDEATHSIG), so a
** crashed test leaves no hanging mount behind a live daemon.
**
** Needs CAP_SYS_ADMIN (root). Errors: "fusehang: ..." on stderr, exit 1.
*/
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdint.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

static void die(const char *what, const char *arg) {
  fprintf(stderr, "fusehang: %s %s: %s\n", what, arg, strerror(errno));
  exit(1);
}

/* --read: answer FUSE_INIT, then read every request and answer none. */
static void serve_init_only(int fd) {
  static char buf[1 << 17] __attribute__((aligned(8)));
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < (ssize_t)sizeof(struct fuse_in_header)) die("read", "/dev/fuse");
    const struct fuse_in_header *in = (const void *)buf;
    if (in->opcode != FUSE_INIT) continue; /* read, never answered */
    const struct fuse_init_in *ii = (const void *)(in + 1);
    struct {
      struct fuse_out_header h;
      struct fuse_init_out o;
    } out;
    memset(&out, 0, sizeof out);
    out.h.len = sizeof out;
    out.h.unique = in->unique;
    out.o.major = FUSE_KERNEL_VERSION;
    out.o.minor = FUSE_KERNEL_MINOR_VERSION;
    out.o.max_readahead = ii->max_readahead;
    out.o.max_write = 4096;
    out.o.time_gran = 1;
    if (write(fd, &out, sizeof out) != (ssize_t)sizeof out) die("write", "FUSE_INIT reply");
    printf("ready pid=%d\n", (int)getpid());
    fflush(stdout);
  }
}

int main(int argc, char **argv) {
  int rd = argc == 4 && strcmp(argv[1], "--read") == 0;
  argv += rd;
  argc -= rd;
  if (argc != 3) {
    fprintf(stderr, "usage: fusehang [--read] PID PATH\n");
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
  if (mount("fusehang", argv[2], "fuse", MS_NOSUID | MS_NODEV, opts) < 0) die("mount fuse on", argv[2]);
  if (rd) serve_init_only(fd);
  printf("ready pid=%d\n", (int)getpid());
  fflush(stdout);
  for (;;) pause(); /* never read fd */
}
