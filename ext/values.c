/*
** values.c: the values of constraints as the tables read them in xFilter:
** a value shown safely in an error message, a value as a whole number, and
** each value of an IN list handed over whole (sqlite3_vtab_in).
**
** Used by ext/ps.c (ps) and ext/fds.c (ps_fds, ps_sockets).
*/
#include "ps.h"

#include <stddef.h>

/*
** A value as it may appear in an error message: blobs as x'..' in hex,
** text with bytes outside printable ASCII as '?', both cut at 32 bytes.
** Returns a sqlite3_malloc'ed string, or NULL when out of memory.
*/
char *ps_value_shown(sqlite3_value *v) {
  const unsigned char *p;
  int n;
  sqlite3_str *s = sqlite3_str_new(NULL);
  if (sqlite3_value_type(v) == SQLITE_BLOB) {
    p = sqlite3_value_blob(v);
    n = sqlite3_value_bytes(v);
    sqlite3_str_appendall(s, "x'");
    for (int i = 0; i < n && i < 32; i++) sqlite3_str_appendf(s, "%02x", p[i]);
    sqlite3_str_appendall(s, n > 32 ? "...'" : "'");
  } else {
    p = sqlite3_value_text(v);
    n = sqlite3_value_bytes(v);
    sqlite3_str_appendchar(s, 1, '\'');
    for (int i = 0; p && i < n && i < 32; i++)
      sqlite3_str_appendchar(s, 1, p[i] >= 32 && p[i] < 127 ? (char)p[i] : '?');
    sqlite3_str_appendall(s, n > 32 ? "...'" : "'");
  }
  return sqlite3_str_finish(s);
}

/*
** A value as a whole number: integers, integral reals and text that reads
** as one ('12', '12.0'). Returns 1 and sets *x, or 0.
*/
int ps_value_whole(sqlite3_value *v, long long *x) {
  int t = sqlite3_value_numeric_type(v);
  if (t == SQLITE_INTEGER) {
    *x = sqlite3_value_int64(v);
    return 1;
  }
  double r = sqlite3_value_double(v);
  if (t == SQLITE_FLOAT && r >= -9.2e18 && r <= 9.2e18 && r == (double)(long long)r) {
    *x = (long long)r;
    return 1;
  }
  return 0;
}

/*
** Call fn(ctx, value) for the value of one argv slot, or for every value of
** an IN list handed over whole (whole != 0). Stops at fn's first error.
*/
int ps_value_each(sqlite3_value *arg, int whole, int (*fn)(void *, sqlite3_value *), void *ctx) {
  if (!whole) return fn(ctx, arg);
  sqlite3_value *v;
  int rc;
  for (rc = sqlite3_vtab_in_first(arg, &v); rc == SQLITE_OK && v; rc = sqlite3_vtab_in_next(arg, &v)) {
    int r = fn(ctx, v);
    if (r != SQLITE_OK) return r;
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}
