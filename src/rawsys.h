/*
** rawsys.h: system calls that touch no memory of the C library.
**
** The program that reads a container's names (helper/lender.c) has no C
** library: everything it calls goes through raw_sys(), which returns
** -errno and stores nothing, and copies with raw_copy(), which no compiler
** turns into a call of memcpy(). The children that start it (lend.c) run
** in the caller's address space until their exec, with the caller's
** thread pointer: they use raw_sys() too, so no errno of the caller's is
** written under it.
**
** RAW_SYS_INLINE is 1 where raw_sys() is a system call instruction
** (x86_64, aarch64); elsewhere it is glibc's syscall(), and the helper
** program cannot be built.
**
** RAW_CHILD marks the functions those children run: no sanitizer
** instrumentation (its run-time keeps per-thread state in the thread
** pointer's TLS too).
*/
#ifndef PSNAP_RAWSYS_H
#define PSNAP_RAWSYS_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__clang__) || __GNUC__ >= 8
#define RAW_CHILD __attribute__((no_sanitize("address", "undefined"), noinline))
#else
#define RAW_CHILD __attribute__((no_sanitize_address, noinline))
#endif

#if defined(__x86_64__) || defined(__aarch64__)
#define RAW_SYS_INLINE 1
#else
#define RAW_SYS_INLINE 0
#endif

#if !RAW_SYS_INLINE || defined(__clang_analyzer__)
/* glibc's syscall(); also what the analyzer reads, as it cannot see what a
   system call instruction writes (getdents64 fills its buffer) */
static inline long raw_sys(long n, long a, long b, long c, long d, long e, long f) {
  long r = syscall(n, a, b, c, d, e, f);
  return r < 0 ? -errno : r;
}
#elif defined(__x86_64__)
static inline long raw_sys(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#else /* aarch64 */
static inline long raw_sys(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
#endif

#define RAW0(n) raw_sys((n), 0, 0, 0, 0, 0, 0)
#define RAW1(n, a) raw_sys((n), (long)(a), 0, 0, 0, 0, 0)
#define RAW2(n, a, b) raw_sys((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define RAW3(n, a, b, c) raw_sys((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define RAW4(n, a, b, c, d) raw_sys((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define RAW6(n, a, b, c, d, e, f) raw_sys((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* fstatat() (path "" with AT_EMPTY_PATH: fstat()); 0 or -errno. */
#if RAW_SYS_INLINE
#define raw_fstatat(fd, path, st, flags) ((int)RAW4(SYS_newfstatat, (fd), (path), (st), (flags)))
#else
#define raw_fstatat(fd, path, st, flags) (fstatat((fd), (path), (st), (flags)) < 0 ? -errno : 0)
#endif

/* n bytes from src to dst; volatile, so that it stays a loop. */
static inline void raw_copy(void *dst, const void *src, size_t n) {
  volatile char *d = dst;
  const volatile char *s = src;
  while (n--) *d++ = *s++;
}

/* strlen() without the C library. */
static inline size_t raw_len(const char *s) {
  const volatile char *p = s;
  while (*p) p++;
  return (size_t)(p - s);
}

#endif
