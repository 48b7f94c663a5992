/*
** format.c: SQL functions that print values the way procps ps does.
**
**   SELECT pid, ps_etime(etime), ps_cputime(time) FROM ps;
**   SELECT ps_etime(93784);     -- '1-02:03:04'
**   SELECT ps_etime(59.9);      -- '00:59'
**   SELECT ps_cputime(4);       -- '00:00:04'
**   SELECT pid, ps_printable(args) FROM ps;   -- one line per process
**   SELECT ps_printable('a' || char(10) || 'b' || char(27) || '[31m');  -- 'a?b?[31m'
**
** ps_etime(seconds)   -> [[dd-]hh:]mm:ss, as ps -o etime
** ps_cputime(seconds) -> [dd-]hh:mm:ss,   as ps -o time (cputime)
** Seconds are truncated to whole seconds, as ps does; negative values
** count as 0; NULL gives NULL; a value that is not a number is an error.
**
** ps_printable(text)  -> the text with every control character replaced by
** '?', as ps prints a command line in a UTF-8 locale: the bytes 0x00-0x1f
** and 0x7f, the C1 controls U+0080-U+009F, and each byte that is not part
** of a valid UTF-8 sequence (a stray continuation byte, a truncated
** sequence, an overlong form, a surrogate, anything above U+10FFFF), and
** U+FFFD: the tables' text is UTF-8, with U+FFFD where the bytes a process
** chose were not (ext/values.c), so their invalid bytes print as '?' too,
** one per ill-formed sequence (ps prints one per byte: a truncated E2 82
** is "??" there, "?" here; ps_printable(args_raw) would not do, its NULs
** are control characters). Every other character is kept as it is, so the
** result prints on one line, sends no escape sequence to a terminal, and
** is well-formed UTF-8 (src/utf8.c's rules). NULL gives NULL; a number or
** a blob is read as its text. (ps itself prints a newline in a command
** line as a space, before this step: sql/ps_ef.sql does that too.)
*/
#include "ps.h"

#include <string.h>

#include "procfs.h"

/* The argument as whole seconds, or -1 after reporting an error. */
static sqlite3_int64 seconds(sqlite3_context *ctx, sqlite3_value *v, const char *fn) {
  int t = sqlite3_value_numeric_type(v);
  if (t != SQLITE_INTEGER && t != SQLITE_FLOAT) {
    char *m = sqlite3_mprintf("%s: argument must be a number of seconds", fn);
    if (m)
      sqlite3_result_error(ctx, m, -1);
    else
      sqlite3_result_error_nomem(ctx);
    sqlite3_free(m);
    return -1;
  }
  double d = sqlite3_value_double(v);
  if (!(d > 0)) return 0;
  if (d > 9.2e18) d = 9.2e18;
  return (sqlite3_int64)d;
}

/* The two formats; the function's user data says which. */
struct timefmt {
  const char *name; /* the SQL function */
  int short_hours;  /* etime drops "hh:" under an hour; cputime never does */
};
static const struct timefmt etime_fmt = {"ps_etime", 1}, cputime_fmt = {"ps_cputime", 0};

/* ps_etime(seconds): [[dd-]hh:]mm:ss; ps_cputime(seconds): [dd-]hh:mm:ss */
static void fn_time(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const struct timefmt *f = sqlite3_user_data(ctx);
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  sqlite3_int64 t = seconds(ctx, argv[0], f->name);
  if (t < 0) return;
  sqlite3_int64 ss = t % 60, mm = t / 60 % 60, hh = t / 3600 % 24, dd = t / 86400;
  char buf[64];
  if (dd)
    sqlite3_snprintf(sizeof buf, buf, "%lld-%02lld:%02lld:%02lld", dd, hh, mm, ss);
  else if (hh || !f->short_hours)
    sqlite3_snprintf(sizeof buf, buf, "%02lld:%02lld:%02lld", hh, mm, ss);
  else
    sqlite3_snprintf(sizeof buf, buf, "%02lld:%02lld", mm, ss);
  sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/*
** ps_printable(text): the text with control characters, U+FFFD and invalid
** UTF-8 replaced by '?', one '?' per character or per invalid byte (as
** ps's escape_str does), so that a hostile command line cannot break a line of
** output or reach the terminal as an escape sequence. NULL for NULL.
*/
static void fn_printable(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  const unsigned char *in = sqlite3_value_text(argv[0]);
  size_t n = (size_t)sqlite3_value_bytes(argv[0]);
  /* each replaced character or byte becomes one byte: never longer */
  char *out = in ? sqlite3_malloc64(n + 1) : 0;
  if (!out) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    unsigned cp;
    int len = psnap_utf8_next(in + i, n - i, &cp);
    if (len < 0) {
      out[o++] = '?'; /* one per byte, not per maximal subpart: as ps */
      i++;
    } else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0xfffd) {
      out[o++] = '?';
      i += (size_t)len;
    } else {
      memcpy(out + o, in + i, (size_t)len);
      o += (size_t)len;
      i += (size_t)len;
    }
  }
  out[o] = '\0';
  sqlite3_result_text64(ctx, out, o, sqlite3_free, SQLITE_UTF8);
}

/* Register the formatting functions. */
int ps_register_format(sqlite3 *db) {
  int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  int rc = sqlite3_create_function(db, "ps_etime", 1, flags, (void *)&etime_fmt, fn_time, 0, 0);
  if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "ps_cputime", 1, flags, (void *)&cputime_fmt, fn_time, 0, 0);
  if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "ps_printable", 1, flags, 0, fn_printable, 0, 0);
  return rc;
}
