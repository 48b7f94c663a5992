/*
** values.c: values going into and out of SQL.
**
** Out: ps_result_text() is the one place where text of the extension
** becomes an SQL TEXT value, for every table (ps, ps_threads, ps_fds,
** ps_sockets, ps_namespaces, ps_descriptors). SQLite's TEXT is UTF-8, and
** the bytes /proc gives are whatever a process chose: prctl(PR_SET_NAME)
** takes any bytes but NUL, and so do argv, paths and a unix socket's name.
** Handed over raw, such text makes Python's sqlite3 raise on reading it,
** and Node and Go each decode it their own way. So every TEXT value is
** well-formed UTF-8: each ill-formed sequence (a stray or missing
** continuation byte, an overlong form, a surrogate, anything above
** U+10FFFF) becomes U+FFFD, one per maximal subpart (the Unicode
** standard's rule, which WHATWG's decoder and Python's
** bytes.decode('utf-8', 'replace') follow, so a client can compare exactly;
** src/utf8.c). Valid text, the common case, costs one validation pass
** and no copy of ours; repaired text is built in one sqlite3_malloc'ed
** buffer that SQLite frees.
**
** In: the values of constraints as the tables read them in xFilter: a
** value shown safely in an error message, a value as a whole number, and
** each value of an IN list handed over whole (sqlite3_vtab_in).
**
** Used by ext/ps.c (ps), ext/fds.c (ps_fds, ps_sockets),
** ext/namespaces.c and ext/descriptors.c.
*/
#include "ps.h"

#include <stddef.h>
#include <string.h>

#include "procfs.h"

/*
** Set the result to n bytes of text as well-formed UTF-8: as they are
** when they are, else a copy with each maximal ill-formed subpart
** replaced by U+FFFD. A NULL s is an empty text (callers test for SQL
** NULL before). On allocation failure the result is SQLITE_NOMEM.
*/
void ps_result_text(sqlite3_context *ctx, const char *s, size_t n) {
  if (!s) s = "", n = 0;
  size_t ok = psnap_utf8_valid(s, n);
  if (ok == n) {
    sqlite3_result_text64(ctx, s, n, SQLITE_TRANSIENT, SQLITE_UTF8);
    return;
  }
  size_t len = ok + psnap_utf8_repaired_len(s + ok, n - ok);
  char *out = sqlite3_malloc64(len + 1);
  if (!out) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  memcpy(out, s, ok);
  psnap_utf8_repair(s + ok, n - ok, out + ok);
  out[len] = '\0';
  sqlite3_result_text64(ctx, out, len, sqlite3_free, SQLITE_UTF8);
}

/* Set the result to n bytes as a BLOB, exactly (an empty one for n 0). */
void ps_result_blob(sqlite3_context *ctx, const void *p, size_t n) {
  sqlite3_result_blob64(ctx, p && n ? p : "", n, SQLITE_TRANSIENT);
}

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
