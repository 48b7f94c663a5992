/*
** fuzz_readfd.c: the readers of every /proc and /etc file, psnap_readfd(),
** psnap_readproc() (a short read is the end) and psnap_readat(), on a
** memfd of arbitrary contents and size, with arbitrary max values, one
** buffer reused by four reads (readfd from 0, readproc from an offset,
** readat of /proc/self/fd/N, readfd of a directory: -EISDIR), an arbitrary
** starting capacity, and each of its allocations failing in turn.
**
** Input: [cap sel:1][max mode:1][max:4][repeat:1][max2 mode:1][max2:4]
**        [offset:2][bytes...]; the file is bytes repeated 1..64 times.
** Invariants: 0 with len = min(file size - offset, max), the bytes equal
** to the file's, p[len] == '\0' and cap > len (a memfd reads short only at
** its end, so readproc reads the same); or -ENOMEM exactly when an
** allocation was made to fail; after any error the buffer is freeable.
*/
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t pick_max(unsigned mode, uint32_t raw, size_t flen) {
  switch (mode % 4) {
  case 0: return raw;
  case 1: return raw % (flen + 2);
  case 2: return SIZE_MAX;
  default: return raw % 8;
  }
}

enum how { READFD, READPROC, READAT };

/* Read from offset with max into b; check the result; -ENOMEM passes through. */
static int read_check(int fd, enum how how, struct psnap_buf *b, const char *file, size_t flen, size_t off,
                      size_t max) {
  CHECK(lseek(fd, (off_t)off, SEEK_SET) == (off_t)off);
  unsigned before = fuzz_alloc_failed;
  int rc;
  if (how == READAT) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd); /* a new open file: offset 0 */
    CHECK(off == 0);
    rc = psnap_readat(AT_FDCWD, path, 0, b, max);
  } else {
    rc = how == READPROC ? psnap_readproc(fd, b, max) : psnap_readfd(fd, b, max);
  }
  if (rc == -ENOMEM) {
    CHECK(fuzz_alloc_failed > before);
    return rc;
  }
  CHECK(rc == 0);
  CHECK(fuzz_alloc_failed == before);
  size_t want = flen - off < max ? flen - off : max;
  CHECK(b->len == want);
  CHECK(b->p != NULL && b->cap > b->len);
  CHECK(memcmp(b->p, file + off, want) == 0);
  CHECK(b->p[b->len] == '\0');
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const size_t caps[] = {0, 1, 2, 3, 4, 100, 4095, 4096, 4097, 8192};
  static int fd = -1, dirfd = -1;
  if (fd < 0) {
    fd = memfd_create("fuzz_readfd", MFD_CLOEXEC);
    dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(fd >= 0 && dirfd >= 0);
  }
  size_t cap0 = caps[fuzz_take(&data, &size, 1) % (sizeof caps / sizeof caps[0])];
  unsigned mode1 = (unsigned)fuzz_take(&data, &size, 1);
  uint32_t raw1 = (uint32_t)fuzz_take(&data, &size, 4);
  unsigned rep = (unsigned)fuzz_take(&data, &size, 1) % 64 + 1;
  unsigned mode2 = (unsigned)fuzz_take(&data, &size, 1);
  uint32_t raw2 = (uint32_t)fuzz_take(&data, &size, 4);
  unsigned off16 = (unsigned)fuzz_take(&data, &size, 2);

  size_t flen = size * rep;
  char *file = malloc(flen + 1);
  CHECK(file);
  for (unsigned i = 0; i < rep; i++) memcpy(file + (size_t)i * size, data, size);
  CHECK(ftruncate(fd, 0) == 0);
  CHECK(pwrite(fd, file, flen, 0) == (ssize_t)flen);
  size_t max1 = pick_max(mode1, raw1, flen), max2 = pick_max(mode2, raw2, flen);
  size_t off2 = off16 % (flen + 1);

  /* fail_at 0: no failure, counting the allocations; then each in turn */
  unsigned total = 0;
  for (unsigned fail_at = 0; fail_at == 0 || fail_at <= total; fail_at++) {
    fuzz_alloc_reset(fail_at);
    struct psnap_buf b = {0};
    if (cap0) {
      b.p = malloc(cap0);
      CHECK(b.p);
      memset(b.p, 'x', cap0);
      b.cap = cap0;
    }
    if (read_check(fd, READFD, &b, file, flen, 0, max1) == 0 &&
        read_check(fd, READPROC, &b, file, flen, off2, max2) == 0 &&
        read_check(fd, READAT, &b, file, flen, 0, max1) == 0) {
      int rc = psnap_readfd(dirfd, &b, max1);
      CHECK(rc == (max1 ? -EISDIR : 0) || (rc == -ENOMEM && fuzz_alloc_failed));
    }
    psnap_buf_free(&b);
    CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
    if (fail_at == 0)
      total = fuzz_alloc_count;
    else
      CHECK(fuzz_alloc_failed == 1);
  }
  psnap_set_allocator(NULL, NULL, NULL);
  free(file);
  return 0;
}
