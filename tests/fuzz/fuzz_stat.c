/*
** fuzz_stat.c: psnap_parse_stat() on arbitrary /proc/PID/stat contents.
**
** Invariants beyond "no crash": the result is 0 or -EINVAL; on success comm
** is NUL-terminated inside its 64 bytes and is the text between the first
** '(' and the last ')' (cut to 63 bytes), and state is the first non-space
** byte after that ')'. A reference tokenizer (space-separated signed
** decimals, wrapping modulo 2^64) checks pid and the numeric fields
** (4)..(24), and that the parse fails exactly when one of them is missing;
** processor (39) is its value when (25)..(39) all follow and it lies in
** 0..INT_MAX, else -1; exit_signal (38) its value when (25)..(38) follow
** and it lies in -1..INT_MAX, else 0.
**
** It found next_ll() negating LLONG_MIN ("-9223372036854775808", or "-1"
** and 63 zeros, which wraps to it): undefined behaviour, fixed in b394979
** (tests/fuzz/regress/stat).
*/
#include <errno.h>
#include <limits.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Spaces, an optional sign, then decimal digits: 1 and the value, or 0. */
static int ref_ll(const char **p, const char *end, long long *v) {
  const char *s = *p;
  while (s < end && *s == ' ') s++;
  int neg = s < end && *s == '-';
  if (s < end && (*s == '-' || *s == '+')) s++;
  if (s >= end || *s < '0' || *s > '9') return 0;
  unsigned long long x = 0;
  for (; s < end && *s >= '0' && *s <= '9'; s++) x = x * 10 + (unsigned long long)(*s - '0');
  *v = (long long)(neg ? 0 - x : x);
  *p = s;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *)data;
  struct psnap_stat st;
  int rc = psnap_parse_stat(buf, size, &st);
  CHECK(rc == 0 || rc == -EINVAL);

  /* the reference */
  const char *open = memchr(buf, '(', size), *close = NULL;
  for (const char *q = buf + size; open && q > open + 1;)
    if (*--q == ')') {
      close = q;
      break;
    }
  const char *p = buf;
  long long pid, f[40];
  int upto = 0;
  int ok = open && close && ref_ll(&p, open, &pid);
  if (ok) {
    p = close + 1;
    while (p < buf + size && *p == ' ') p++;
    ok = p < buf + size; /* (3) state: one byte */
    if (ok) p++;
    for (int i = 4; ok && i <= 24; i++) ok = ref_ll(&p, buf + size, &f[i]);
    for (upto = 24; ok && upto < 39 && ref_ll(&p, buf + size, &f[upto + 1]);) upto++;
  }
  CHECK(ok == (rc == 0));
  if (rc != 0) return 0;
  CHECK(st.pid == (int)pid && st.ppid == (int)f[4] && st.pgrp == (int)f[5] && st.session == (int)f[6]);
  CHECK(st.tty_nr == (int)f[7] && st.utime == (unsigned long long)f[14] && st.stime == (unsigned long long)f[15]);
  CHECK(st.priority == (long)f[18] && st.nice == (long)f[19] && st.num_threads == (long)f[20]);
  CHECK(st.start == (unsigned long long)f[22] && st.vsize == (unsigned long long)f[23] && st.rss == f[24]);
  CHECK(st.processor == (upto == 39 && f[39] >= 0 && f[39] <= INT_MAX ? (int)f[39] : -1));
  CHECK(st.exit_signal == (upto >= 38 && f[38] >= -1 && f[38] <= INT_MAX ? (int)f[38] : 0));

  CHECK(memchr(st.comm, '\0', sizeof st.comm) != NULL);
  size_t n = (size_t)(close - open - 1);
  if (n > sizeof st.comm - 1) n = sizeof st.comm - 1;
  CHECK(memcmp(st.comm, open + 1, n) == 0);
  CHECK(st.comm[n] == '\0');
  p = close + 1;
  while (p < buf + size && *p == ' ') p++;
  CHECK(p < buf + size && st.state == *p);
  return 0;
}
