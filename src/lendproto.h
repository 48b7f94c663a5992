/*
** lendproto.h: what the caller (lend.c) and the name-lending helper
** (helper/lender.c, a program of its own) say to each other, and the one
** walk of a /dev directory that both make.
**
** The helper starts with two descriptors and no others:
**   1  a stream socket to the caller: requests in, each with the root of
**      the process that lends the names (O_PATH, opened by the caller
**      through its own /proc/PID/root) as SCM_RIGHTS; records out
**   2  the read end of a pipe that the caller never writes: its close
**      (the caller done with the helper, or dead) kills the helper
** It answers one request at a time, and exits when none comes for
** LEND_IDLE_S seconds.
** To each it answers with records: a header, then len bytes. HELLO, first, gives
** the helper's pid (the caller kills it past the deadline, and counts it
** while it is stuck); PASSWD and GROUP
** carry a file's bytes in chunks (at most PSNAP_ETC_MAX + 1 of each: one
** byte past the bound tells the caller that the file was cut); TTY carries
** struct ttyname entries (at most LEND_MAX_TTY); END, last, carries the
** helper's status (0, or -errno) and no bytes. A stream that ends without
** END, or breaks a bound, lends nothing.
*/
#ifndef PSNAP_LENDPROTO_H
#define PSNAP_LENDPROTO_H

#include "rawsys.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define LEND_FD_SOCK 1
#define LEND_FD_DEATH 2
#define LEND_MAGIC 0x6c656e64u        /* "lend" */
#define LEND_ID 65534                 /* the helper's uid and gid when the caller can change ids: nobody */
#define LEND_MAX_TTY 4096             /* device names kept from a container's /dev */
#define LEND_CHUNK ((size_t)64 << 10) /* most bytes of one record */
#define LEND_IDLE_S 10                /* a helper with no request for this long exits */

/* What the caller asks for. */
enum { LEND_IDS = 1, LEND_TTY = 2 };

struct lend_req {
  uint32_t magic; /* LEND_MAGIC */
  uint32_t what;  /* LEND_IDS | LEND_TTY */
};

enum { LEND_REC_HELLO = 1, LEND_REC_PASSWD = 2, LEND_REC_GROUP = 3, LEND_REC_TTY = 4, LEND_REC_END = 5 };

struct lend_rec {
  uint32_t kind;  /* LEND_REC_* */
  int32_t status; /* HELLO: the helper's pid; END: 0 or -errno */
  uint32_t len;   /* bytes that follow, at most LEND_CHUNK */
  uint32_t pad;
};

/* A terminal device and its name. */
struct ttyname {
  uint64_t rdev;
  char name[48];
};

/*
** Add the character devices at the top of the /dev directory fd (which
** this takes over and closes) to the table *t of *n names, growing it with
** grow(ctx, old, bytes) (the snapshot's allocator, or the helper's fixed
** table), at most max names; symlinks are never followed. Raw system calls
** only: the helper, which has no C library, walks a container's /dev with
** it, and names.c the host's. 0, or -ENOMEM (the table keeps what it holds).
*/
static inline int lend_dev_walk(int fd, void *(*grow)(void *, void *, size_t), void *ctx, struct ttyname **t, size_t *n,
                                size_t max) {
  if (fd < 0) return 0;
  size_t cap = *n;
  int rc = 0;
  char buf[8192] __attribute__((aligned(8)));
  long got;
  while (rc == 0 && *n < max && (got = RAW3(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
    for (long off = 0; off < got && *n < max;) {
      const struct dirent64 *de = (const struct dirent64 *)(buf + off);
      off += de->d_reclen;
      if (de->d_name[0] == '.' || (de->d_type != DT_CHR && de->d_type != DT_UNKNOWN)) continue;
      struct stat st;
      size_t len = raw_len(de->d_name);
      if (len >= sizeof(*t)->name) continue;
      if (raw_fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISCHR(st.st_mode)) continue;
      if (*n == cap) {
        size_t ncap = cap ? cap * 2 : 64;
        if (ncap > max) ncap = max;
        void *nt = grow(ctx, *t, ncap * sizeof **t);
        if (!nt) {
          rc = -ENOMEM;
          break;
        }
        *t = nt;
        cap = ncap;
      }
      (*t)[*n].rdev = st.st_rdev;
      raw_copy((*t)[*n].name, de->d_name, len + 1);
      (*n)++;
    }
  }
  RAW1(SYS_close, fd);
  return rc;
}

#endif
