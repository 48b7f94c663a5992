/*
** fuzz_readfd.c: psnap_readfd(), the one reader of every /proc and /etc
** file (cmdline included: desc.c's get_args is static and only joins the
** bytes read here), on a memfd of arbitrary contents and size, with
** arbitrary max values, a buffer reused between two reads, an arbitrary
** starting capacity, and each of its allocations failing in turn.
**
** Input: [cap sel:1][max mode:1][max:4][repeat:1][max2 mode:1][max2:4]
**        [offset:2][bytes...]; the file is bytes repeated 1..64 times.
** Invariants: 0 with len = min(file size - offset, max), the bytes equal
** to the file's, p[len] == '\0' and cap > len; or -ENOMEM exactly when an
** allocation was made to fail, with the buffer still freeable.
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

/* Read from offset with max into b; check the result; -ENOMEM passes through. */
static int read_check(int fd, struct psnap_buf *b, const char *file, size_t flen, size_t off, size_t max) {
  CHECK(lseek(fd, (off_t)off, SEEK_SET) == (off_t)off);
  unsigned before = fuzz_alloc_failed;
  int rc = psnap_readfd(fd, b, max);
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
  static int fd = -1;
  if (fd < 0) {
    fd = memfd_create("fuzz_readfd", MFD_CLOEXEC);
    CHECK(fd >= 0);
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
    if (read_check(fd, &b, file, flen, 0, max1) == 0) read_check(fd, &b, file, flen, off2, max2);
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
